/*
 * identity.c - IAM caller -> Kubernetes user, as EKS maps it (see identity.h).
 */
#include "k8s/identity.h"

#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"

static const char *const modes[] = {"CONFIG_MAP", "API_AND_CONFIG_MAP", "API", NULL};

int pd_eks_auth_mode_parse(const char *s, enum pd_eks_auth_mode *OUT)
{
    for (int i = 0; s && modes[i]; i++)
        if (strcmp(s, modes[i]) == 0) {
            *OUT = (enum pd_eks_auth_mode)i;
            return PD_OK;
        }
    return PD_EINVAL;
}

const char *pd_eks_auth_mode_name(enum pd_eks_auth_mode m)
{
    return (unsigned)m < 3 ? modes[m] : "?";
}

/* ---- ARNs ---- */

/* arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE split into fields (arena copies). */
struct arn6 {
    const char *partition, *service, *region, *account, *resource;
};

static int split_arn(struct pd_arena *a, const char *arn, struct arn6 *OUT)
{
    if (!arn || !pd_has_prefix(arn, "arn:"))
        return PD_EINVAL;
    const char *f[5];
    const char *p = arn + 4;
    for (int i = 0; i < 4; i++) {
        const char *c = strchr(p, ':');
        if (!c)
            return PD_EINVAL;
        f[i] = pd_arena_strndup(a, p, (size_t)(c - p));
        p = c + 1;
    }
    f[4] = p;
    OUT->partition = f[0];
    OUT->service = f[1];
    OUT->region = f[2];
    OUT->account = f[3];
    OUT->resource = pd_arena_strdup(a, f[4]);
    return PD_OK;
}

static int known_partition(const char *p)
{
    static const char *const parts[] = {"aws",       "aws-cn",    "aws-us-gov",
                                        "aws-iso",   "aws-iso-b", "aws-iso-e",
                                        "aws-iso-f", "aws-eusc",  NULL};
    for (const char *const *x = parts; *x; x++)
        if (strcmp(*x, p) == 0)
            return 1;
    return 0;
}

int pd_eks_canonical_arn(struct pd_arena *a, const char *arn, const char **OUT,
                         const char **OUT_why)
{
    struct arn6 f;
    *OUT = NULL;
    if (split_arn(a, arn, &f)) {
        *OUT_why = pd_arena_printf(a, "arn '%s' is invalid", arn ? arn : "");
        return PD_EINVAL;
    }
    if (!known_partition(f.partition)) {
        *OUT_why = pd_arena_printf(a, "arn '%s' does not have a recognized partition", arn);
        return PD_EINVAL;
    }
    const char *slash = strchr(f.resource, '/');
    size_t tlen = slash ? (size_t)(slash - f.resource) : strlen(f.resource);
    const char *type = pd_arena_strndup(a, f.resource, tlen);
    if (strcmp(f.service, "sts") == 0) {
        if (strcmp(type, "federated-user") == 0) {
            *OUT = arn;
            return PD_OK;
        }
        if (strcmp(type, "assumed-role") == 0) {
            /* assumed-role/ROLE/SESSION: the role name is what lies between */
            const char *last = strrchr(f.resource, '/');
            if (!slash || last == slash) {
                *OUT_why = pd_arena_printf(a, "assumed-role arn '%s' does not have a role", arn);
                return PD_EINVAL;
            }
            const char *role = pd_arena_strndup(a, slash + 1, (size_t)(last - slash - 1));
            *OUT = pd_arena_printf(a, "arn:%s:iam::%s:role/%s", f.partition, f.account, role);
            return PD_OK;
        }
        *OUT_why = pd_arena_printf(a, "unrecognized resource %s for service sts", f.resource);
        return PD_EINVAL;
    }
    if (strcmp(f.service, "iam") == 0) {
        if ((strcmp(type, "role") == 0 || strcmp(type, "user") == 0) && slash) {
            *OUT = arn;
            return PD_OK;
        }
        if (strcmp(f.resource, "root") == 0) {
            *OUT = arn;
            return PD_OK;
        }
        *OUT_why = pd_arena_printf(a, "unrecognized resource %s for service iam", f.resource);
        return PD_EINVAL;
    }
    *OUT_why = pd_arena_printf(a, "service %s in arn %s is not a valid service for identities",
                               f.service, arn);
    return PD_EINVAL;
}

const char *pd_eks_strip_path(struct pd_arena *a, const char *arn)
{
    /* arn:…:role/PATH/NAME or user/PATH/NAME -> …:role/NAME */
    const char *colon = arn ? strrchr(arn, ':') : NULL;
    if (!colon)
        return arn;
    const char *slash = strchr(colon, '/');
    const char *last = strrchr(colon, '/');
    if (!slash || slash == last)
        return arn;
    return pd_arena_printf(a, "%.*s%s", (int)(slash - arn + 1), arn, last + 1);
}

const char *pd_eks_default_username(struct pd_arena *a, const char *principal_arn, const char *type)
{
    if (type && (strcmp(type, "EC2_LINUX") == 0 || strcmp(type, "EC2_WINDOWS") == 0 ||
                 strcmp(type, "EC2") == 0))
        return "system:node:{{EC2PrivateDNSName}}";
    if (type && (strcmp(type, "FARGATE_LINUX") == 0 || strcmp(type, "HYBRID_LINUX") == 0 ||
                 strcmp(type, "HYPERPOD_LINUX") == 0))
        return "system:node:{{SessionName}}";
    struct arn6 f;
    if (split_arn(a, principal_arn, &f) || strcmp(f.service, "iam") != 0 ||
        !pd_has_prefix(f.resource, "role/"))
        return principal_arn;
    const char *name = strrchr(f.resource, '/') + 1;
    return pd_arena_printf(a, "arn:%s:sts::%s:assumed-role/%s/{{SessionName}}", f.partition,
                           f.account, name);
}

/* ---- templates (aws-iam-authenticator pkg/server renderTemplate) ---- */

struct who {
    const char *account;
    const char *session; /* "" when none */
    const char *access_key_id;
};

static const char *replace_all(struct pd_arena *a, const char *s, const char *from, const char *to)
{
    if (!strstr(s, from))
        return s;
    struct pd_buf b;
    pd_buf_init(&b, 0);
    size_t fl = strlen(from);
    for (const char *p = s, *hit; (hit = strstr(p, from)) || *p;) {
        if (!hit) {
            pd_buf_adds(&b, p);
            break;
        }
        pd_buf_add(&b, p, (size_t)(hit - p));
        pd_buf_adds(&b, to);
        p = hit + fl;
        if (!*p)
            break;
    }
    const char *out = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return out;
}

static int word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* ^i-(\w{8}|\w{17})$ */
static int instance_id(const char *s)
{
    if (!pd_has_prefix(s, "i-"))
        return 0;
    size_t n = 0;
    for (const char *p = s + 2; *p; p++, n++)
        if (!word_char(*p))
            return 0;
    return n == 8 || n == 17;
}

static int render(struct pd_arena *a, const char *tmpl, const struct who *w, const char **OUT,
                  const char **OUT_why)
{
    if (strstr(tmpl, "{{EC2PrivateDNSName}}")) {
        if (!instance_id(w->session))
            *OUT_why = "SessionName did not contain an instance id";
        else
            *OUT_why = pd_arena_printf(a,
                                       "podiam has no EC2 instances: the private DNS name of %s "
                                       "cannot be resolved for {{EC2PrivateDNSName}}",
                                       w->session);
        return PD_EINVAL;
    }
    const char *s = replace_all(a, tmpl, "{{AccountID}}", w->account);
    const char *dashed = replace_all(a, w->session, "@", "-");
    s = replace_all(a, s, "{{SessionName}}", dashed);
    s = replace_all(a, s, "{{SessionNameRaw}}", w->session);
    s = replace_all(a, s, "{{AccessKeyID}}", w->access_key_id);
    *OUT = s;
    return PD_OK;
}

/* Render username and groups into OUT; PD_EINVAL with *OUT_why naming the template. */
static int render_all(struct pd_arena *a, const char *user_tmpl, const char *const *groups,
                      size_t ngroups, const struct who *w, struct pd_eks_identity *OUT,
                      const char **OUT_why)
{
    const char *why = NULL;
    if (render(a, user_tmpl, w, &OUT->username, &why)) {
        *OUT_why =
            pd_arena_printf(a, "error rendering username template \"%s\": %s", user_tmpl, why);
        return PD_EINVAL;
    }
    OUT->groups = pd_arena_zalloc(a, (ngroups + 1) * sizeof *OUT->groups);
    OUT->ngroups = 0;
    for (size_t i = 0; i < ngroups; i++) {
        const char *g;
        if (render(a, groups[i], w, &g, &why)) {
            *OUT_why =
                pd_arena_printf(a, "error rendering group template \"%s\": %s", groups[i], why);
            return PD_EINVAL;
        }
        OUT->groups[OUT->ngroups++] = g;
    }
    return PD_OK;
}

/* ---- the mapping ---- */

struct run {
    struct pd_arena *a;
    struct pd_eks_identity *out;
    size_t cap;
};

static void step(struct run *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void step(struct run *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *s = pd_arena_vprintf(x->a, fmt, ap);
    va_end(ap);
    x->out->trace = pd_arena_grow(x->a, x->out->trace, x->out->ntrace, &x->cap, sizeof(char *));
    x->out->trace[x->out->ntrace++] = s;
}

static int same_arn(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

/* Access entries (the authenticator's DynamicFile mapper, userIDStrict): the entry made for
 * this principal id whose path-less ARN is the caller's canonical one. -1 when none. */
static long find_entry(struct run *x, const struct pd_eks_identity_in *in, const char *canonical,
                       const char *user_id)
{
    const char *want = pd_eks_strip_path(x->a, canonical);
    for (size_t i = 0; i < in->nentries; i++) {
        const struct pd_eks_entry_ref *e = &in->entries[i];
        int id = e->principal_id && strcmp(e->principal_id, user_id) == 0;
        int arn = same_arn(pd_eks_strip_path(x->a, e->principal_arn), want);
        if (id && arn)
            return (long)i;
        if (arn && !id)
            step(x,
                 "access entry %s was made for principal id %s; the caller is %s (the IAM "
                 "principal was deleted and made again): it does not match",
                 e->principal_arn, e->principal_id ? e->principal_id : "?", user_id);
        else if (id && !arn)
            step(x,
                 "access entry %s has the caller's principal id %s but another ARN: it does "
                 "not match",
                 e->principal_arn, user_id);
    }
    step(x, "no access entry for %s (principal id %s) among %zu", canonical, user_id, in->nentries);
    return -1;
}

static const struct pd_awsauth_line *find_line(const struct pd_awsauth_line *v, size_t n,
                                               const char *canonical)
{
    for (size_t i = 0; i < n; i++)
        if (same_arn(v[i].arn, canonical))
            return &v[i];
    return NULL;
}

/* aws-auth (the authenticator's EKSConfigMap mapper): mapRoles, mapUsers, then mapAccounts.
 * 1 mapped (OUT filled or *OUT_fail set), 0 not. */
static int by_aws_auth(struct run *x, const struct pd_eks_identity_in *in, const char *canonical,
                       const char *account, const struct who *w, const char **OUT_fail)
{
    const struct pd_awsauth *m = in->aws_auth;
    struct pd_eks_identity *o = x->out;
    if (!m || !m->present) {
        step(x, "no aws-auth ConfigMap in kube-system");
        return 0;
    }
    for (size_t i = 0; i < m->nissues; i++)
        step(x, "%s", pd_awsauth_issue_str(x->a, &m->issues[i]));
    if (m->issues_dropped)
        step(x, "aws-auth: %zu more issues not listed", m->issues_dropped);
    const struct pd_awsauth_line *l = find_line(m->roles, m->nroles, canonical);
    if (!l)
        l = find_line(m->users, m->nusers, canonical);
    if (l) {
        const char *key = l->kind == PD_AWSAUTH_ROLE ? "mapRoles" : "mapUsers";
        o->line = l;
        o->mapped_by =
            pd_arena_printf(x->a, "aws-auth %s entry %zu (line %u): %s %s", key, l->index + 1,
                            l->line, l->kind == PD_AWSAUTH_ROLE ? "rolearn" : "userarn", l->arn);
        step(x, "mapped by %s", o->mapped_by);
        const char *why;
        if (render_all(x->a, l->username, (const char *const *)l->groups, l->ngroups, w, o, &why)) {
            *OUT_fail = why;
            return 1;
        }
        o->by = PD_EKS_BY_AWS_AUTH;
        return 1;
    }
    step(x, "aws-auth has no mapRoles or mapUsers line for %s (%zu role and %zu user lines)",
         canonical, m->nroles, m->nusers);
    for (size_t i = 0; i < m->naccounts; i++) {
        if (strcmp(m->accounts[i], account) != 0)
            continue;
        o->by = PD_EKS_BY_MAP_ACCOUNTS;
        o->username = canonical;
        o->groups = pd_arena_zalloc(x->a, sizeof *o->groups);
        o->ngroups = 0;
        o->mapped_by = pd_arena_printf(
            x->a, "aws-auth mapAccounts lists %s: username is the canonical ARN, no groups",
            account);
        step(x, "mapped by %s", o->mapped_by);
        return 1;
    }
    if (m->naccounts)
        step(x, "aws-auth mapAccounts does not list account %s", account);
    return 0;
}

static void extras(struct pd_eks_identity *o, const struct pd_eks_caller *c, const char *user_id)
{
    const char *kv[][2] = {
        {"arn", c->arn},
        {"canonicalArn", o->canonical_arn},
        {"sessionName", o->session_name},
        {"accessKeyId", c->access_key_id ? c->access_key_id : ""},
        {"principalId", user_id},
        {"sigs.k8s.io/aws-iam-authenticator/principalId", user_id},
    };
    o->nextra = 0;
    for (size_t i = 0; i < PD_EKS_EXTRA_MAX; i++) {
        o->extra[o->nextra].key = kv[i][0];
        o->extra[o->nextra].value = kv[i][1] ? kv[i][1] : "";
        o->nextra++;
    }
}

static int not_mapped(struct run *x, const char *why)
{
    struct pd_eks_identity *o = x->out;
    o->by = PD_EKS_NOT_MAPPED;
    o->username = NULL;
    o->groups = NULL;
    o->ngroups = 0;
    o->creator_admin = 0;
    o->mapped_by = why;
    step(x, "not authenticated: %s", why);
    return PD_OK;
}

int pd_eks_identity_map(struct pd_arena *a, const struct pd_eks_identity_in *in,
                        struct pd_eks_identity *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->entry = -1;
    struct run x = {.a = a, .out = OUT};
    const struct pd_eks_caller *c = in->caller;
    const char *why = NULL;
    if (!c || !c->arn || !c->account || !c->user_id)
        return not_mapped(&x, "the caller's identity is incomplete");
    if (pd_eks_canonical_arn(a, c->arn, &OUT->canonical_arn, &why))
        return not_mapped(&x, why);
    /* UserId: ID or ID:SESSION (roles, federated users) */
    const char *user_id = c->user_id;
    OUT->session_name = "";
    const char *colon = strchr(c->user_id, ':');
    if (colon) {
        if (strchr(colon + 1, ':'))
            return not_mapped(&x, pd_arena_printf(a, "malformed UserID %s", c->user_id));
        user_id = pd_arena_strndup(a, c->user_id, (size_t)(colon - c->user_id));
        OUT->session_name = colon + 1;
    }
    OUT->uid = pd_arena_printf(a, "aws-iam-authenticator:%s:%s", c->account, user_id);
    extras(OUT, c, user_id);
    struct who w = {.account = c->account,
                    .session = OUT->session_name,
                    .access_key_id = c->access_key_id ? c->access_key_id : ""};
    step(&x, "caller %s (canonical %s, principal id %s%s%s), authentication mode %s", c->arn,
         OUT->canonical_arn, user_id, *OUT->session_name ? ", session " : "", OUT->session_name,
         pd_eks_auth_mode_name(in->mode));

    const char *fail = NULL;
    if (in->mode == PD_EKS_MODE_CONFIG_MAP) {
        const char *creator = NULL;
        if (in->creator_arn && pd_eks_canonical_arn(a, in->creator_arn, &creator, &why) == PD_OK &&
            same_arn(creator, OUT->canonical_arn)) {
            OUT->by = PD_EKS_BY_CREATOR;
            OUT->creator_admin = 1;
            OUT->username = PD_EKS_CREATOR_USERNAME;
            OUT->groups = pd_arena_zalloc(a, 2 * sizeof *OUT->groups);
            OUT->groups[0] = "system:masters";
            OUT->ngroups = 1;
            OUT->mapped_by = pd_arena_printf(
                a,
                "the cluster's creator (%s): in CONFIG_MAP mode EKS maps it to user "
                "kubernetes-admin in group system:masters, in no visible configuration",
                in->creator_arn);
            step(&x, "mapped as %s", OUT->mapped_by);
            return PD_OK;
        }
        step(&x, "not the cluster's creator (%s)", in->creator_arn ? in->creator_arn : "unknown");
    } else {
        long e = find_entry(&x, in, OUT->canonical_arn, user_id);
        if (e >= 0) {
            const struct pd_eks_entry_ref *r = &in->entries[e];
            OUT->entry = e;
            OUT->mapped_by =
                pd_arena_printf(a, "access entry %s (%s, %s)", r->principal_arn,
                                r->type ? r->type : "STANDARD", r->entry_arn ? r->entry_arn : "");
            step(&x, "mapped by %s", OUT->mapped_by);
            if (render_all(a, r->username ? r->username : "", r->groups, r->ngroups, &w, OUT,
                           &fail))
                return not_mapped(&x, fail);
            OUT->by = PD_EKS_BY_ACCESS_ENTRY;
            return PD_OK;
        }
    }
    if (in->mode == PD_EKS_MODE_API)
        return not_mapped(&x, pd_arena_printf(a,
                                              "no access entry maps %s, and in API mode the "
                                              "aws-auth ConfigMap is not read",
                                              OUT->canonical_arn));
    if (by_aws_auth(&x, in, OUT->canonical_arn, c->account, &w, &fail)) {
        if (fail)
            return not_mapped(&x, fail);
        return PD_OK;
    }
    return not_mapped(&x, pd_arena_printf(a, "%s is not mapped by %s", OUT->canonical_arn,
                                          in->mode == PD_EKS_MODE_CONFIG_MAP
                                              ? "the aws-auth ConfigMap"
                                              : "an access entry or the aws-auth ConfigMap"));
}
