/*
 * clientenv.c - the environment that lets a client reach podiam: shared by `podiamctl env`
 * and `podiamctl run`, so both hand out the same variables (see clientenv.h).
 */
#include "clientenv.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "k8s.h"

#define PDC_MAX_CA_FILE (8u << 20)

/* ---- the variable set ---- */

void pdc_vars_set(struct pd_arena *a, struct pdc_vars *e, const char *name, const char *value)
{
    const char *v = value ? pd_arena_strdup(a, value) : NULL;
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->v[i].name, name) == 0) {
            e->v[i].value = v;
            return;
        }
    e->v = pd_arena_grow(a, e->v, e->n, &e->cap, sizeof(*e->v));
    e->v[e->n].name = pd_arena_strdup(a, name);
    e->v[e->n].value = v;
    e->n++;
}

const char *pdc_vars_get(const struct pdc_vars *e, const char *name)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->v[i].name, name) == 0)
            return e->v[i].value;
    return NULL;
}

void pdc_vars_note(struct pd_arena *a, struct pdc_vars *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = pd_arena_vprintf(a, fmt, ap);
    va_end(ap);
    e->notes = pd_arena_grow(a, e->notes, e->nnotes, &e->notes_cap, sizeof(*e->notes));
    e->notes[e->nnotes++] = line;
}

static void add_file(struct pd_arena *a, struct pdc_vars *e, const char *path)
{
    e->files = pd_arena_grow(a, e->files, e->nfiles, &e->files_cap, sizeof(*e->files));
    e->files[e->nfiles++] = path;
}

void pdc_vars_apply(const struct pdc_vars *e)
{
    for (size_t i = 0; i < e->n; i++) {
        if (e->v[i].value)
            setenv(e->v[i].name, e->v[i].value, 1);
        else
            unsetenv(e->v[i].name);
    }
}

void pdc_vars_print(FILE *f, struct pd_arena *a, const struct pdc_vars *e)
{
    for (size_t i = 0; i < e->nnotes; i++) {
        /* a note is one comment line per line of text, whatever it holds */
        const char *p = e->notes[i];
        while (*p) {
            size_t len = strcspn(p, "\n");
            fprintf(f, "# %.*s\n", (int)len, p);
            p += len;
            if (*p)
                p++;
        }
    }
    for (size_t i = 0; i < e->n; i++) {
        if (e->v[i].value)
            fprintf(f, "export %s=%s\n", e->v[i].name, pdc_shell_quote(a, e->v[i].value));
        else
            fprintf(f, "unset %s\n", e->v[i].name);
    }
}

void pdc_vars_remove_files(const struct pdc_vars *e)
{
    for (size_t i = 0; i < e->nfiles; i++)
        unlink(e->files[i]);
}

const char *pdc_shell_quote(struct pd_arena *a, const char *s)
{
    static const char safe[] = "@%+=:,./_-";
    int plain = *s != 0;
    for (const char *p = s; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr(safe, *p) != NULL;
    if (plain)
        return s;
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_addc(&b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            pd_buf_adds(&b, "'\\''");
        else
            pd_buf_addc(&b, *p);
    }
    pd_buf_addc(&b, '\'');
    const char *out = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return out;
}

/* ---- files ---- */

/* mkdir path (mode 0700) unless it exists; then it must be a directory of ours that others
 * cannot write to. */
static int private_dir(struct pd_arena *a, const char *path, const char **OUT_err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        *OUT_err = pd_arena_printf(a, "cannot make %s: %s", path, strerror(errno));
        return PD_EIO;
    }
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        *OUT_err = pd_arena_printf(a, "%s is not a directory", path);
        return PD_EDENIED;
    }
    if (st.st_uid != getuid() || (st.st_mode & 022)) {
        *OUT_err = pd_arena_printf(a,
                                   "%s belongs to another user or others may write to it: "
                                   "refusing to keep tokens and CA bundles there",
                                   path);
        return PD_EDENIED;
    }
    return PD_OK;
}

int pdc_cache_dir(struct pd_arena *a, const char **OUT_dir, const char **OUT_err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *parent, *dir;
    *OUT_err = NULL;
    if (xdg && *xdg == '/') { /* the XDG spec: a relative value is ignored */
        parent = xdg;
        dir = pd_arena_printf(a, "%s/podiam", xdg);
    } else if (home && *home == '/') {
        parent = pd_arena_printf(a, "%s/.cache", home);
        dir = pd_arena_printf(a, "%s/podiam", parent);
    } else {
        const char *tmp = getenv("TMPDIR");
        parent = NULL; /* TMPDIR itself is shared: only our own subdirectory is checked */
        dir = pd_arena_printf(a, "%s/podiam-%lu", tmp && *tmp ? tmp : "/tmp",
                              (unsigned long)getuid());
    }
    if (parent && mkdir(parent, 0700) != 0 && errno != EEXIST) {
        *OUT_err = pd_arena_printf(a, "cannot make %s: %s", parent, strerror(errno));
        return PD_EIO;
    }
    int rc = private_dir(a, dir, OUT_err);
    if (rc == PD_OK)
        *OUT_dir = dir;
    return rc;
}

int pdc_write_atomic(const char *path, const char *text, size_t n, mode_t mode)
{
    size_t plen = strlen(path);
    char *tmp = pd_xmalloc(plen + 32);
    snprintf(tmp, plen + 32, "%s.tmp-%ld", path, (long)getpid());
    unlink(tmp); /* left by a process of the same pid that died half way */
    int rc = PD_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        goto out;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (close(fd) == 0 && off == n && rename(tmp, path) == 0) {
        rc = PD_OK;
    } else {
        int saved = errno; /* the caller reports why */
        unlink(tmp);
        errno = saved;
    }
out:
    free(tmp);
    return rc;
}

const char *pdc_system_ca_file(void)
{
    static const char *const candidates[] = {
        "/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Arch, Gentoo */
        "/etc/pki/tls/certs/ca-bundle.crt",   /* Fedora, RHEL */
        "/etc/ssl/ca-bundle.pem",             /* openSUSE */
        "/etc/ssl/cert.pem",                  /* Alpine, macOS, BSDs */
    };
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    return NULL;
}

/* "HOST_PORT" of the endpoint, reduced to characters safe in a file name. */
static const char *file_tag(struct pd_arena *a, const char *s)
{
    char *t = pd_arena_strdup(a, s);
    for (char *p = t; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-'))
            *p = '_';
    return t;
}

/* ---- how to reach podiam ---- */

/* The endpoint's host without port or brackets ("127.0.0.1", "::1"), or NULL. */
static const char *endpoint_host(struct pd_arena *a, const char *endpoint)
{
    const char *auth = pdc_url_authority(a, endpoint);
    if (!auth || !*auth)
        return NULL;
    if (*auth == '[') {
        const char *end = strchr(auth, ']');
        return end ? pd_arena_strndup(a, auth + 1, (size_t)(end - auth - 1)) : NULL;
    }
    return pd_arena_strndup(a, auth, strcspn(auth, ":"));
}

static const char *no_proxy_list(struct pd_arena *a, const char *endpoint)
{
    static const char loopback[] = "localhost,127.0.0.1,::1";
    const char *host = endpoint_host(a, endpoint);
    if (!host || !*host || strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
        strcmp(host, "::1") == 0)
        return loopback;
    return pd_arena_printf(a, "%s,%s", loopback, host);
}

int pdc_env_reach(struct pdc_ctx *c, const char *dir, struct pdc_vars *OUT, const char **OUT_err)
{
    struct pd_arena *a = &c->arena;
    struct pdc_resp r;
    json_t *health = NULL;
    int rc = pdc_admin(c, "GET", "health", NULL, &r, (void **)&health);
    if (rc != PD_OK) {
        *OUT_err = pd_arena_printf(a, "podiam does not answer at %s (/_podiam/health: %s)",
                                   c->endpoint, r.error ? r.error : "not podiam's answer");
        pdc_resp_free(&r);
        json_decref(health);
        return PD_EIO;
    }
    pdc_resp_free(&r);
    const char *proxy =
        json_string_value(json_object_get(json_object_get(health, "endpoints"), "proxy"));
    proxy = proxy && *proxy ? pd_arena_strdup(a, proxy) : NULL;
    json_decref(health);

    pdc_vars_set(a, OUT, "AWS_ENDPOINT_URL", c->endpoint);
    if (proxy) {
        pdc_vars_note(a, OUT,
                      "podiam at %s; its proxy %s answers for the AWS hostnames it serves, "
                      "for clients that ignore AWS_ENDPOINT_URL",
                      c->endpoint, proxy);
        pdc_vars_set(a, OUT, "HTTPS_PROXY", proxy);
        pdc_vars_set(a, OUT, "https_proxy", proxy);
        pdc_vars_set(a, OUT, "HTTP_PROXY", proxy);
        pdc_vars_set(a, OUT, "http_proxy", proxy);
    } else {
        pdc_vars_note(a, OUT,
                      "podiam at %s has no proxy (--listen-proxy off, or a podiam without "
                      "one): clients that ignore AWS_ENDPOINT_URL will dial AWS itself",
                      c->endpoint);
    }
    const char *np = no_proxy_list(a, c->endpoint);
    pdc_vars_set(a, OUT, "NO_PROXY", np);
    pdc_vars_set(a, OUT, "no_proxy", np);

    const char *pem;
    if (pdc_ca_pem(c, &pem) != PD_OK) {
        *OUT_err = c->ca_file ? pd_arena_printf(a, "cannot read the CA file %s", c->ca_file)
                              : pd_arena_printf(a, "cannot get podiam's CA from %s/_podiam/ca.pem",
                                                c->endpoint);
        return PD_EIO;
    }
    struct pd_buf b;
    pd_buf_init(&b, 0);
    const char *sys = pdc_system_ca_file();
    char *sys_pem = sys ? pdc_read_file(sys, PDC_MAX_CA_FILE, NULL) : NULL;
    if (sys_pem && *sys_pem) {
        pd_buf_adds(&b, sys_pem);
        if (b.len && b.p[b.len - 1] != '\n')
            pd_buf_addc(&b, '\n');
    }
    pd_buf_adds(&b, pem);
    if (b.len && b.p[b.len - 1] != '\n')
        pd_buf_addc(&b, '\n');
    const char *bundle = pd_arena_printf(a, "%s/ca-bundle-%s.pem", dir,
                                         file_tag(a, pdc_url_authority(a, c->endpoint)));
    rc = pdc_write_atomic(bundle, pd_buf_str(&b), b.len, 0644);
    pd_buf_free(&b);
    if (rc != PD_OK) {
        *OUT_err = pd_arena_printf(a, "cannot write the CA bundle %s: %s", bundle, strerror(errno));
        free(sys_pem);
        return PD_EIO;
    }
    add_file(a, OUT, bundle);
    if (sys_pem && *sys_pem)
        pdc_vars_note(a, OUT, "CA bundle %s: the system CAs (%s) and podiam's CA", bundle, sys);
    else
        pdc_vars_note(a, OUT, "CA bundle %s: podiam's CA only (no system CA bundle found)", bundle);
    free(sys_pem);
    static const char *const ca_names[] = {"AWS_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                                           "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"};
    for (size_t i = 0; i < sizeof(ca_names) / sizeof(ca_names[0]); i++)
        pdc_vars_set(a, OUT, ca_names[i], bundle);
    return PD_OK;
}

/* ---- identities ---- */

static const char *const pod_names[] = {"AWS_ROLE_ARN",
                                        "AWS_WEB_IDENTITY_TOKEN_FILE",
                                        "PODIAM_POD_TOKEN_PATH",
                                        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN"};
static const char *const static_names[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                           "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                                           "AWS_PROFILE",       "AWS_DEFAULT_PROFILE"};

void pdc_env_static(struct pdc_ctx *c, const char *akid, const char *secret, const char *token,
                    struct pdc_vars *OUT)
{
    struct pd_arena *a = &c->arena;
    pdc_vars_set(a, OUT, "AWS_ACCESS_KEY_ID", akid);
    pdc_vars_set(a, OUT, "AWS_SECRET_ACCESS_KEY", secret);
    pdc_vars_set(a, OUT, "AWS_SESSION_TOKEN", token);
    pdc_vars_set(a, OUT, "AWS_REGION", c->region);
    pdc_vars_set(a, OUT, "AWS_DEFAULT_REGION", c->region);
    for (size_t i = 0; i < sizeof(pod_names) / sizeof(pod_names[0]); i++)
        pdc_vars_set(a, OUT, pod_names[i], NULL);
}

/* A pod of an associated service account (EKS Pod Identity): the token a kubelet projects
 * (audience pods.eks.amazonaws.com, bound to the stand-in pod podiamctl-SA) in a file, and
 * the agent variables pointing at podiam's agent endpoint instead of 169.254.170.23. */
static int env_pod_identity(struct pdc_ctx *c, const struct pdc_cluster *k, const char *cluster,
                            const char *ns, const char *sa, const char *dir,
                            const struct pdc_pod_identity *pi, struct pdc_vars *OUT,
                            const char **OUT_err)
{
    struct pd_arena *a = &c->arena;
    long long expiration = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(json_object_get(pi->pod, "spec"), "volumes"), i, v)
    {
        if (!json_string_value(json_object_get(v, "name")) ||
            strcmp(json_string_value(json_object_get(v, "name")), "eks-pod-identity-token") != 0)
            continue;
        json_t *src =
            json_array_get(json_object_get(json_object_get(v, "projected"), "sources"), 0);
        expiration = json_integer_value(
            json_object_get(json_object_get(src, "serviceAccountToken"), "expirationSeconds"));
    }
    const char *pod = NULL, *uid = NULL, *token = NULL, *err = NULL;
    int rc = pdc_k8s_standin_pod(c, k, ns, sa, &pod, &uid, &err);
    if (rc != PD_OK) {
        *OUT_err = pd_arena_printf(a, "the stand-in pod for %s/%s: %s", ns, sa, err);
        return rc;
    }
    rc = pdc_k8s_token_bound(c, k, ns, sa, "pods.eks.amazonaws.com", expiration, pod, uid, &token,
                             &err);
    if (rc != PD_OK) {
        *OUT_err = pd_arena_printf(a, "TokenRequest for %s/%s: %s", ns, sa, err);
        return rc;
    }
    const char *file = pd_arena_printf(a, "%s/podid-%s-%s-%s-%s", dir,
                                       file_tag(a, pdc_url_authority(a, c->endpoint)),
                                       file_tag(a, cluster), file_tag(a, ns), file_tag(a, sa));
    /* no trailing newline: SDKs send the file as the Authorization header */
    if (pdc_write_atomic(file, token, strlen(token), 0600) != PD_OK) {
        *OUT_err = pd_arena_printf(a, "cannot write the token file %s: %s", file, strerror(errno));
        return PD_EIO;
    }
    add_file(a, OUT, file);
    for (size_t j = 0; j < sizeof(static_names) / sizeof(static_names[0]); j++)
        pdc_vars_set(a, OUT, static_names[j], NULL);
    for (size_t j = 0; j < sizeof(pod_names) / sizeof(pod_names[0]); j++)
        pdc_vars_set(a, OUT, pod_names[j], NULL);
    const char *uri = pd_arena_printf(a, "%s/_podiam/pod-identity/v1/credentials", c->endpoint);
    pdc_vars_set(a, OUT, "AWS_CONTAINER_CREDENTIALS_FULL_URI", uri);
    pdc_vars_set(a, OUT, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file);
    /* the token inline too: SDKs before the _FILE variable (botocore < 1.31, aws CLI 2.9)
     * read only this one; newer ones prefer the file, which holds the same token */
    pdc_vars_set(a, OUT, "AWS_CONTAINER_AUTHORIZATION_TOKEN", token);
    pdc_vars_set(a, OUT, "PODIAM_POD_TOKEN_PATH",
                 pdc_pod_env(pi->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
    pdc_vars_set(a, OUT, "AWS_REGION", c->region);
    pdc_vars_set(a, OUT, "AWS_DEFAULT_REGION", c->region);
    pdc_vars_note(a, OUT,
                  "pod %s of %s/%s in cluster %s: EKS Pod Identity; token (audience "
                  "pods.eks.amazonaws.com, bound to the pod) in %s; credentials from podiam's "
                  "agent %s (in the pod: %s)",
                  pod, ns, sa, cluster, file, uri,
                  pdc_pod_env(pi->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    return PD_OK;
}

int pdc_env_pod(struct pdc_ctx *c, const char *cluster, const char *ns, const char *sa,
                const char *dir, struct pdc_vars *OUT, const char **OUT_err)
{
    struct pd_arena *a = &c->arena;
    struct pdc_cluster k;
    struct pdc_pod_identity pi;
    const char *token = NULL;
    memset(&pi, 0, sizeof(pi));
    int rc = pdc_eks_cluster(c, cluster, &k, OUT_err);
    if (rc != PD_OK)
        goto out;
    rc = pdc_pod_identity(c, &k, ns, sa, &pi, OUT_err);
    if (rc != PD_OK)
        goto out;
    if (pdc_pod_env(pi.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        rc = env_pod_identity(c, &k, cluster, ns, sa, dir, &pi, OUT, OUT_err);
        goto out;
    }
    if (!pi.role_arn) {
        *OUT_err = pd_arena_printf(a,
                                   "service account %s/%s has no eks.amazonaws.com/role-arn "
                                   "annotation: the pod identity webhook would not give its "
                                   "pods a role.\n  kubectl annotate serviceaccount -n %s %s "
                                   "eks.amazonaws.com/role-arn=arn:aws:iam::ACCOUNT:role/ROLE",
                                   ns, sa, ns, sa);
        rc = PD_EINVAL;
        goto out;
    }
    rc = pdc_k8s_token(c, &k, ns, sa, pi.audience, pi.expiration, &token, OUT_err);
    if (rc != PD_OK) {
        *OUT_err = pd_arena_printf(a, "TokenRequest for %s/%s: %s", ns, sa, *OUT_err);
        goto out;
    }
    const char *file = pd_arena_printf(a, "%s/token-%s-%s-%s-%s", dir,
                                       file_tag(a, pdc_url_authority(a, c->endpoint)),
                                       file_tag(a, cluster), file_tag(a, ns), file_tag(a, sa));
    if (pdc_write_atomic(file, token, strlen(token), 0600) != PD_OK) {
        *OUT_err = pd_arena_printf(a, "cannot write the token file %s: %s", file, strerror(errno));
        rc = PD_EIO;
        goto out;
    }
    add_file(a, OUT, file);
    for (size_t i = 0; i < sizeof(static_names) / sizeof(static_names[0]); i++)
        pdc_vars_set(a, OUT, static_names[i], NULL);
    const char *reg = pdc_pod_env(pi.env, "AWS_REGION");
    const char *dreg = pdc_pod_env(pi.env, "AWS_DEFAULT_REGION");
    const char *sts_reg = pdc_pod_env(pi.env, "AWS_STS_REGIONAL_ENDPOINTS");
    pdc_vars_set(a, OUT, "AWS_ROLE_ARN", pi.role_arn);
    pdc_vars_set(a, OUT, "AWS_WEB_IDENTITY_TOKEN_FILE", file);
    pdc_vars_set(a, OUT, "PODIAM_POD_TOKEN_PATH", pi.token_path ? pi.token_path : "");
    pdc_vars_set(a, OUT, "AWS_REGION", reg ? reg : c->region);
    pdc_vars_set(a, OUT, "AWS_DEFAULT_REGION", dreg ? dreg : (reg ? reg : c->region));
    if (sts_reg)
        pdc_vars_set(a, OUT, "AWS_STS_REGIONAL_ENDPOINTS", sts_reg);
    pdc_vars_note(a, OUT,
                  "pod of %s/%s in cluster %s: role %s; token (audience %s, "
                  "expirationSeconds %lld) in %s",
                  ns, sa, cluster, pi.role_arn, pi.audience ? pi.audience : "sts.amazonaws.com",
                  pi.expiration, file);
out:
    pdc_pod_identity_free(&pi);
    return rc;
}
