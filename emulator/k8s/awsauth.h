/*
 * awsauth.h - the aws-auth ConfigMap (kube-system/aws-auth) as EKS's authenticator reads it:
 * data.mapRoles and data.mapUsers (YAML lists of {rolearn|userarn, username, groups}) and
 * data.mapAccounts (a YAML list of account ids).
 *
 * The only module that includes <yaml.h> (libyaml). Parsing never fails on bad input: EKS
 * skips what it cannot use and logs it, and so does this parser, returning every skipped or
 * suspicious entry with its line and the reason, for the decision trace. What counts as
 * usable follows aws-iam-authenticator (pkg/mapper/configmap): keys of an entry match without
 * regard to case, the first YAML document of a key is read, a key whose text is empty, "``"
 * or "\"\"" is skipped, a later line for the same ARN replaces an earlier one, a field of the
 * wrong type is dropped. podiam additionally skips an entry without a username (the
 * authenticator would map it to an empty user name), so bad input can only take access away.
 *
 * Sizes are bounded (PD_AWSAUTH_MAX_*); YAML aliases are not followed (reported). Also owns
 * a small cache of parsed ConfigMaps by cluster and resourceVersion, safe across threads.
 */
#ifndef PD_K8S_AWSAUTH_H
#define PD_K8S_AWSAUTH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pd_arena;

#define PD_AWSAUTH_MAX_TEXT (1024 * 1024) /* bytes of one data key (a ConfigMap's limit) */
#define PD_AWSAUTH_MAX_ENTRIES 10000      /* entries of one key; the rest are skipped */
#define PD_AWSAUTH_MAX_GROUPS 1000        /* groups of one entry; the rest are dropped */
#define PD_AWSAUTH_MAX_DEPTH 64           /* YAML nesting; deeper text is not read */
#define PD_AWSAUTH_MAX_ISSUES 200         /* issues kept; one more line counts the rest */

enum pd_awsauth_kind {
    PD_AWSAUTH_ROLE = 0, /* a mapRoles line (rolearn) */
    PD_AWSAUTH_USER,     /* a mapUsers line (userarn) */
};

/* One usable line of mapRoles or mapUsers (arena strings). */
struct pd_awsauth_line {
    enum pd_awsauth_kind kind;
    const char *arn;      /* rolearn / userarn as written */
    const char *username; /* template as written ("system:node:{{EC2PrivateDNSName}}") */
    const char **groups;  /* templates as written */
    size_t ngroups;
    size_t index;  /* 0-based position in its list */
    unsigned line; /* 1-based line of the entry in its key's text */
};

/* Something the authenticator would skip or that cannot work as written. */
struct pd_awsauth_issue {
    const char *key;    /* "mapRoles", "mapUsers" or "mapAccounts" */
    long index;         /* entry position, -1 for the key as a whole */
    unsigned line;      /* 1-based, 0 when unknown */
    int ignored;        /* 1: not used at all; 0: used, with this caveat */
    const char *reason; /* "entry 3 (line 7): no rolearn" style text is built by the caller */
};

struct pd_awsauth {
    int present; /* the ConfigMap exists */
    struct pd_awsauth_line *roles;
    size_t nroles;
    struct pd_awsauth_line *users;
    size_t nusers;
    const char **accounts;
    size_t naccounts;
    struct pd_awsauth_issue *issues;
    size_t nissues;
    size_t issues_dropped; /* beyond PD_AWSAUTH_MAX_ISSUES */
};

/* The text of one data key; p NULL when the key is absent. */
struct pd_awsauth_text {
    const char *p;
    size_t n;
};

/* Parse the three keys into *OUT (arena-owned, present = 1). Never fails: what cannot be used
 * is in OUT->issues. Pure apart from libyaml's own allocations. */
void pd_awsauth_parse(struct pd_arena *a, struct pd_awsauth_text map_roles,
                      struct pd_awsauth_text map_users, struct pd_awsauth_text map_accounts,
                      struct pd_awsauth *OUT);

/* Parse a ConfigMap's "data" object (NULL: no ConfigMap; present = 0). Non-string values
 * are issues. */
void pd_awsauth_parse_data(struct pd_arena *a, const json_t *data, struct pd_awsauth *OUT);

/* One issue as one line of text: "mapRoles entry 2 (line 5) ignored: no username". Arena. */
const char *pd_awsauth_issue_str(struct pd_arena *a, const struct pd_awsauth_issue *i);

/* ---- cache of parsed ConfigMaps ---- */

struct pd_awsauth_cache;
struct pd_awsauth_ref; /* a held cache entry */

/* A cache of at most max clusters' parsed aws-auth (one entry per cluster). Free with
 * pd_awsauth_cache_free once no reference is held. */
struct pd_awsauth_cache *pd_awsauth_cache_new(size_t max);
void pd_awsauth_cache_free(struct pd_awsauth_cache *c);

/* The parsed aws-auth of cluster at resourceVersion rv (the ConfigMap's; 0 when there is
 * none, data then NULL), parsed from data unless cached for that version with the same data
 * (compared by digest: a cluster made again under the same id reuses versions). The result is
 * immutable and stays valid until pd_awsauth_cache_release(*OUT_ref). Never NULL. */
const struct pd_awsauth *pd_awsauth_cache_get(struct pd_awsauth_cache *c, const char *cluster,
                                              int64_t rv, const json_t *data,
                                              struct pd_awsauth_ref **OUT_ref);
void pd_awsauth_cache_release(struct pd_awsauth_cache *c, struct pd_awsauth_ref *ref);
/* Parses done (misses) since the cache was made, for tests. */
uint64_t pd_awsauth_cache_parses(struct pd_awsauth_cache *c);

#endif
