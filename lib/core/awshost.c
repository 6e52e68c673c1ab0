/* awshost.c - the AWS endpoint host grammar (see awshost.h). */
#include "core/awshost.h"

#include <string.h>

#define MAX_LABELS 128

struct labels {
    char h[PD_AWSHOST_MAX + 1]; /* the host, lower case */
    size_t off[MAX_LABELS], len[MAX_LABELS];
    size_t n;
};

/* Split into labels of [a-z0-9-], 1..63 each. 0 when host is no DNS name. */
static int split(const char *host, size_t n, struct labels *L)
{
    if (n == 0 || n > PD_AWSHOST_MAX)
        return 0;
    L->n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? host[i] : '.';
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (i < n)
            L->h[i] = c;
        if (c == '.') {
            size_t len = i - start;
            if (len == 0 || len > 63 || L->n == MAX_LABELS)
                return 0;
            L->off[L->n] = start;
            L->len[L->n++] = len;
            start = i + 1;
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return 0;
        }
    }
    L->h[n] = '\0';
    return 1;
}

static int is(const struct labels *L, size_t i, const char *word)
{
    size_t wl = strlen(word);
    return L->len[i] == wl && memcmp(L->h + L->off[i], word, wl) == 0;
}

static int letters(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return 0;
    return n > 0;
}

int pd_awshost_region_ok(const char *s, size_t n)
{
    /* words separated by single dashes: [a-z]{2} ([a-z]{1,16}){1,3} [0-9]{1,2} */
    const char *w[6];
    size_t wl[6], nw = 0, start = 0;
    if (n < 6 || n > 40)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '-') {
            if (nw == 6 || i == start)
                return 0;
            w[nw] = s + start;
            wl[nw++] = i - start;
            start = i + 1;
        }
    }
    if (nw < 3 || nw > 5 || wl[0] != 2 || !letters(w[0], 2))
        return 0;
    for (size_t i = 1; i + 1 < nw; i++)
        if (wl[i] > 16 || !letters(w[i], wl[i]))
            return 0;
    const char *d = w[nw - 1];
    size_t dl = wl[nw - 1];
    if (dl > 2)
        return 0;
    for (size_t i = 0; i < dl; i++)
        if (d[i] < '0' || d[i] > '9')
            return 0;
    return 1;
}

static int region_at(const struct labels *L, size_t i)
{
    return pd_awshost_region_ok(L->h + L->off[i], L->len[i]);
}

static void set_region(struct pd_awshost *o, const struct labels *L, size_t i)
{
    o->region_off = L->off[i];
    o->region_len = L->len[i];
}

/* Are labels [i, k) one of S3's endpoints (before "amazonaws.com")? Fills o. */
static int s3_endpoint(const struct labels *L, size_t i, size_t k, struct pd_awshost *o)
{
    size_t m = k - i;
    if (m == 1) {
        if (is(L, i, "s3") || is(L, i, "s3-external-1"))
            return 1;
        /* legacy s3-REGION, s3-fips-REGION is no form AWS has */
        if (L->len[i] > 3 && memcmp(L->h + L->off[i], "s3-", 3) == 0 &&
            pd_awshost_region_ok(L->h + L->off[i] + 3, L->len[i] - 3)) {
            o->region_off = L->off[i] + 3;
            o->region_len = L->len[i] - 3;
            return 1;
        }
        return 0;
    }
    int fips = is(L, i, "s3-fips");
    if (!fips && !is(L, i, "s3"))
        return 0;
    if (m == 2 && region_at(L, i + 1)) {
        o->fips = fips;
        set_region(o, L, i + 1);
        return 1;
    }
    if (m == 3 && is(L, i + 1, "dualstack") && region_at(L, i + 2)) {
        o->fips = fips;
        o->dualstack = 1;
        set_region(o, L, i + 2);
        return 1;
    }
    return 0;
}

/* Labels [0, k) in front of "amazonaws.com". */
static enum pd_awshost_svc amazonaws(const struct labels *L, size_t k, struct pd_awshost *o)
{
    if (k == 1) {
        if (is(L, 0, "sts"))
            return PD_AWSHOST_STS;
        if (is(L, 0, "iam"))
            return PD_AWSHOST_IAM;
        if (is(L, 0, "iam-fips")) {
            o->fips = 1;
            return PD_AWSHOST_IAM;
        }
    } else if (k == 2 && region_at(L, 1)) {
        static const struct {
            const char *name;
            enum pd_awshost_svc svc;
            int fips;
        } regional[] = {{"sts", PD_AWSHOST_STS, 0},
                        {"sts-fips", PD_AWSHOST_STS, 1},
                        {"eks", PD_AWSHOST_EKS, 0},
                        {"eks-fips", PD_AWSHOST_EKS, 1},
                        {"organizations", PD_AWSHOST_ORGANIZATIONS, 0}};
        for (size_t j = 0; j < sizeof regional / sizeof regional[0]; j++) {
            if (is(L, 0, regional[j].name)) {
                o->fips = regional[j].fips;
                set_region(o, L, 1);
                return regional[j].svc;
            }
        }
    } else if (k == 3 && is(L, 0, "oidc") && is(L, 1, "eks") && region_at(L, 2)) {
        set_region(o, L, 2);
        return PD_AWSHOST_OIDC;
    }
    /* S3 with no bucket, then BUCKET.S3-ENDPOINT with the fewest labels in the bucket */
    for (size_t i = 0; i < k; i++) {
        struct pd_awshost t;
        memset(&t, 0, sizeof t);
        if (s3_endpoint(L, i, k, &t)) {
            *o = t;
            o->bucket_len = i ? L->off[i] - 1 : 0;
            return PD_AWSHOST_S3;
        }
    }
    return PD_AWSHOST_NONE;
}

enum pd_awshost_svc pd_awshost_parse(const char *host, size_t n, struct pd_awshost *OUT)
{
    struct labels L;
    struct pd_awshost o;
    memset(&o, 0, sizeof o);
    enum pd_awshost_svc svc = PD_AWSHOST_NONE;
    if (split(host, n, &L) && L.n >= 3) {
        size_t k = L.n - 2;
        if (is(&L, L.n - 2, "amazonaws") && is(&L, L.n - 1, "com")) {
            svc = amazonaws(&L, k, &o);
        } else if (is(&L, L.n - 2, "api") && is(&L, L.n - 1, "aws") && k == 2 &&
                   is(&L, 0, "eks-auth") && region_at(&L, 1)) {
            set_region(&o, &L, 1);
            svc = PD_AWSHOST_EKS_AUTH;
        }
    }
    if (svc == PD_AWSHOST_NONE)
        memset(&o, 0, sizeof o);
    o.svc = svc;
    if (OUT)
        *OUT = o;
    return svc;
}
