/*
 * x509.c - podiam's CA and server certificates (see x509.h).
 *
 * Built with OpenSSL's X509 and X509V3 APIs; SANs are assembled as GENERAL_NAMEs (not from a
 * config string) so no caller-supplied name can inject extra entries. The listener's
 * certificate and the minter's per-name leaves share one issuing path (issue_leaf).
 */
#include "crypto/x509.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"

/* "*.localhost" matches only for Go clients: OpenSSL and Node refuse a wildcard with a single
 * label after it. Virtual-host S3 (BUCKET.s3.localhost) is served by "*.s3.localhost". */
static const char *const default_names[] = {"localhost", "*.localhost",  "127.0.0.1",
                                            "::1",       "s3.localhost", "*.s3.localhost"};

int pd_x509_name_kind(const char *s)
{
    unsigned char ip[16];
    if (!s || !*s)
        return 0;
    if (inet_pton(AF_INET, s, ip) == 1 || inet_pton(AF_INET6, s, ip) == 1)
        return 1;
    size_t len = strlen(s);
    if (len > 253)
        return 0;
    const char *p = s;
    if (p[0] == '*') { /* wildcard: exactly "*." before at least one more label */
        if (p[1] != '.')
            return 0;
        p += 2;
    }
    /* labels: 1..63 of [A-Za-z0-9-], not starting or ending with '-' */
    size_t label = 0;
    char prev = '.';
    for (; *p; p++) {
        char c = *p;
        if (c == '.') {
            if (label == 0 || prev == '-')
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-') {
            if (label == 0 && c == '-')
                return 0;
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
        prev = c;
    }
    if (label == 0 || prev == '-')
        return 0;
    return 2;
}

static char *cert_to_pem(X509 *x, struct pd_arena *a)
{
    char *out = NULL, *data = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio && PEM_write_bio_X509(bio, x) == 1) {
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data)
            out = pd_arena_strndup(a, data, (size_t)n);
    }
    BIO_free(bio);
    return out;
}

static X509 *cert_from_pem(const char *pem, size_t len)
{
    if (!pem || len == 0 || len > 1024 * 1024)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return x;
}

/* Positive serial of 16 random bytes with the top bit clear and a non-zero first byte, so its
 * DER is exactly 16 bytes and never negative or zero (Go rejects both). */
static int set_serial(X509 *x)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return PD_EINTERNAL;
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
    BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? PD_OK : PD_EINTERNAL;
}

static int set_validity(X509 *x, int64_t now, int days)
{
    time_t nb = (time_t)(now - PD_X509_BACKDATE);
    time_t na = (time_t)(now + (int64_t)days * 86400);
    if (!ASN1_TIME_set(X509_getm_notBefore(x), nb) || !ASN1_TIME_set(X509_getm_notAfter(x), na))
        return PD_EINTERNAL;
    return PD_OK;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    if (!ext)
        return PD_EINTERNAL;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? PD_OK : PD_EINTERNAL;
}

static int add_name(X509_NAME *n, const char *field, const char *value)
{
    return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)value, -1, -1,
                                      0) == 1
               ? PD_OK
               : PD_EINTERNAL;
}

int pd_x509_ca_new(enum pd_key_kind kind, int64_t now, struct pd_arena *a, char **OUT_cert_pem,
                   char **OUT_key_pem)
{
    struct pd_key *key = NULL;
    X509 *x = NULL;
    X509_NAME *name = NULL;
    int rc = pd_key_generate(kind, &key);
    if (rc)
        return rc;
    rc = PD_EINTERNAL;
    EVP_PKEY *pkey = pd_key_evp(key);
    unsigned char r[4];
    char cn[64];
    if (RAND_bytes(r, sizeof r) != 1)
        goto out;
    snprintf(cn, sizeof cn, "podiam local CA %02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    x = X509_new();
    name = X509_NAME_new();
    if (!x || !name || X509_set_version(x, X509_VERSION_3) != 1)
        goto out;
    if (add_name(name, "O", "podiam") || add_name(name, "CN", cn))
        goto out;
    if (X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
        X509_set_pubkey(x, pkey) != 1 || set_serial(x) || set_validity(x, now, PD_X509_CA_DAYS))
        goto out;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
        add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
        goto out;
    if (X509_sign(x, pkey, EVP_sha256()) <= 0)
        goto out;
    char *cert = cert_to_pem(x, a);
    char *kpem = NULL;
    if (!cert || pd_key_to_pem(key, 1, a, &kpem))
        goto out;
    *OUT_cert_pem = cert;
    *OUT_key_pem = kpem;
    rc = PD_OK;
out:
    X509_NAME_free(name);
    X509_free(x);
    pd_key_free(key);
    if (rc)
        ERR_clear_error();
    return rc;
}

/* Append one SAN entry; kind from pd_x509_name_kind. */
static int push_san(GENERAL_NAMES *gens, const char *s, int kind)
{
    GENERAL_NAME *g = NULL;
    if (kind == 1) {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(s);
        if (!ip)
            return PD_EINVAL;
        g = GENERAL_NAME_new();
        if (!g) {
            ASN1_OCTET_STRING_free(ip);
            return PD_EINTERNAL;
        }
        GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
    } else {
        ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
        if (!dns || ASN1_STRING_set(dns, s, (int)strlen(s)) != 1) {
            ASN1_IA5STRING_free(dns);
            return PD_EINTERNAL;
        }
        g = GENERAL_NAME_new();
        if (!g) {
            ASN1_IA5STRING_free(dns);
            return PD_EINTERNAL;
        }
        GENERAL_NAME_set0_value(g, GEN_DNS, dns);
    }
    if (!sk_GENERAL_NAME_push(gens, g)) {
        GENERAL_NAME_free(g);
        return PD_EINTERNAL;
    }
    return PD_OK;
}

/* Case-insensitive for DNS names; IP literals compared by their bytes. */
static int same_name(const char *x, int kx, const char *y, int ky)
{
    if (kx != ky)
        return 0;
    if (kx == 1) {
        ASN1_OCTET_STRING *a = a2i_IPADDRESS(x), *b = a2i_IPADDRESS(y);
        int eq = a && b && ASN1_OCTET_STRING_cmp(a, b) == 0;
        ASN1_OCTET_STRING_free(a);
        ASN1_OCTET_STRING_free(b);
        return eq;
    }
    return strcasecmp(x, y) == 0;
}

static int build_sans(const char *const *names, size_t n, GENERAL_NAMES **OUT)
{
    if (n > PD_X509_MAX_NAMES)
        return PD_EINVAL;
    size_t nd = sizeof default_names / sizeof default_names[0], total = nd + n;
    const char *all[sizeof default_names / sizeof default_names[0] + PD_X509_MAX_NAMES];
    int kinds[sizeof default_names / sizeof default_names[0] + PD_X509_MAX_NAMES];
    for (size_t i = 0; i < total; i++) {
        all[i] = i < nd ? default_names[i] : names[i - nd];
        kinds[i] = pd_x509_name_kind(all[i]);
        if (kinds[i] == 0)
            return PD_EINVAL;
    }
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    if (!gens)
        return PD_EINTERNAL;
    for (size_t i = 0; i < total; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = same_name(all[i], kinds[i], all[j], kinds[j]);
        if (dup)
            continue;
        int rc = push_san(gens, all[i], kinds[i]);
        if (rc) {
            GENERAL_NAMES_free(gens);
            return rc;
        }
    }
    *OUT = gens;
    return PD_OK;
}

/* Sign a leaf certificate for pkey with the CA (ca, capk): subject O=podiam, CN=cn, SANs gens
 * (not taken). Arena PEM in *OUT. */
static int issue_leaf(X509 *ca, EVP_PKEY *capk, EVP_PKEY *pkey, const char *cn, GENERAL_NAMES *gens,
                      int64_t now, struct pd_arena *a, char **OUT)
{
    int rc = PD_EINTERNAL;
    X509 *x = X509_new();
    X509_NAME *subj = X509_NAME_new();
    if (!x || !subj || X509_set_version(x, X509_VERSION_3) != 1)
        goto out;
    if (add_name(subj, "O", "podiam") || add_name(subj, "CN", cn))
        goto out;
    if (X509_set_subject_name(x, subj) != 1 ||
        X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1 || X509_set_pubkey(x, pkey) != 1 ||
        set_serial(x) || set_validity(x, now, PD_X509_SERVER_DAYS))
        goto out;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
    int is_rsa = EVP_PKEY_is_a(pkey, "RSA");
    if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(x, &ctx, NID_key_usage,
                is_rsa ? "critical,digitalSignature,keyEncipherment"
                       : "critical,digitalSignature") ||
        add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
        goto out;
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
        goto out;
    if (X509_sign(x, capk, EVP_sha256()) <= 0)
        goto out;
    char *cert = cert_to_pem(x, a);
    if (!cert)
        goto out;
    *OUT = cert;
    rc = PD_OK;
out:
    X509_NAME_free(subj);
    X509_free(x);
    return rc;
}

/* Parse the CA (certificate and private key PEM) and check they belong together and make a CA.
 * PD_OK or PD_EINVAL; on success the caller frees *OUT_ca and *OUT_key. */
static int load_ca(const char *ca_cert_pem, const char *ca_key_pem, X509 **OUT_ca,
                   struct pd_key **OUT_key)
{
    struct pd_key *cakey = NULL;
    X509 *ca = cert_from_pem(ca_cert_pem, ca_cert_pem ? strlen(ca_cert_pem) : 0);
    if (!ca || !ca_key_pem ||
        pd_key_from_pem(ca_key_pem, strlen(ca_key_pem), PD_JWA_INVALID, &cakey) ||
        !pd_key_has_private(cakey) || X509_check_private_key(ca, pd_key_evp(cakey)) != 1 ||
        X509_check_ca(ca) < 1) {
        X509_free(ca);
        pd_key_free(cakey);
        ERR_clear_error();
        return PD_EINVAL;
    }
    *OUT_ca = ca;
    *OUT_key = cakey;
    return PD_OK;
}

int pd_x509_server_new(const char *ca_cert_pem, const char *ca_key_pem, enum pd_key_kind kind,
                       const char *const *names, size_t n, int64_t now, struct pd_arena *a,
                       char **OUT_cert_pem, char **OUT_key_pem)
{
    struct pd_key *cakey = NULL, *key = NULL;
    X509 *ca = NULL;
    GENERAL_NAMES *gens = NULL;
    int rc = build_sans(names, n, &gens);
    if (rc)
        return rc;
    rc = load_ca(ca_cert_pem, ca_key_pem, &ca, &cakey);
    if (rc)
        goto out;
    rc = pd_key_generate(kind, &key);
    if (rc)
        goto out;
    char *cert = NULL, *kpem = NULL;
    rc = issue_leaf(ca, pd_key_evp(cakey), pd_key_evp(key), "localhost", gens, now, a, &cert);
    if (rc == PD_OK && pd_key_to_pem(key, 1, a, &kpem))
        rc = PD_EINTERNAL;
    if (rc == PD_OK) {
        *OUT_cert_pem = cert;
        *OUT_key_pem = kpem;
    }
out:
    GENERAL_NAMES_free(gens);
    X509_free(ca);
    pd_key_free(key);
    pd_key_free(cakey);
    if (rc)
        ERR_clear_error();
    return rc;
}

struct pd_x509_minter {
    X509 *ca;
    struct pd_key *ca_key;
    struct pd_key *leaf_key; /* shared by every leaf */
    char *leaf_key_pem;      /* heap, PKCS#8 */
};

int pd_x509_minter_new(const char *ca_cert_pem, const char *ca_key_pem, enum pd_key_kind leaf_kind,
                       struct pd_x509_minter **OUT)
{
    struct pd_x509_minter *m = pd_xcalloc(1, sizeof *m);
    struct pd_arena a;
    pd_arena_init(&a);
    char *pem = NULL;
    int rc = load_ca(ca_cert_pem, ca_key_pem, &m->ca, &m->ca_key);
    if (rc == PD_OK)
        rc = pd_key_generate(leaf_kind, &m->leaf_key);
    if (rc == PD_OK && pd_key_to_pem(m->leaf_key, 1, &a, &pem))
        rc = PD_EINTERNAL;
    if (rc == PD_OK)
        m->leaf_key_pem = pd_xstrdup(pem);
    if (pem)
        memset(pem, 0, strlen(pem));
    pd_arena_cleanup(&a);
    if (rc) {
        pd_x509_minter_free(m);
        ERR_clear_error();
        return rc;
    }
    *OUT = m;
    return PD_OK;
}

int pd_x509_minter_leaf(const struct pd_x509_minter *m, const char *name, int64_t now,
                        struct pd_arena *a, char **OUT_cert_pem)
{
    if (pd_x509_name_kind(name) != 2 || name[0] == '*')
        return PD_EINVAL;
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    if (!gens)
        return PD_EINTERNAL;
    int rc = push_san(gens, name, 2);
    /* CN holds at most 64 characters (RFC 5280 ub-common-name); clients read the SAN */
    if (rc == PD_OK)
        rc = issue_leaf(m->ca, pd_key_evp(m->ca_key), pd_key_evp(m->leaf_key),
                        strlen(name) <= 64 ? name : "podiam", gens, now, a, OUT_cert_pem);
    GENERAL_NAMES_free(gens);
    if (rc)
        ERR_clear_error();
    return rc;
}

const char *pd_x509_minter_key_pem(const struct pd_x509_minter *m)
{
    return m->leaf_key_pem;
}

void pd_x509_minter_free(struct pd_x509_minter *m)
{
    if (!m)
        return;
    X509_free(m->ca);
    pd_key_free(m->ca_key);
    pd_key_free(m->leaf_key);
    if (m->leaf_key_pem) {
        memset(m->leaf_key_pem, 0, strlen(m->leaf_key_pem));
        free(m->leaf_key_pem);
    }
    free(m);
}

int pd_x509_sha1_thumbprint(const char *cert_pem, size_t len, char OUT_hex[41])
{
    X509 *x = cert_from_pem(cert_pem, len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int rc = PD_EINVAL;
    if (x && X509_digest(x, EVP_sha1(), md, &mdlen) == 1 && mdlen == 20) {
        static const char hex[] = "0123456789abcdef";
        for (unsigned i = 0; i < 20; i++) {
            OUT_hex[2 * i] = hex[md[i] >> 4];
            OUT_hex[2 * i + 1] = hex[md[i] & 15];
        }
        OUT_hex[40] = '\0';
        rc = PD_OK;
    }
    X509_free(x);
    if (rc)
        ERR_clear_error();
    return rc;
}
