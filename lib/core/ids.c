/* ids.c - seedable id generator (see ids.h). */
#include "ids.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void pd_ids_init(struct pd_ids *g, int seeded, uint64_t seed)
{
    pthread_mutex_init(&g->mu, NULL);
    if (!seeded) {
        if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
            seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)g;
    }
    for (int i = 0; i < 4; i++)
        g->s[i] = splitmix(&seed);
}

void pd_ids_reseed(struct pd_ids *g, uint64_t seed)
{
    pthread_mutex_lock(&g->mu);
    for (int i = 0; i < 4; i++)
        g->s[i] = splitmix(&seed);
    pthread_mutex_unlock(&g->mu);
}

void pd_ids_cleanup(struct pd_ids *g)
{
    pthread_mutex_destroy(&g->mu);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_locked(struct pd_ids *g)
{
    uint64_t *s = g->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t pd_ids_next(struct pd_ids *g)
{
    pthread_mutex_lock(&g->mu);
    uint64_t v = next_locked(g);
    pthread_mutex_unlock(&g->mu);
    return v;
}

static void fill(struct pd_ids *g, const char *alphabet, size_t alen, size_t n, char *out)
{
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[next_locked(g) % alen];
    pthread_mutex_unlock(&g->mu);
    out[n] = '\0';
}

void pd_ids_unique(struct pd_ids *g, const char *prefix, size_t n, char *out)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t p = strlen(prefix);
    memcpy(out, prefix, p);
    fill(g, b32, 32, n > p ? n - p : 0, out + p);
}

void pd_ids_secret(struct pd_ids *g, char out[41])
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fill(g, a, 64, 40, out);
}

void pd_ids_hex(struct pd_ids *g, size_t n, int upper, char *out)
{
    fill(g, upper ? "0123456789ABCDEF" : "0123456789abcdef", 16, n, out);
}

void pd_ids_uuid(struct pd_ids *g, char out[37])
{
    char h[33];
    pd_ids_hex(g, 32, 0, h);
    h[12] = '4';
    h[16] = "89ab"[(h[16] <= '9' ? h[16] - '0' : h[16] - 'a' + 10) & 3];
    memcpy(out, h, 8);
    out[8] = '-';
    memcpy(out + 9, h + 8, 4);
    out[13] = '-';
    memcpy(out + 14, h + 12, 4);
    out[18] = '-';
    memcpy(out + 19, h + 16, 4);
    out[23] = '-';
    memcpy(out + 24, h + 20, 12);
    out[36] = '\0';
}
