/*
 * bench_rss_floor.c - the resident memory of podiam's libraries before podiam does anything.
 *
 * W5 asks for an idle RSS of at most 10 MiB. This program links what podiam links, then does
 * the least podiam must do before it can answer: parse one JSON and one XML document, make one
 * P-256 key and one HMAC-SHA256 (OpenSSL fetches its providers on first use), open an in-memory
 * SQLite database with one table, and start a libmicrohttpd daemon with podiam's default pool of 8
 * threads on a loopback port. It prints VmRSS after each step; tests/bench/run shows the last
 * figure beside podiam's idle RSS. Nothing here is podiam's code, so the difference between the two
 * is what podiam itself keeps.
 *
 * Usage: bench_rss_floor [--last]   (--last: print only the final figure, in KiB)
 */
#include <arpa/inet.h>
#include <expat.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int verbose = 1;

static long rss_kib(const char *step)
{
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    if (verbose)
        printf("%-44s %6ld KiB\n", step, kib);
    return kib;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *body,
                              size_t *body_len, void **state)
{
    (void)cls, (void)c, (void)url, (void)method, (void)version, (void)body, (void)body_len,
        (void)state;
    return MHD_NO;
}

int main(int argc, char **argv)
{
    verbose = !(argc > 1 && strcmp(argv[1], "--last") == 0);
    rss_kib("libraries loaded (their constructors ran)");

    json_decref(json_loads("{\"a\":[1]}", 0, NULL));
    XML_Parser xp = XML_ParserCreate(NULL);
    XML_Parse(xp, "<a/>", 4, 1);
    XML_ParserFree(xp);
    rss_kib("+ one JSON and one XML document parsed");

    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), "k", 1, (const unsigned char *)"x", 1, mac, &mac_len);
    rss_kib("+ OpenSSL: one P-256 key, one HMAC-SHA256");

    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db, "CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB); INSERT INTO t VALUES('a',1)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
        return 1;
    }
    rss_kib("+ SQLite: an in-memory database, one table");

    struct sockaddr_in loopback = {.sin_family = AF_INET};
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* port 0: any free one */
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, answer,
                         NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&loopback,
                         MHD_OPTION_THREAD_POOL_SIZE, 8u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "libmicrohttpd: the daemon did not start\n");
        return 1;
    }
    usleep(100 * 1000); /* let the threads settle */
    long last = rss_kib("+ libmicrohttpd: a daemon with 8 threads");
    if (!verbose)
        printf("%ld\n", last);

    MHD_stop_daemon(d);
    sqlite3_close(db);
    EVP_PKEY_free(key);
    return 0;
}
