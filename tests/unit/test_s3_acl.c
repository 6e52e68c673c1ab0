/* test_s3_acl.c - S3 authorization with ACLs, bucket policies, Object Ownership and Block
 * Public Access, checked differentially: every combination of ownership controls, bucket
 * policy, bucket ACL, object ACL and owner, public access block, caller and action is
 * decided by podiam's pipeline (the S3 authz hook, the policy engine) and by an independent
 * model of AWS's rules written here from the S3 user guide ("How Amazon S3 authorizes a
 * request", "Block Public Access", "Object Ownership"); any disagreement fails, naming the
 * combination. Also the pure helpers: which bucket policies are public. */
#include "pipeline_env.h"

#include <unistd.h>

#include "services/s3/s3_internal.h"
#include "core/log.h"
#include "store/s3_db.h"

#define A "000000000000"
#define B "111111111111"

static const char fixtures[] =
    "{\"iam\":{\"accounts\":["
    "{\"id\":\"" A "\",\"users\":["
    "{\"name\":\"ua\",\"inline_policies\":{\"p\":{\"Version\":\"2012-10-17\",\"Statement\":"
    "[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}}},"
    "{\"name\":\"ua0\"}]},"
    "{\"id\":\"" B "\",\"users\":["
    "{\"name\":\"ub\",\"inline_policies\":{\"p\":{\"Version\":\"2012-10-17\",\"Statement\":"
    "[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}}},"
    "{\"name\":\"ub0\"}]}]}}";

enum own { OWN_NONE, OWN_WRITER, OWN_ENFORCED, N_OWN };
enum pol { POL_NONE, POL_PUBLIC_GET, POL_ALLOW_B, POL_DENY_UA, N_POL };
enum bacl { BACL_PRIVATE, BACL_B_READ_WRITE, BACL_PUBLIC_RW, N_BACL };
enum oacl { OACL_PRIVATE, OACL_PUBLIC_READ, OACL_AUTH_READ, OACL_OTHER_READ, N_OACL };
enum bpa { BPA_NONE, BPA_IGNORE_ACLS, BPA_RESTRICT, N_BPA };
enum caller { C_ROOT_A, C_UA, C_UA0, C_UB, C_UB0, C_ANON, N_CALLER };
enum action { ACT_GET, ACT_PUT, ACT_LIST, N_ACT };

static const char *const caller_names[] = {"rootA", "ua", "ua0", "ub", "ub0", "anonymous"};
static const char *const action_names[] = {"GetObject", "PutObject", "ListObjects"};

/* ---- the model: AWS's rules as the S3 user guide states them ---- */

enum { G_NONE = 0, G_ACCOUNT, G_DIRECT }; /* how a grant names the caller */

static const char *acct_of(enum caller c)
{
    return c <= C_UA0 ? A : c <= C_UB0 ? B : NULL;
}

/* A grant in a bucket or object ACL of the model. */
struct mgrant {
    const char *who; /* "AllUsers", "AuthenticatedUsers", or an account */
    int read, write;
};

static int grant_strength(const struct mgrant *g, enum caller c, int ignore_public)
{
    if (!strcmp(g->who, "AllUsers"))
        return ignore_public ? G_NONE : G_DIRECT;
    if (!strcmp(g->who, "AuthenticatedUsers"))
        return ignore_public || c == C_ANON ? G_NONE : G_DIRECT;
    return acct_of(c) && !strcmp(acct_of(c), g->who) ? G_ACCOUNT : G_NONE;
}

static int max(int a, int b)
{
    return a > b ? a : b;
}

static int model(enum own own, enum pol pol, enum bacl bacl, enum oacl oacl, int owner_b,
                 enum bpa bpa, enum caller c, enum action act)
{
    int acls = own != OWN_ENFORCED;
    int ignore = bpa == BPA_IGNORE_ACLS;
    const char *obj_owner = acls && owner_b ? B : A;
    const char *ca = acct_of(c);
    int id_ok = c == C_ROOT_A || c == C_UA || c == C_UB;

    /* an explicit deny in the bucket owner's policy wins */
    if (pol == POL_DENY_UA && c == C_UA)
        return 0;

    /* grants of the bucket policy: to everyone (GetObject only; RestrictPublicBuckets keeps
     * it to the owner's account), or to account B */
    int pol_grant = G_NONE;
    if (pol == POL_PUBLIC_GET && act == ACT_GET && !(bpa == BPA_RESTRICT && (!ca || strcmp(ca, A))))
        pol_grant = G_DIRECT;
    if (pol == POL_ALLOW_B && ca && !strcmp(ca, B))
        pol_grant = G_ACCOUNT;

    /* the ACL that answers: the object's for reads, the bucket's for lists and writes */
    int acl_grant = G_NONE;
    if (acls && act == ACT_GET) {
        struct mgrant g[2];
        size_t n = 0;
        const char *other = owner_b ? A : B;
        if (oacl == OACL_PUBLIC_READ)
            g[n++] = (struct mgrant){"AllUsers", 1, 0};
        if (oacl == OACL_AUTH_READ)
            g[n++] = (struct mgrant){"AuthenticatedUsers", 1, 0};
        if (oacl == OACL_OTHER_READ)
            g[n++] = (struct mgrant){other, 1, 0};
        for (size_t i = 0; i < n; i++)
            acl_grant = max(acl_grant, grant_strength(&g[i], c, ignore));
    } else if (acls) {
        struct mgrant g[2];
        size_t n = 0;
        if (bacl == BACL_B_READ_WRITE)
            g[n++] = (struct mgrant){B, 1, 1};
        if (bacl == BACL_PUBLIC_RW)
            g[n++] = (struct mgrant){"AllUsers", 1, 1};
        for (size_t i = 0; i < n; i++)
            acl_grant = max(acl_grant, grant_strength(&g[i], c, ignore));
    }

    const char *res_owner = act == ACT_GET ? obj_owner : A;
    int grant;
    if (act == ACT_GET && strcmp(obj_owner, A) != 0)
        grant = acl_grant; /* the object's owner decides; the bucket policy only denies */
    else
        grant = max(pol_grant, acl_grant);
    if (!ca) /* anonymous: only what names everyone */
        return grant == G_DIRECT;
    if (!strcmp(ca, res_owner)) /* same account: an identity policy, or a direct grant */
        return id_ok || grant == G_DIRECT;
    return id_ok && grant >= G_ACCOUNT; /* across accounts: both sides */
}

/* ---- podiam ---- */

static struct pd_env *env;

static int setup(void **st)
{
    (void)st;
    pd_log_level = PD_LOG_WARN; /* thousands of decisions: no line each */
    env = pt_env_new();
    char path[] = "/tmp/podiam-test-s3-acl-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, fixtures, sizeof fixtures - 1), (ssize_t)(sizeof fixtures - 1));
    close(fd);
    env->cfg.fixtures[0] = path;
    env->cfg.nfixtures = 1;
    char *err = NULL;
    int rc = pd_fixtures_reset(env, pd_store_db(env->store), &err);
    unlink(path);
    env->cfg.nfixtures = 0;
    if (rc)
        fail_msg("fixtures: %s", err ? err : "?");
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    pt_env_free(env);
    return 0;
}

static const char *canon(struct pd_arena *a, const char *acct)
{
    char in[64], hex[65];
    int n = snprintf(in, sizeof in, "podiam-canonical-user:%s", acct);
    pd_sha256_hex(in, (size_t)n, hex);
    return pd_arena_strdup(a, hex);
}

static const char *grant(struct pd_arena *a, const char *acct_or_uri, const char *perm)
{
    if (strncmp(acct_or_uri, "http", 4) == 0)
        return pd_arena_printf(a,
                               "{\"Grantee\":{\"Type\":\"Group\",\"URI\":\"%s\"},"
                               "\"Permission\":\"%s\"}",
                               acct_or_uri, perm);
    return pd_arena_printf(a,
                           "{\"Grantee\":{\"Type\":\"CanonicalUser\",\"ID\":\"%s\","
                           "\"Account\":\"%s\"},\"Permission\":\"%s\"}",
                           canon(a, acct_or_uri), acct_or_uri, perm);
}

#define ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define AUTH_USERS "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"

static void set_state(struct pd_arena *a, enum own own, enum pol pol, enum bacl bacl,
                      enum oacl oacl, int owner_b, enum bpa bpa)
{
    struct pd_db *db = pd_store_db(env->store);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    const char *old = NULL;
    pd_s3_db_object_del(db, a, "t", "k", &old);
    pd_s3_db_bucket_del(db, "t");
    static const char *const policies[] = {
        NULL,
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::t/*\"}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::" B ":root\"},\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::t\","
        "\"arn:aws:s3:::t/*\"]}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::" A ":user/ua\"},\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::t\","
        "\"arn:aws:s3:::t/*\"]}]}",
    };
    struct pd_s3_bucket b = {
        .name = "t", .account_id = A, .region = "us-east-1", .policy = policies[pol]};
    assert_int_equal(pd_s3_db_bucket_put(db, &b), PD_OK);
    if (own != OWN_NONE)
        assert_int_equal(pd_s3_db_bucket_cfg_set(db, "t", "ownership",
                                                 own == OWN_WRITER
                                                     ? "{\"ObjectOwnership\":\"ObjectWriter\"}"
                                                     : "{\"ObjectOwnership\":"
                                                       "\"BucketOwnerEnforced\"}"),
                         PD_OK);
    if (bpa != BPA_NONE)
        assert_int_equal(pd_s3_db_bucket_cfg_set(db, "t", "public_access_block",
                                                 bpa == BPA_IGNORE_ACLS
                                                     ? "{\"IgnorePublicAcls\":true}"
                                                     : "{\"RestrictPublicBuckets\":true}"),
                         PD_OK);
    if (bacl != BACL_PRIVATE) {
        const char *who = bacl == BACL_B_READ_WRITE ? B : ALL_USERS;
        const char *doc = pd_arena_printf(a, "{\"Grants\":[%s,%s,%s]}", grant(a, A, "FULL_CONTROL"),
                                          grant(a, who, "READ"), grant(a, who, "WRITE"));
        assert_int_equal(pd_s3_db_bucket_cfg_set(db, "t", "acl", doc), PD_OK);
    }
    const char *owner = owner_b ? B : A;
    const char *oacl_doc = NULL;
    if (oacl != OACL_PRIVATE) {
        const char *who = oacl == OACL_PUBLIC_READ ? ALL_USERS
                          : oacl == OACL_AUTH_READ ? AUTH_USERS
                          : owner_b                ? A
                                                   : B;
        oacl_doc = pd_arena_printf(a, "{\"Grants\":[%s,%s]}", grant(a, owner, "FULL_CONTROL"),
                                   grant(a, who, "READ"));
    }
    struct pd_s3_object o = {.bucket = "t",
                             .key = "k",
                             .body = "x",
                             .size = 1,
                             .etag = "\"9dd4e461268c8034f5c8564e155c67a6\"",
                             .meta = "{}",
                             .owner = owner_b ? B : NULL,
                             .acl = oacl_doc};
    assert_int_equal(pd_s3_db_object_put(db, a, &o, &old), PD_OK);
    assert_int_equal(pd_db_commit(db), PD_OK);
}

static void who(struct pd_req *r, enum caller c)
{
    static const char *const names[] = {NULL, "ua", "ua0", "ub", "ub0"};
    switch (c) {
    case C_ROOT_A:
        r->who.kind = PD_CALLER_ROOT;
        r->who.account_id = A;
        r->who.arn = "arn:aws:iam::" A ":root";
        r->who.user_id = A;
        break;
    case C_ANON:
        r->who.kind = PD_CALLER_ANONYMOUS;
        break;
    default:
        r->who.kind = PD_CALLER_USER;
        r->who.account_id = acct_of(c);
        r->who.name = names[c];
        r->who.path = "/";
        r->who.arn = pd_arena_printf(&r->arena, "arn:aws:iam::%s:user/%s", acct_of(c), names[c]);
        r->sig.auth_type = 1;
        break;
    }
    if (c == C_ROOT_A)
        r->sig.auth_type = 1;
}

/* podiam's decision: 1 allowed, 0 AccessDenied. */
static int podiam(enum caller c, enum action act)
{
    static const char *const ops[] = {"GetObject", "PutObject", "ListObjects"};
    const struct pd_service *s3 = pd_service_find("s3");
    struct pd_req *r = pd_req_new(env);
    r->db = pd_store_db(env->store);
    r->svc = s3;
    r->op = pd_service_op(s3, ops[act]);
    snprintf(r->peer_ip, sizeof r->peer_ip, "127.0.0.1");
    snprintf(r->region, sizeof r->region, "us-east-1");
    r->in = act == ACT_LIST ? json_pack("{s:s}", "Bucket", "t")
                            : json_pack("{s:s, s:s}", "Bucket", "t", "Key", "k");
    who(r, c);
    assert_int_equal(pd_db_begin(r->db, 0), PD_OK);
    int rc = pd_authorize(r);
    pd_db_rollback(r->db);
    int allowed = rc == PD_OK;
    if (!allowed && strcmp(r->err.def->code, "AccessDenied") != 0)
        fail_msg("unexpected %s: %s", r->err.def->code, r->err.message);
    pd_req_free(r);
    return allowed;
}

static void test_differential(void **st)
{
    (void)st;
    static const char *const own_n[] = {"no-controls", "ObjectWriter", "BucketOwnerEnforced"};
    static const char *const pol_n[] = {"no-policy", "public-get", "allow-account-B", "deny-ua"};
    static const char *const bacl_n[] = {"bucket-private", "bucket-B-read-write",
                                         "bucket-public-read-write"};
    static const char *const oacl_n[] = {"object-private", "object-public-read",
                                         "object-authenticated-read", "object-other-read"};
    static const char *const bpa_n[] = {"no-bpa", "IgnorePublicAcls", "RestrictPublicBuckets"};
    struct pd_arena a;
    pd_arena_init(&a);
    size_t decisions = 0, allowed = 0, failures = 0;
    for (int own = 0; own < N_OWN; own++)
        for (int pol = 0; pol < N_POL; pol++)
            for (int bacl = 0; bacl < N_BACL; bacl++)
                for (int oacl = 0; oacl < N_OACL; oacl++)
                    for (int ob = 0; ob < 2; ob++)
                        for (int bpa = 0; bpa < N_BPA; bpa++) {
                            set_state(&a, own, pol, bacl, oacl, ob, bpa);
                            for (int c = 0; c < N_CALLER; c++)
                                for (int act = 0; act < N_ACT; act++) {
                                    int want = model(own, pol, bacl, oacl, ob, bpa, c, act);
                                    int got = podiam(c, act);
                                    decisions++;
                                    allowed += got;
                                    if (want != got && failures++ < 20)
                                        print_error("%s %s by %s: model %s, podiam %s "
                                                    "[%s %s %s %s owner=%s %s]\n",
                                                    action_names[act], "t/k", caller_names[c],
                                                    want ? "allows" : "denies",
                                                    got ? "allows" : "denies", own_n[own],
                                                    pol_n[pol], bacl_n[bacl], oacl_n[oacl],
                                                    ob ? "B" : "A", bpa_n[bpa]);
                                }
                        }
    pd_arena_cleanup(&a);
    print_message("%zu decisions, %zu allowed, %zu disagreements\n", decisions, allowed, failures);
    assert_true(allowed > decisions / 10 && allowed < decisions);
    assert_int_equal(failures, 0);
}

static void test_policy_public(void **st)
{
    (void)st;
    assert_true(s3_policy_public("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                                 "\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}"));
    assert_true(s3_policy_public("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                                 "\"*\"},\"Action\":\"s3:*\",\"Resource\":\"*\"}}"));
    assert_true(s3_policy_public("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                                 "[\"arn:aws:iam::" A ":root\",\"arn:aws:iam::*:root\"]},"
                                 "\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"));
    /* pinned to a fixed source account, an /8 or narrower range, a VPC endpoint */
    assert_false(s3_policy_public("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                                  "\"Action\":\"s3:GetObject\",\"Resource\":\"*\",\"Condition\":"
                                  "{\"StringEquals\":{\"aws:SourceAccount\":\"" B "\"}}}]}"));
    assert_false(s3_policy_public("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                                  "\"Action\":\"s3:GetObject\",\"Resource\":\"*\",\"Condition\":"
                                  "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}]}"));
    assert_true(s3_policy_public("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                                 "\"Action\":\"s3:GetObject\",\"Resource\":\"*\",\"Condition\":"
                                 "{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/1\"}}}]}"));
    assert_true(s3_policy_public("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                                 "\"Action\":\"s3:GetObject\",\"Resource\":\"*\",\"Condition\":"
                                 "{\"StringLike\":{\"aws:SourceVpce\":\"vpce-*\"}}}]}"));
    /* fixed principals, services, denies */
    assert_false(s3_policy_public("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                                  "\"arn:aws:iam::" B ":root\"},\"Action\":\"s3:*\","
                                  "\"Resource\":\"*\"}]}"));
    assert_false(s3_policy_public("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{"
                                  "\"Service\":\"logging.s3.amazonaws.com\"},\"Action\":"
                                  "\"s3:PutObject\",\"Resource\":\"*\"}]}"));
    assert_false(s3_policy_public("{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
                                  "\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"));
    assert_true(s3_policy_public("{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":{"
                                 "\"AWS\":\"arn:aws:iam::" B ":root\"},\"Action\":\"s3:*\","
                                 "\"Resource\":\"*\"}]}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_public),
        cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
