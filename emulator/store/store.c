/*
 * store.c - opening, migrating and sharing the SQLite database (see store.h).
 *
 * Owns: the database file (or the temporary directory behind :memory:), one connection per
 * thread (registered so close can reach them all), each connection's statement cache, and
 * the schema migration by PRAGMA user_version over the sections of the embedded schema.sql.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "embedded.h"
#include "store/db.h"
#include "store/snapshot.h"

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};

struct pd_db {
    sqlite3 *h;
    struct stmt_slot *slots; /* open addressing by SQL address */
    size_t nslots, used;
    int in_txn;
    struct pd_db *next; /* registry of the store's connections */
};

struct pd_store {
    char *path;        /* database file */
    char *dir;         /* directory holding it */
    char *objects_dir; /* S3 object bytes */
    int temporary;     /* :memory: - remove dir at close */
    int sync_full;
    pthread_key_t key; /* this thread's struct pd_db */
    pthread_mutex_t mu;
    struct pd_db *all;
};

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return PD_EINVAL;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return PD_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return PD_EIO;
    return PD_OK;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int configure(struct pd_store *s, sqlite3 *h)
{
    const char *sync = s->temporary ? "OFF" : s->sync_full ? "FULL" : "NORMAL";
    char sql[256];
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
             "PRAGMA temp_store=MEMORY;",
             sync);
    sqlite3_busy_timeout(h, 10000);
    char *err = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK) {
        pd_log(PD_LOG_ERROR, "store: configuring %s: %s", s->path, err ? err : "?");
        sqlite3_free(err);
        return PD_EIO;
    }
    return PD_OK;
}

static struct pd_db *db_open(struct pd_store *s)
{
    sqlite3 *h = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(s->path, &h, flags, NULL) != SQLITE_OK || configure(s, h)) {
        pd_log(PD_LOG_ERROR, "store: cannot open %s: %s", s->path,
               h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close(h);
        return NULL;
    }
    struct pd_db *db = pd_xcalloc(1, sizeof *db);
    db->h = h;
    db->nslots = 64;
    db->slots = pd_xcalloc(db->nslots, sizeof *db->slots);
    pthread_mutex_lock(&s->mu);
    db->next = s->all;
    s->all = db;
    pthread_mutex_unlock(&s->mu);
    return db;
}

static void db_close(struct pd_db *db)
{
    for (size_t i = 0; i < db->nslots; i++)
        if (db->slots[i].st)
            sqlite3_finalize(db->slots[i].st);
    free(db->slots);
    sqlite3_close(db->h);
    free(db);
}

/* Apply the sections of schema.sql ("-- version N" headers) above the current version. */
static int migrate(struct pd_db *db, char **OUT_err)
{
    const struct pd_embedded *e = pd_embedded_find("schema.sql");
    if (!e) {
        *OUT_err = pd_xstrdup("schema.sql is not embedded");
        return PD_EINTERNAL;
    }
    int current = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            current = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    int rc = pd_db_begin(db, 1);
    if (rc) {
        *OUT_err = pd_xstrdup("cannot lock the database for migration");
        return rc;
    }
    const char *p = e->data;
    int version = 0, applied = current;
    while (p && *p) {
        const char *hdr = strstr(p, "-- version ");
        if (!hdr)
            break;
        version = (int)strtol(hdr + 11, NULL, 10);
        const char *body = strchr(hdr, '\n');
        if (!body)
            break;
        const char *end = strstr(body, "-- version ");
        size_t n = end ? (size_t)(end - body) : strlen(body);
        if (version > current) {
            char *sql = pd_xstrndup(body, n);
            char *err = NULL;
            int src = sqlite3_exec(db->h, sql, NULL, NULL, &err);
            free(sql);
            if (src != SQLITE_OK) {
                size_t len = 64 + (err ? strlen(err) : 0);
                *OUT_err = pd_xmalloc(len);
                snprintf(*OUT_err, len, "schema version %d: %s", version, err ? err : "?");
                sqlite3_free(err);
                pd_db_rollback(db);
                return PD_EIO;
            }
            applied = version;
        }
        p = end;
    }
    if (applied != current) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", applied);
        sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    }
    rc = pd_db_commit(db);
    if (rc)
        *OUT_err = pd_xstrdup(sqlite3_errmsg(db->h));
    return rc;
}

/* Process-wide SQLite settings, before the first connection: no memory statistics (their
 * global mutex is taken on every allocation, a point of contention between workers). */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* The state holds the master key, the CA key and every secret: create its file 0600 in
 * whatever directory it is (SQLite gives its -wal and -shm files the same mode), and warn
 * about an existing one that others may read. */
static int own_file(const char *path, char **OUT_err)
{
    char buf[PATH_MAX + 64];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(buf, sizeof buf, "cannot open %s: %s", path, strerror(errno));
        *OUT_err = pd_xstrdup(buf);
        return PD_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        pd_log(PD_LOG_WARN,
               "%s is readable by others (mode %03o) and holds podiam's keys and every secret: "
               "chmod 600 it",
               path, (unsigned)(st.st_mode & 0777));
    close(fd);
    return PD_OK;
}

int pd_store_open(const char *path, int sync_full, struct pd_store **OUT, char **OUT_err)
{
    pthread_once(&sqlite_once, sqlite_setup);
    struct pd_store *s = pd_xcalloc(1, sizeof *s);
    s->sync_full = sync_full;
    pthread_mutex_init(&s->mu, NULL);
    pthread_key_create(&s->key, NULL);
    *OUT_err = NULL;
    char buf[PATH_MAX];

    if (strcmp(path, ":memory:") == 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(buf, sizeof buf, "%s/podiam-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(buf)) {
            *OUT_err = pd_xstrdup("cannot create a temporary directory for :memory: state");
            goto fail;
        }
        s->temporary = 1;
        s->dir = pd_xstrdup(buf);
        snprintf(buf, sizeof buf, "%s/state.db", s->dir);
        s->path = pd_xstrdup(buf);
    } else {
        s->path = pd_xstrdup(path);
        const char *slash = strrchr(path, '/');
        s->dir =
            slash ? pd_xstrndup(path, (size_t)(slash - path) + (slash == path)) : pd_xstrdup(".");
        if (mkdir_p(s->dir)) {
            snprintf(buf, sizeof buf, "cannot create directory %s: %s", s->dir, strerror(errno));
            *OUT_err = pd_xstrdup(buf);
            goto fail;
        }
    }
    snprintf(buf, sizeof buf, "%s.objects", s->path);
    s->objects_dir = pd_xstrdup(buf);
    if (mkdir_p(s->objects_dir)) {
        snprintf(buf, sizeof buf, "cannot create directory %s: %s", s->objects_dir,
                 strerror(errno));
        *OUT_err = pd_xstrdup(buf);
        goto fail;
    }
    if (own_file(s->path, OUT_err))
        goto fail;
    struct pd_db *db = db_open(s);
    if (!db) {
        snprintf(buf, sizeof buf, "cannot open database %s", s->path);
        *OUT_err = pd_xstrdup(buf);
        goto fail;
    }
    pthread_setspecific(s->key, db);
    if (migrate(db, OUT_err))
        goto fail;
    *OUT = s;
    return PD_OK;
fail:
    pd_store_close(s);
    return PD_EIO;
}

void pd_store_close(struct pd_store *s)
{
    if (!s)
        return;
    struct pd_db *db = s->all;
    while (db) {
        struct pd_db *next = db->next;
        db_close(db);
        db = next;
    }
    if (s->temporary && s->dir)
        nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s->dir);
    free(s->objects_dir);
    free(s);
}

struct pd_db *pd_store_db(struct pd_store *s)
{
    struct pd_db *db = pthread_getspecific(s->key);
    if (db)
        return db;
    db = db_open(s);
    if (!db) {
        pd_log(PD_LOG_ERROR, "store: cannot open a connection for a worker thread");
        abort();
    }
    pthread_setspecific(s->key, db);
    return db;
}

const char *pd_store_objects_dir(const struct pd_store *s)
{
    return s->objects_dir;
}

const char *pd_store_path(const struct pd_store *s)
{
    return s->path;
}

const char *pd_store_dir(const struct pd_store *s)
{
    return s->dir;
}

int pd_db_rc(struct pd_db *db, int src)
{
    switch (src & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return PD_OK;
    case SQLITE_CONSTRAINT:
        return PD_ECONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return PD_EBUSY;
    case SQLITE_TOOBIG:
        return PD_ETOOBIG;
    default:
        pd_log(PD_LOG_ERROR, "store: %s", sqlite3_errmsg(db->h));
        return PD_EIO;
    }
}

int pd_db_begin(struct pd_db *db, int write)
{
    int rc =
        pd_db_rc(db, sqlite3_exec(db->h, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL));
    if (!rc)
        db->in_txn = 1;
    return rc;
}

int pd_db_commit(struct pd_db *db)
{
    int rc = pd_db_rc(db, sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL));
    if (rc)
        pd_db_rollback(db);
    db->in_txn = 0;
    return rc;
}

void pd_db_rollback(struct pd_db *db)
{
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    db->in_txn = 0;
}

int pd_db_in_txn(const struct pd_db *db)
{
    return db->in_txn;
}

const char *pd_db_errmsg(struct pd_db *db)
{
    return sqlite3_errmsg(db->h);
}

sqlite3 *pd_db_handle(struct pd_db *db)
{
    return db->h;
}

static size_t slot_of(const struct pd_db *db, const char *sql)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 7) & (db->nslots - 1);
}

static void cache_grow(struct pd_db *db)
{
    struct stmt_slot *old = db->slots;
    size_t n = db->nslots;
    db->nslots *= 2;
    db->slots = pd_xcalloc(db->nslots, sizeof *db->slots);
    for (size_t i = 0; i < n; i++) {
        if (!old[i].sql)
            continue;
        size_t j = slot_of(db, old[i].sql);
        while (db->slots[j].sql)
            j = (j + 1) & (db->nslots - 1);
        db->slots[j] = old[i];
    }
    free(old);
}

sqlite3_stmt *pd_db_stmt(struct pd_db *db, const char *sql)
{
    size_t i = slot_of(db, sql);
    while (db->slots[i].sql) {
        if (db->slots[i].sql == sql) {
            sqlite3_stmt *st = db->slots[i].st;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
        i = (i + 1) & (db->nslots - 1);
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        pd_log(PD_LOG_ERROR, "store: prepare failed: %s: %s", sqlite3_errmsg(db->h), sql);
        return NULL;
    }
    db->slots[i].sql = sql;
    db->slots[i].st = st;
    if (++db->used * 10 > db->nslots * 7)
        cache_grow(db);
    return st;
}

int pd_db_exec_stmt(struct pd_db *db, sqlite3_stmt *st)
{
    if (!st)
        return PD_EINTERNAL;
    int src = sqlite3_step(st);
    int rc = pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

int pd_db_col_texts(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st, const char ***OUT,
                    size_t *OUT_n)
{
    const char **v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n++] = pd_db_col_text(a, st, 0);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
        return pd_db_rc(db, src);
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}

char *pd_db_col_text(struct pd_arena *a, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t)
        return NULL;
    return pd_arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, col));
}

void pd_db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, idx);
}

int pd_db_meta_get(struct pd_db *db, struct pd_arena *a, const char *key, char **OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT value FROM meta WHERE key = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, key);
    int src = sqlite3_step(st);
    int rc = PD_ENOTFOUND;
    if (src == SQLITE_ROW) {
        *OUT = pd_db_col_text(a, st, 0);
        rc = PD_OK;
    } else if (src != SQLITE_DONE) {
        rc = pd_db_rc(db, src);
    }
    sqlite3_reset(st);
    return rc;
}

int pd_db_meta_put(struct pd_db *db, const char *key, const char *value)
{
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT INTO meta(key, value) VALUES(?1, ?2) "
                                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, key);
    pd_db_bind_text(st, 2, value);
    return pd_db_exec_stmt(db, st);
}

int pd_db_wipe(struct pd_db *db)
{
    sqlite3_stmt *st = NULL;
    int rc = PD_OK;
    /* Collect names first: dropping rows while iterating sqlite_master is fine, but keep the
     * statement simple. Tables are ours; names come from the schema, not from clients. */
    if (sqlite3_prepare_v2(db->h,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name "
                           "NOT IN ('meta') AND name NOT LIKE 'sqlite_%'",
                           -1, &st, NULL) != SQLITE_OK)
        return PD_EIO;
    char *names[128];
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < 128)
        names[n++] = pd_xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_exec(db->h, "PRAGMA defer_foreign_keys=ON", NULL, NULL, NULL);
    for (int i = 0; i < n; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", names[i]);
        if (!rc && sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
            rc = pd_db_rc(db, sqlite3_errcode(db->h));
        free(names[i]);
    }
    return rc;
}
