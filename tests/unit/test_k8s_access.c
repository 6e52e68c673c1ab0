/* test_k8s_access.c - who an IAM caller is in a cluster and what EKS access policies grant:
 * the aws-auth ConfigMap reader (k8s/awsauth.c), the identity mapping (k8s/identity.c) and
 * the access policy catalog and authorizer (k8s/access_policy.c). All pure: no store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "k8s/access_policy.h"
#include "k8s/awsauth.h"
#include "k8s/identity.h"

#define ACCT "111122223333"

struct ctx {
    struct pd_arena a;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    pd_arena_init(&c->a);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    pd_arena_cleanup(&c->a);
    free(c);
    return 0;
}

static struct pd_awsauth_text T(const char *s) {
    struct pd_awsauth_text t = {s, s ? strlen(s) : 0};
    return t;
}

static struct pd_awsauth_text NONE = {NULL, 0};

static void parse_roles(struct ctx *c, const char *yaml, struct pd_awsauth *OUT)
{
    pd_awsauth_parse(&c->a, T(yaml), NONE, NONE, OUT);
}

/* Does some issue of m contain every needle (NULL-terminated), with ignored as given? */
static int has_issue(struct ctx *c, const struct pd_awsauth *m, int ignored, const char *needle)
{
    for (size_t i = 0; i < m->nissues; i++) {
        const char *s = pd_awsauth_issue_str(&c->a, &m->issues[i]);
        if (m->issues[i].ignored == ignored && strstr(s, needle))
            return 1;
    }
    return 0;
}

static void dump_issues(struct ctx *c, const struct pd_awsauth *m)
{
    for (size_t i = 0; i < m->nissues; i++)
        print_message("  issue: %s\n", pd_awsauth_issue_str(&c->a, &m->issues[i]));
}

/* ---- aws-auth ---- */

static void awsauth_walkthrough(void **state)
{
    struct ctx *c = *state;
    struct pd_awsauth m;
    /* the walkthrough's mapping, as `kubectl edit` leaves it (node role line first) */
    parse_roles(c,
                "- groups:\n"
                "  - system:bootstrappers\n"
                "  - system:nodes\n"
                "  rolearn: arn:aws:iam::" ACCT ":role/node\n"
                "  username: system:node:{{EC2PrivateDNSName}}\n"
                "- rolearn: arn:aws:iam::" ACCT ":role/devs\n"
                "  username: pulumi:alice\n"
                "  groups:\n"
                "    - pulumi:devs\n",
                &m);
    dump_issues(c, &m);
    assert_int_equal(m.present, 1);
    assert_int_equal(m.nissues, 0);
    assert_int_equal(m.nroles, 2);
    assert_string_equal(m.roles[1].arn, "arn:aws:iam::" ACCT ":role/devs");
    assert_string_equal(m.roles[1].username, "pulumi:alice");
    assert_int_equal(m.roles[1].ngroups, 1);
    assert_string_equal(m.roles[1].groups[0], "pulumi:devs");
    assert_int_equal(m.roles[1].line, 6);
    assert_int_equal(m.roles[1].index, 1);
    assert_int_equal(m.roles[0].ngroups, 2);
    assert_string_equal(m.roles[0].username, "system:node:{{EC2PrivateDNSName}}");

    /* JSON text (what CDK writes) is YAML too; keys match without regard to case */
    parse_roles(c,
                "[{\"RoleArn\":\"arn:aws:iam::" ACCT ":role/a\",\"USERNAME\":\"a\","
                "\"Groups\":[\"g1\",\"g2\"]}]",
                &m);
    assert_int_equal(m.nissues, 0);
    assert_int_equal(m.nroles, 1);
    assert_string_equal(m.roles[0].username, "a");
    assert_int_equal(m.roles[0].ngroups, 2);

    /* empty, "``" and "\"\"" keys are skipped silently, as the authenticator skips them */
    const char *skip[] = {"", "  \n", "``", "\"\"", "[]", "~", "# only a comment\n"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++) {
        pd_awsauth_parse(&c->a, T(skip[i]), T(skip[i]), T(skip[i]), &m);
        assert_int_equal(m.nissues, 0);
        assert_int_equal(m.nroles + m.nusers + m.naccounts, 0);
    }
    /* no ConfigMap at all */
    pd_awsauth_parse_data(&c->a, NULL, &m);
    assert_int_equal(m.present, 0);
}

static void awsauth_bad_entries(void **state)
{
    struct ctx *c = *state;
    struct pd_awsauth m;
    parse_roles(c,
                "- just-a-string\n"                              /* 1 */
                "- username: nobody\n"                           /* 2 */
                "- rolearn: arn:aws:iam::" ACCT ":role/nouser\n" /* 3 */
                "- rolearn: arn:aws:iam::" ACCT ":role/tmpl\n"   /* 4 */
                "  username: {{SessionName}}\n"
                "- rolearn: arn:aws:iam::" ACCT ":role/str-groups\n" /* 5 */
                "  username: sg\n"
                "  groups: system:masters\n"
                "- rolearn: arn:aws:iam::" ACCT ":role/mixed\n" /* 6 */
                "  username: mixed\n"
                "  groups: [ok, 42, [nested], \"\", yes]\n"
                "- rolearn: arn:aws:iam::" ACCT ":role/team/pathy\n" /* 7 */
                "  username: pathy\n"
                "- rolearn: 12345\n" /* 8 */
                "  username: num\n"
                "- rolearn: arn:aws:iam::" ACCT ":role/bool\n" /* 9 */
                "  username: yes\n"
                "- rolearn: \"arn:aws:iam::" ACCT ":role/admin\\0x\"\n" /* 10 */
                "  username: nul\n"
                "- rolearn: arn:aws:iam::" ACCT ":role/dup\n" /* 11 */
                "  username: first\n"
                "- rolearn: ARN:aws:iam::" ACCT ":role/DUP\n" /* 12 */
                "  username: second\n"
                "- rolearn: arn:aws:iam::" ACCT ":role/twice\n" /* 13 */
                "  username: a\n"
                "  UserName: b\n"
                "- rolearn: not-an-arn\n" /* 14 */
                "  username: x\n",
                &m);
    dump_issues(c, &m);
    assert_true(has_issue(c, &m, 1, "mapRoles entry 1 (line 1) ignored: the entry is a scalar"));
    assert_true(has_issue(c, &m, 1, "entry 2 (line 2) ignored: no rolearn"));
    assert_true(has_issue(c, &m, 1, "entry 3 (line 3) ignored: no username"));
    assert_true(has_issue(c, &m, 1,
                          "entry 4 (line 5) ignored: username is a mapping (a {{…}} "
                          "template must be quoted)"));
    assert_true(has_issue(c, &m, 0, "entry 5 (line 8) warning: groups is a string, not a list"));
    assert_true(has_issue(c, &m, 0, "group 2 is not a string: dropped"));
    assert_true(has_issue(c, &m, 0, "group 3 is a list: dropped"));
    assert_true(has_issue(c, &m, 0, "group 4 is empty: dropped"));
    assert_true(has_issue(c, &m, 0, "group 5 is not a string: dropped"));
    assert_true(has_issue(c, &m, 0, "rolearn has the path /team/"));
    assert_true(has_issue(c, &m, 1, "entry 8 (line 14) ignored: rolearn is not a string"));
    assert_true(has_issue(c, &m, 1, "entry 9 (line 17) ignored: username is not a string"));
    assert_true(has_issue(c, &m, 1,
                          "entry 10 (line 18) ignored: rolearn is a string holding a "
                          "NUL byte"));
    assert_true(has_issue(c, &m, 1, "entry 11 (line 20) ignored: replaced by entry 12 (line 22)"));
    assert_true(has_issue(c, &m, 0, "UserName is given twice: the last one counts"));
    assert_true(has_issue(c, &m, 0, "rolearn not-an-arn is not an ARN: it never matches"));
    assert_false(has_issue(c, &m, 0, "DUP is not an ARN")); /* "ARN:" compares as "arn:" */
    /* what is left: str-groups (no groups), mixed (one group), pathy, DUP, twice, not-an-arn */
    assert_int_equal(m.nroles, 6);
    const char *want[] = {
        "arn:aws:iam::" ACCT ":role/str-groups", "arn:aws:iam::" ACCT ":role/mixed",
        "arn:aws:iam::" ACCT ":role/team/pathy", "ARN:aws:iam::" ACCT ":role/DUP",
        "arn:aws:iam::" ACCT ":role/twice",      "not-an-arn"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(m.roles[i].arn, want[i]);
    assert_int_equal(m.roles[0].ngroups, 0);
    assert_int_equal(m.roles[1].ngroups, 1);
    assert_string_equal(m.roles[1].groups[0], "ok");
    assert_string_equal(m.roles[3].username, "second");
    assert_string_equal(m.roles[4].username, "b");
}

static void awsauth_bad_keys(void **state)
{
    struct ctx *c = *state;
    struct pd_awsauth m;
    /* a YAML error: the key is ignored as a whole (the authenticator's conversion fails) */
    parse_roles(c, "- rolearn: a\n  username: b\n - bad indent: [\n", &m);
    dump_issues(c, &m);
    assert_int_equal(m.nroles, 0);
    assert_true(has_issue(c, &m, 1, "aws-auth mapRoles ignored: YAML error at line"));
    /* not a list */
    parse_roles(c, "rolearn: arn:aws:iam::" ACCT ":role/x\nusername: x\n", &m);
    assert_true(has_issue(c, &m, 1,
                          "aws-auth mapRoles (line 1) ignored: is a mapping, not a "
                          "YAML list"));
    parse_roles(c, "plain words", &m);
    assert_true(has_issue(c, &m, 1, "is a scalar, not a YAML list"));
    /* too deep */
    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 199);
    deep[399] = '\0';
    parse_roles(c, deep, &m);
    assert_true(has_issue(c, &m, 1, "YAML nested deeper than 64 levels"));
    /* aliases are not followed */
    parse_roles(c,
                "- &base {rolearn: \"arn:aws:iam::" ACCT ":role/a\", username: a}\n"
                "- *base\n",
                &m);
    assert_int_equal(m.nroles, 1);
    assert_true(has_issue(c, &m, 1, "entry 2 (line 2) ignored: the entry is a YAML alias"));
    /* only the first document */
    parse_roles(c,
                "- {rolearn: \"arn:aws:iam::" ACCT ":role/one\", username: one}\n"
                "---\n"
                "- {rolearn: \"arn:aws:iam::" ACCT ":role/two\", username: two}\n",
                &m);
    assert_int_equal(m.nroles, 1);
    assert_string_equal(m.roles[0].username, "one");
    /* too big */
    size_t big = PD_AWSAUTH_MAX_TEXT + 1;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    text[0] = '-';
    text[big] = '\0';
    parse_roles(c, text, &m);
    free(text);
    assert_true(has_issue(c, &m, 1, "larger than"));
    /* mapUsers and mapAccounts */
    pd_awsauth_parse(&c->a, NONE,
                     T("- userarn: arn:aws:iam::" ACCT ":user/ops/bob\n  username: bob\n"
                       "- rolearn: arn:aws:iam::" ACCT ":role/wrong-key\n  username: w\n"),
                     T("- 111122223333\n- \"012345678901\"\n- 012345678902\n- [x]\n- ~\n"), &m);
    dump_issues(c, &m);
    assert_int_equal(m.nusers, 1);
    assert_string_equal(m.users[0].arn, "arn:aws:iam::" ACCT ":user/ops/bob");
    assert_true(has_issue(c, &m, 1, "mapUsers entry 2 (line 3) ignored: no userarn"));
    assert_int_equal(m.naccounts, 3);
    assert_string_equal(m.accounts[0], "111122223333");
    assert_string_equal(m.accounts[1], "012345678901");
    assert_string_equal(m.accounts[2], "012345678902"); /* the scalar's text, as yaml.v2 keeps */
    assert_true(has_issue(c, &m, 1, "mapAccounts entry 4 (line 4) ignored: the account is a list"));
    /* a ConfigMap whose data value is not a string */
    json_t *data = json_pack("{s:i, s:s}", "mapRoles", 5, "mapUsers", "[]");
    pd_awsauth_parse_data(&c->a, data, &m);
    json_decref(data);
    assert_true(has_issue(c, &m, 1, "aws-auth mapRoles ignored: the value is not a string"));
}

static void awsauth_cache(void **state)
{
    struct ctx *c = *state;
    struct pd_awsauth_cache *cache = pd_awsauth_cache_new(1);
    json_t *d1 = json_pack("{s:s}", "mapRoles", "- {rolearn: a:b, username: one}");
    json_t *d2 = json_pack("{s:s}", "mapRoles", "- {rolearn: a:b, username: two}");
    struct pd_awsauth_ref *r1, *r2, *r3, *r4;
    const struct pd_awsauth *m1 = pd_awsauth_cache_get(cache, "C1", 5, d1, &r1);
    const struct pd_awsauth *m2 = pd_awsauth_cache_get(cache, "C1", 5, d1, &r2);
    assert_ptr_equal(m1, m2);
    assert_int_equal(pd_awsauth_cache_parses(cache), 1);
    /* a new version replaces the old one, which stays valid while held */
    const struct pd_awsauth *m3 = pd_awsauth_cache_get(cache, "C1", 6, d2, &r3);
    assert_int_equal(pd_awsauth_cache_parses(cache), 2);
    assert_string_equal(m3->roles[0].username, "two");
    assert_string_equal(m1->roles[0].username, "one");
    pd_awsauth_cache_release(cache, r1);
    pd_awsauth_cache_release(cache, r2);
    /* another cluster evicts (max 1); no ConfigMap: present 0 */
    const struct pd_awsauth *m4 = pd_awsauth_cache_get(cache, "C2", 0, NULL, &r4);
    assert_int_equal(m4->present, 0);
    assert_string_equal(m3->roles[0].username, "two");
    pd_awsauth_cache_release(cache, r3);
    pd_awsauth_cache_release(cache, r4);
    const struct pd_awsauth *m5 = pd_awsauth_cache_get(cache, "C1", 6, d2, &r1);
    assert_int_equal(pd_awsauth_cache_parses(cache), 4);
    assert_string_equal(m5->roles[0].username, "two");
    pd_awsauth_cache_release(cache, r1);
    /* the same cluster id and version with other data (a seeded podiam reset and the cluster
     * made again): parsed again, never the stale map */
    const struct pd_awsauth *m6 = pd_awsauth_cache_get(cache, "C1", 6, d1, &r1);
    assert_int_equal(pd_awsauth_cache_parses(cache), 5);
    assert_string_equal(m6->roles[0].username, "one");
    pd_awsauth_cache_release(cache, r1);
    pd_awsauth_cache_free(cache);
    json_decref(d1);
    json_decref(d2);
    (void)c;
}

/* ---- identity ---- */

static const struct pd_eks_caller DEVS_ALICE = {
    "arn:aws:sts::" ACCT ":assumed-role/devs/alice@example.com", ACCT,
    "AROADEVS0000000000001:alice@example.com", "ASIAEXAMPLE000000001"};
static const struct pd_eks_caller ROOT = {"arn:aws:iam::" ACCT ":root", ACCT, ACCT,
                                          "AKIAEXAMPLEROOT00001"};
static const struct pd_eks_caller BOB = {"arn:aws:iam::" ACCT ":user/ops/bob", ACCT,
                                         "AIDABOB0000000000001", "AKIABOB0000000000001"};

static int has_step(const struct pd_eks_identity *id, const char *needle)
{
    for (size_t i = 0; i < id->ntrace; i++)
        if (strstr(id->trace[i], needle))
            return 1;
    return 0;
}

static void dump_trace(const struct pd_eks_identity *id)
{
    for (size_t i = 0; i < id->ntrace; i++)
        print_message("  trace: %s\n", id->trace[i]);
}

static const char *extra(const struct pd_eks_identity *id, const char *key)
{
    for (size_t i = 0; i < id->nextra; i++)
        if (strcmp(id->extra[i].key, key) == 0)
            return id->extra[i].value;
    return NULL;
}

static void identity_config_map(void **state)
{
    struct ctx *c = *state;
    struct pd_awsauth m;
    pd_awsauth_parse(&c->a,
                     T("- rolearn: arn:aws:iam::" ACCT ":role/devs\n"
                       "  username: pulumi:alice\n"
                       "  groups: [pulumi:devs, \"team-{{AccountID}}\"]\n"
                       "- rolearn: arn:aws:iam::" ACCT ":role/team/pathy\n"
                       "  username: pathy\n"),
                     T("- userarn: ARN:AWS:IAM::" ACCT ":USER/OPS/BOB\n  username: bob\n"), NONE,
                     &m);
    struct pd_eks_identity id;
    struct pd_eks_identity_in in = {.mode = PD_EKS_MODE_CONFIG_MAP,
                                    .caller = &DEVS_ALICE,
                                    .creator_arn = "arn:aws:iam::" ACCT ":root",
                                    .aws_auth = &m};
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    dump_trace(&id);
    assert_int_equal(id.by, PD_EKS_BY_AWS_AUTH);
    assert_string_equal(id.username, "pulumi:alice");
    assert_int_equal(id.ngroups, 2);
    assert_string_equal(id.groups[0], "pulumi:devs");
    assert_string_equal(id.groups[1], "team-" ACCT);
    assert_int_equal(id.creator_admin, 0);
    assert_string_equal(id.uid, "aws-iam-authenticator:" ACCT ":AROADEVS0000000000001");
    assert_string_equal(id.canonical_arn, "arn:aws:iam::" ACCT ":role/devs");
    assert_string_equal(extra(&id, "arn"), DEVS_ALICE.arn);
    assert_string_equal(extra(&id, "canonicalArn"), "arn:aws:iam::" ACCT ":role/devs");
    assert_string_equal(extra(&id, "sessionName"), "alice@example.com");
    assert_string_equal(extra(&id, "accessKeyId"), "ASIAEXAMPLE000000001");
    assert_string_equal(extra(&id, "principalId"), "AROADEVS0000000000001");
    assert_string_equal(extra(&id, "sigs.k8s.io/aws-iam-authenticator/principalId"),
                        "AROADEVS0000000000001");
    assert_non_null(strstr(id.mapped_by, "aws-auth mapRoles entry 1 (line 1)"));
    assert_true(has_step(&id, "not the cluster's creator"));

    /* a user (path kept in the canonical ARN), matched without regard to case */
    in.caller = &BOB;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_BY_AWS_AUTH);
    assert_string_equal(id.username, "bob");
    assert_string_equal(extra(&id, "sessionName"), "");
    assert_string_equal(id.uid, "aws-iam-authenticator:" ACCT ":AIDABOB0000000000001");

    /* the creator: EKS's kubernetes-admin in system:masters, in no visible configuration */
    in.caller = &ROOT;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_BY_CREATOR);
    assert_int_equal(id.creator_admin, 1);
    assert_int_equal(id.ngroups, 1);
    assert_string_equal(id.groups[0], "system:masters");
    assert_string_equal(id.username, "kubernetes-admin");
    assert_string_equal(extra(&id, "arn"), ROOT.arn);
    assert_string_equal(id.uid, "aws-iam-authenticator:" ACCT ":" ACCT);

    /* a creator that was a session of a role: any session of that role is the creator */
    struct pd_eks_caller other = {"arn:aws:sts::" ACCT ":assumed-role/Admin/another", ACCT,
                                  "AROAADMIN:another", "ASIAX"};
    in.caller = &other;
    in.creator_arn = "arn:aws:sts::" ACCT ":assumed-role/admin/terraform";
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_BY_CREATOR);

    /* a role in aws-auth with a path never matches a session (which has no path) */
    struct pd_eks_caller pathy = {"arn:aws:sts::" ACCT ":assumed-role/pathy/s", ACCT, "AROAP:s",
                                  "ASIAP"};
    in.caller = &pathy;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    dump_trace(&id);
    assert_int_equal(id.by, PD_EKS_NOT_MAPPED);
    assert_null(id.username);
    assert_true(has_step(&id, "rolearn has the path /team/"));
    assert_true(has_step(&id, "aws-auth has no mapRoles or mapUsers line for arn:aws:iam::" ACCT
                              ":role/pathy"));
    assert_non_null(strstr(id.mapped_by, "is not mapped by the aws-auth ConfigMap"));

    /* no ConfigMap */
    in.aws_auth = NULL;
    in.caller = &DEVS_ALICE;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_NOT_MAPPED);
    assert_true(has_step(&id, "no aws-auth ConfigMap in kube-system"));
    /* access entries are not read in CONFIG_MAP mode */
    const char *g[] = {"x"};
    struct pd_eks_entry_ref e = {"arn:aws:iam::" ACCT ":role/devs",
                                 "AROADEVS0000000000001",
                                 "STANDARD",
                                 "u",
                                 g,
                                 1,
                                 "arn:aws:eks:…"};
    in.entries = &e;
    in.nentries = 1;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_NOT_MAPPED);
}

static void identity_templates(void **state)
{
    struct ctx *c = *state;
    struct pd_awsauth m;
    pd_awsauth_parse(&c->a,
                     T("- rolearn: arn:aws:iam::" ACCT ":role/devs\n"
                       "  username: \"dev:{{SessionName}}:{{SessionNameRaw}}:{{AccessKeyID}}:"
                       "{{AccountID}}:{{Unknown}}\"\n"
                       "  groups: [\"g-{{SessionName}}\"]\n"
                       "- rolearn: arn:aws:iam::" ACCT ":role/node\n"
                       "  username: system:node:{{EC2PrivateDNSName}}\n"
                       "- rolearn: arn:aws:iam::" ACCT ":role/nodegroup\n"
                       "  username: node\n"
                       "  groups: [\"{{EC2PrivateDNSName}}\"]\n"),
                     NONE, NONE, &m);
    struct pd_eks_identity id;
    struct pd_eks_identity_in in = {
        .mode = PD_EKS_MODE_API_AND_CONFIG_MAP, .caller = &DEVS_ALICE, .aws_auth = &m};
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_BY_AWS_AUTH);
    assert_string_equal(id.username,
                        "dev:alice-example.com:alice@example.com:ASIAEXAMPLE000000001:" ACCT
                        ":{{Unknown}}");
    assert_string_equal(id.groups[0], "g-alice-example.com");
    /* {{EC2PrivateDNSName}}: a session that is not an instance id, or one podiam cannot
     * resolve: authenticates no one, and does not fall through to another mapping */
    struct pd_eks_caller node = {"arn:aws:sts::" ACCT ":assumed-role/node/build", ACCT,
                                 "AROAN:build", "ASIAN"};
    in.caller = &node;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    dump_trace(&id);
    assert_int_equal(id.by, PD_EKS_NOT_MAPPED);
    assert_string_equal(id.mapped_by, "error rendering username template "
                                      "\"system:node:{{EC2PrivateDNSName}}\": SessionName did "
                                      "not contain an instance id");
    struct pd_eks_caller inst = {"arn:aws:sts::" ACCT ":assumed-role/node/i-0123456789abcdef0",
                                 ACCT, "AROAN:i-0123456789abcdef0", "ASIAN"};
    in.caller = &inst;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_NOT_MAPPED);
    assert_non_null(strstr(id.mapped_by, "podiam has no EC2 instances"));
    struct pd_eks_caller ng = {"arn:aws:sts::" ACCT ":assumed-role/nodegroup/i-01234567", ACCT,
                               "AROAG:i-01234567", "ASIAG"};
    in.caller = &ng;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_NOT_MAPPED);
    assert_non_null(strstr(id.mapped_by, "error rendering group template"));
}

static void identity_access_entries(void **state)
{
    struct ctx *c = *state;
    struct pd_awsauth m;
    pd_awsauth_parse(&c->a,
                     T("- rolearn: arn:aws:iam::" ACCT ":role/devs\n"
                       "  username: from-aws-auth\n"),
                     NONE, T("- \"" ACCT "\"\n"), &m);
    const char *g[] = {"pulumi:devs", "{{SessionName}}-group"};
    struct pd_eks_entry_ref entries[] = {
        {"arn:aws:iam::" ACCT ":root", ACCT, "STANDARD", "arn:aws:iam::" ACCT ":root", NULL, 0,
         "arn:aws:eks:us-east-1:" ACCT ":access-entry/c/root/" ACCT "/root/u1"},
        {"arn:aws:iam::" ACCT ":role/team/devs", "AROADEVS0000000000001", "STANDARD",
         "arn:aws:sts::" ACCT ":assumed-role/devs/{{SessionName}}", g, 2,
         "arn:aws:eks:us-east-1:" ACCT ":access-entry/c/role/" ACCT "/devs/u2"},
    };
    struct pd_eks_identity id;
    struct pd_eks_identity_in in = {.mode = PD_EKS_MODE_API_AND_CONFIG_MAP,
                                    .caller = &DEVS_ALICE,
                                    .creator_arn = ROOT.arn,
                                    .entries = entries,
                                    .nentries = 2,
                                    .aws_auth = &m};
    /* the entry wins over aws-auth; a path in the entry's ARN is fine */
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    dump_trace(&id);
    assert_int_equal(id.by, PD_EKS_BY_ACCESS_ENTRY);
    assert_int_equal(id.entry, 1);
    assert_string_equal(id.username, "arn:aws:sts::" ACCT ":assumed-role/devs/alice-example.com");
    assert_string_equal(id.groups[1], "alice-example.com-group");
    assert_non_null(strstr(id.mapped_by, "access entry arn:aws:iam::" ACCT ":role/team/devs"));
    /* the role deleted and made again (new unique id): the entry no longer matches; aws-auth
     * still maps it in API_AND_CONFIG_MAP */
    struct pd_eks_caller again = DEVS_ALICE;
    again.user_id = "AROADEVS0000000000002:alice@example.com";
    in.caller = &again;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    dump_trace(&id);
    assert_int_equal(id.by, PD_EKS_BY_AWS_AUTH);
    assert_string_equal(id.username, "from-aws-auth");
    assert_true(has_step(&id, "was made for principal id AROADEVS0000000000001; the caller is "
                              "AROADEVS0000000000002"));
    /* API mode: aws-auth is not read */
    in.mode = PD_EKS_MODE_API;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_NOT_MAPPED);
    assert_non_null(strstr(id.mapped_by, "in API mode the aws-auth ConfigMap is not read"));
    /* the creator is nobody special outside CONFIG_MAP: root maps through its entry */
    in.caller = &ROOT;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_BY_ACCESS_ENTRY);
    assert_int_equal(id.entry, 0);
    assert_int_equal(id.creator_admin, 0);
    /* mapAccounts (API_AND_CONFIG_MAP): username is the canonical ARN, no groups */
    in.mode = PD_EKS_MODE_API_AND_CONFIG_MAP;
    in.caller = &BOB;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_BY_MAP_ACCOUNTS);
    assert_string_equal(id.username, BOB.arn);
    assert_int_equal(id.ngroups, 0);
    /* an entry whose id is the caller's but whose ARN is not */
    struct pd_eks_entry_ref odd = {
        "arn:aws:iam::" ACCT ":user/other", "AIDABOB0000000000001", "STANDARD", "x", NULL, 0, "e"};
    in.entries = &odd;
    in.nentries = 1;
    in.aws_auth = NULL;
    assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
    assert_int_equal(id.by, PD_EKS_NOT_MAPPED);
    assert_true(has_step(&id, "has the caller's principal id AIDABOB0000000000001 but another "
                              "ARN"));
}

static void identity_bad_callers(void **state)
{
    struct ctx *c = *state;
    struct pd_eks_identity id;
    struct pd_eks_caller bad[] = {
        {"arn:aws:s3:::bucket", ACCT, ACCT, "K"},
        {"arn:aws:sts::" ACCT ":assumed-role/onlyrole", ACCT, "AROA:x", "K"},
        {"arn:aws:iam::" ACCT ":group/admins", ACCT, "AGPA", "K"},
        {"arn:notapartition:iam::" ACCT ":user/x", ACCT, "AIDA", "K"},
        {"not an arn", ACCT, "AIDA", "K"},
        {"arn:aws:sts::" ACCT ":assumed-role/r/s", ACCT, "AROA:s:extra", "K"},
        {NULL, ACCT, "AIDA", "K"},
    };
    struct pd_eks_identity_in in = {.mode = PD_EKS_MODE_CONFIG_MAP,
                                    .creator_arn = "arn:aws:iam::" ACCT ":root"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        in.caller = &bad[i];
        assert_int_equal(pd_eks_identity_map(&c->a, &in, &id), PD_OK);
        assert_int_equal(id.by, PD_EKS_NOT_MAPPED);
        assert_non_null(id.mapped_by);
    }
    /* canonical ARNs */
    const char *out, *why;
    assert_int_equal(pd_eks_canonical_arn(&c->a, "arn:aws:sts::1:assumed-role/R/s", &out, &why),
                     PD_OK);
    assert_string_equal(out, "arn:aws:iam::1:role/R");
    assert_int_equal(pd_eks_canonical_arn(&c->a, "arn:aws:sts::1:federated-user/b", &out, &why),
                     PD_OK);
    assert_string_equal(out, "arn:aws:sts::1:federated-user/b");
    assert_int_equal(pd_eks_canonical_arn(&c->a, "arn:aws-cn:iam::1:role/p/R", &out, &why), PD_OK);
    assert_string_equal(out, "arn:aws-cn:iam::1:role/p/R");
    /* default usernames and paths */
    assert_string_equal(pd_eks_default_username(&c->a, "arn:aws:iam::1:role/a/b/devs", "STANDARD"),
                        "arn:aws:sts::1:assumed-role/devs/{{SessionName}}");
    assert_string_equal(pd_eks_default_username(&c->a, "arn:aws:iam::1:user/p/bob", "STANDARD"),
                        "arn:aws:iam::1:user/p/bob");
    assert_string_equal(pd_eks_default_username(&c->a, "arn:aws:iam::1:role/n", "EC2_LINUX"),
                        "system:node:{{EC2PrivateDNSName}}");
    assert_string_equal(pd_eks_default_username(&c->a, "arn:aws:iam::1:role/n", "FARGATE_LINUX"),
                        "system:node:{{SessionName}}");
    assert_string_equal(pd_eks_strip_path(&c->a, "arn:aws:iam::1:role/a/b/devs"),
                        "arn:aws:iam::1:role/devs");
    assert_string_equal(pd_eks_strip_path(&c->a, "arn:aws:iam::1:root"), "arn:aws:iam::1:root");
    enum pd_eks_auth_mode mode;
    assert_int_equal(pd_eks_auth_mode_parse("API_AND_CONFIG_MAP", &mode), PD_OK);
    assert_int_equal(mode, PD_EKS_MODE_API_AND_CONFIG_MAP);
    assert_int_equal(pd_eks_auth_mode_parse("api", &mode), PD_EINVAL);
    assert_string_equal(pd_eks_auth_mode_name(PD_EKS_MODE_API), "API");
}

/* ---- access policies ---- */

#define POLICY(n) PD_EKS_ACCESS_POLICY_PREFIX n

static struct pd_k8s_attrs res(const char *verb, const char *group, const char *resource,
                               const char *sub, const char *ns, const char *name)
{
    struct pd_k8s_attrs a = {.verb = verb,
                             .resource_request = 1,
                             .api_group = group,
                             .resource = resource,
                             .subresource = sub,
                             .ns = ns,
                             .name = name};
    return a;
}

static struct pd_k8s_attrs url(const char *verb, const char *path)
{
    struct pd_k8s_attrs a = {.verb = verb, .resource_request = 0, .path = path};
    return a;
}

static enum pd_k8s_verdict decide(struct ctx *c, const struct pd_eks_policy_assoc *s, size_t n,
                                  struct pd_k8s_attrs at, const char **OUT_reason)
{
    struct pd_eks_policy_decision d;
    pd_eks_access_policy_authorize(&c->a, s, n, &at, &d);
    if (OUT_reason)
        *OUT_reason = d.reason;
    assert_non_null(d.reason);
    return d.verdict;
}

static void policies_edit_in_apps(void **state)
{
    struct ctx *c = *state;
    const char *apps[] = {"apps"};
    struct pd_eks_policy_assoc edit = {POLICY("AmazonEKSEditPolicy"), 0, apps, 1};
    const char *why;
    const char *verbs[] = {"get", "list", "watch", "create", "update", "patch", "delete"};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(decide(c, &edit, 1, res(verbs[i], "", "pods", NULL, "apps", NULL), NULL),
                         PD_K8S_ALLOW);
    assert_int_equal(decide(c, &edit, 1, res("create", "", "pods", NULL, "apps", "p"), &why),
                     PD_K8S_ALLOW);
    assert_string_equal(why, "EKS access policy AmazonEKSEditPolicy (namespace scope: apps) allows "
                             "it: rule 17 {APIGroups:[\"\"], Resources:[\"pods\" \"pods/attach\" "
                             "\"pods/exec\" \"pods/portforward\" \"pods/proxy\"], "
                             "Verbs:[\"create\" \"delete\" \"deletecollection\" \"patch\" "
                             "\"update\"]}");
    /* Forbidden in default and cluster-wide: no opinion (RBAC decides next) */
    assert_int_equal(decide(c, &edit, 1, res("list", "", "pods", NULL, "default", NULL), &why),
                     PD_K8S_NO_OPINION);
    assert_string_equal(why, "no EKS access policy allows it: AmazonEKSEditPolicy (namespace "
                             "scope: apps): does not cover namespace \"default\"");
    assert_int_equal(decide(c, &edit, 1, res("list", "", "pods", NULL, NULL, NULL), &why),
                     PD_K8S_NO_OPINION);
    assert_non_null(strstr(why, "a namespace scope does not cover cluster-scoped requests"));
    assert_int_equal(decide(c, &edit, 1, url("get", "/healthz"), &why), PD_K8S_NO_OPINION);
    assert_non_null(strstr(why, "does not cover non-resource URLs"));
    /* what edit has and has not */
    assert_int_equal(decide(c, &edit, 1, res("get", "", "pods", "log", "apps", "p"), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(decide(c, &edit, 1, res("create", "", "pods", "exec", "apps", "p"), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(decide(c, &edit, 1, res("get", "", "secrets", NULL, "apps", "s"), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(
        decide(c, &edit, 1, res("patch", "apps", "deployments", "scale", "apps", "d"), NULL),
        PD_K8S_ALLOW);
    assert_int_equal(
        decide(c, &edit, 1, res("impersonate", "", "serviceaccounts", NULL, "apps", "sa"), NULL),
        PD_K8S_ALLOW);
    assert_int_equal(decide(c, &edit, 1, res("get", "", "namespaces", NULL, "apps", "apps"), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(decide(c, &edit, 1,
                            res("create", "rbac.authorization.k8s.io", "roles", NULL, "apps", NULL),
                            &why),
                     PD_K8S_NO_OPINION);
    assert_string_equal(why, "no EKS access policy allows it: AmazonEKSEditPolicy (namespace "
                             "scope: apps): no rule allows it");
    assert_int_equal(decide(c, &edit, 1, res("update", "", "pods", "status", "apps", "p"), NULL),
                     PD_K8S_NO_OPINION);
    assert_int_equal(
        decide(c, &edit, 1, res("delete", "", "namespaces", NULL, "apps", "apps"), NULL),
        PD_K8S_NO_OPINION);
    assert_int_equal(decide(c, &edit, 1, res("get", "apps", "pods", NULL, "apps", NULL), NULL),
                     PD_K8S_NO_OPINION); /* wrong group */
}

static void policies_catalog(void **state)
{
    struct ctx *c = *state;
    const char *why;
    struct pd_eks_policy_assoc admin = {POLICY("AmazonEKSClusterAdminPolicy"), 1, NULL, 0};
    assert_int_equal(decide(c, &admin, 1, res("delete", "", "nodes", NULL, NULL, "n"), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(decide(c, &admin, 1, url("get", "/metrics"), &why), PD_K8S_ALLOW);
    assert_non_null(strstr(why, "rule 2 {NonResourceURLs:[\"*\"], Verbs:[\"*\"]}"));
    const char *ns[] = {"team-*"};
    struct pd_eks_policy_assoc scoped = {POLICY("AmazonEKSClusterAdminPolicy"), 0, ns, 1};
    assert_int_equal(decide(c, &scoped, 1, res("delete", "", "pods", NULL, "team-a", "p"), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(decide(c, &scoped, 1, res("delete", "", "pods", NULL, "team", "p"), NULL),
                     PD_K8S_NO_OPINION);
    assert_int_equal(decide(c, &scoped, 1, res("list", "", "nodes", NULL, NULL, NULL), NULL),
                     PD_K8S_NO_OPINION);
    assert_int_equal(decide(c, &scoped, 1, url("get", "/healthz"), NULL), PD_K8S_NO_OPINION);

    struct pd_eks_policy_assoc view = {POLICY("AmazonEKSViewPolicy"), 1, NULL, 0};
    assert_int_equal(decide(c, &view, 1, res("list", "", "pods", NULL, NULL, NULL), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(decide(c, &view, 1, res("get", "", "secrets", NULL, "a", "s"), NULL),
                     PD_K8S_NO_OPINION);
    assert_int_equal(decide(c, &view, 1, res("create", "", "pods", NULL, "a", NULL), NULL),
                     PD_K8S_NO_OPINION);
    struct pd_eks_policy_assoc aview = {POLICY("AmazonEKSAdminViewPolicy"), 1, NULL, 0};
    assert_int_equal(decide(c, &aview, 1, res("get", "", "secrets", NULL, "a", "s"), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(
        decide(c, &aview, 1, res("watch", "x.io", "things", "status", "a", NULL), NULL),
        PD_K8S_ALLOW);
    assert_int_equal(decide(c, &aview, 1, res("delete", "", "secrets", NULL, "a", "s"), NULL),
                     PD_K8S_NO_OPINION);
    struct pd_eks_policy_assoc nsadmin = {POLICY("AmazonEKSAdminPolicy"), 1, NULL, 0};
    assert_int_equal(
        decide(c, &nsadmin, 1,
               res("create", "rbac.authorization.k8s.io", "rolebindings", NULL, "a", NULL), NULL),
        PD_K8S_ALLOW);
    assert_int_equal(
        decide(c, &nsadmin, 1,
               res("create", "authorization.k8s.io", "localsubjectaccessreviews", NULL, "a", NULL),
               NULL),
        PD_K8S_ALLOW);
    assert_int_equal(
        decide(c, &nsadmin, 1,
               res("create", "rbac.authorization.k8s.io", "clusterroles", NULL, NULL, NULL), NULL),
        PD_K8S_NO_OPINION);
    struct pd_eks_policy_assoc secrets = {POLICY("AmazonEKSSecretReaderPolicy"), 1, NULL, 0};
    assert_int_equal(decide(c, &secrets, 1, res("list", "", "secrets", NULL, "a", NULL), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(decide(c, &secrets, 1, res("list", "", "pods", NULL, "a", NULL), NULL),
                     PD_K8S_NO_OPINION);
    /* policies podiam does not model, and ARNs that are no policy, grant nothing */
    struct pd_eks_policy_assoc several[] = {
        {POLICY("AmazonEMRJobPolicy"), 1, NULL, 0},
        {"arn:aws:iam::aws:policy/AdministratorAccess", 1, NULL, 0},
        {POLICY("AmazonEKSViewPolicy"), 1, NULL, 0},
    };
    assert_int_equal(decide(c, several, 3, res("delete", "", "pods", NULL, "a", "p"), &why),
                     PD_K8S_NO_OPINION);
    assert_string_equal(why, "no EKS access policy allows it: AmazonEMRJobPolicy (cluster scope): "
                             "podiam does not model this policy's rules, grants nothing; "
                             "arn:aws:iam::aws:policy/AdministratorAccess (cluster scope): not an "
                             "EKS access policy, grants nothing; AmazonEKSViewPolicy (cluster "
                             "scope): no rule allows it");
    assert_int_equal(decide(c, several, 3, res("get", "", "pods", NULL, "a", "p"), NULL),
                     PD_K8S_ALLOW);
    assert_int_equal(decide(c, NULL, 0, res("get", "", "pods", NULL, "a", "p"), &why),
                     PD_K8S_NO_OPINION);
    assert_non_null(strstr(why, "no access policy is associated"));

    /* the catalog: sorted, findable, ARNs in the eks::aws form */
    size_t n;
    const struct pd_eks_access_policy *cat = pd_eks_access_policies(&n);
    assert_true(n >= 30);
    for (size_t i = 0; i + 1 < n; i++)
        assert_true(strcmp(cat[i].name, cat[i + 1].name) < 0);
    assert_ptr_equal(pd_eks_access_policy_find(POLICY("AmazonEKSEditPolicy"))->rules,
                     pd_eks_access_policy_find(POLICY("AmazonEKSEditPolicy"))->rules);
    assert_null(pd_eks_access_policy_find("arn:aws:eks::aws:cluster-access-policy/Nope"));
    assert_null(pd_eks_access_policy_find(NULL));
}

static void rules_matching(void **state)
{
    struct ctx *c = *state;
    const char *const any[] = {"*", NULL};
    const char *const get[] = {"get", NULL};
    const char *const core[] = {"", NULL};
    const char *const scale[] = {"*/scale", NULL};
    const char *const names[] = {"a", "b", NULL};
    const char *const pods[] = {"pods", NULL};
    const char *const urls[] = {"/healthz/*", "/version", NULL};
    struct pd_k8s_rule star = {any, any, any, NULL, NULL};
    struct pd_k8s_attrs at = res("get", "", "pods", "log", "ns", "p");
    assert_true(pd_k8s_rule_allows(&star, &at)); /* "*" covers subresources */
    struct pd_k8s_rule r = {get, core, pods, NULL, NULL};
    assert_false(pd_k8s_rule_allows(&r, &at)); /* pods is not pods/log */
    at = res("get", "", "pods", NULL, "ns", "p");
    assert_true(pd_k8s_rule_allows(&r, &at));
    struct pd_k8s_rule sc = {any, any, scale, NULL, NULL};
    at = res("update", "apps", "deployments", "scale", "ns", "d");
    assert_true(pd_k8s_rule_allows(&sc, &at));
    at = res("update", "apps", "deployments", NULL, "ns", "d");
    assert_false(pd_k8s_rule_allows(&sc, &at));
    at = res("update", "apps", "deployments", "status", "ns", "d");
    assert_false(pd_k8s_rule_allows(&sc, &at));
    struct pd_k8s_rule named = {get, core, pods, names, NULL};
    at = res("get", "", "pods", NULL, "ns", "b");
    assert_true(pd_k8s_rule_allows(&named, &at));
    at = res("get", "", "pods", NULL, "ns", "c");
    assert_false(pd_k8s_rule_allows(&named, &at));
    at = res("get", "", "pods", NULL, "ns", NULL);
    assert_false(pd_k8s_rule_allows(&named, &at));
    struct pd_k8s_rule u = {get, NULL, NULL, NULL, urls};
    at = url("get", "/healthz/etcd");
    assert_true(pd_k8s_rule_allows(&u, &at));
    at = url("get", "/healthz");
    assert_false(pd_k8s_rule_allows(&u, &at));
    at = url("get", "/version");
    assert_true(pd_k8s_rule_allows(&u, &at));
    at = url("post", "/version");
    assert_false(pd_k8s_rule_allows(&u, &at));
    at = res("get", "", "version", NULL, NULL, NULL);
    assert_false(pd_k8s_rule_allows(&u, &at)); /* URL rules never match resources */
    assert_string_equal(pd_k8s_rule_str(&c->a, &named),
                        "{APIGroups:[\"\"], Resources:[\"pods\"], ResourceNames:[\"a\" \"b\"], "
                        "Verbs:[\"get\"]}");
    /* namespace patterns */
    assert_true(pd_eks_namespace_match("dev-*", "dev-a"));
    assert_true(pd_eks_namespace_match("dev-*", "dev-"));
    assert_false(pd_eks_namespace_match("dev-*", "dev"));
    assert_true(pd_eks_namespace_match("*", "anything"));
    assert_true(pd_eks_namespace_match("a*b*c", "aXbYbZc"));
    assert_false(pd_eks_namespace_match("a*b*c", "aXbYbZ"));
    assert_true(pd_eks_namespace_match("apps", "apps"));
    assert_false(pd_eks_namespace_match("apps", "apps2"));
    assert_false(pd_eks_namespace_match("apps", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(awsauth_walkthrough),     cmocka_unit_test(awsauth_bad_entries),
        cmocka_unit_test(awsauth_bad_keys),        cmocka_unit_test(awsauth_cache),
        cmocka_unit_test(identity_config_map),     cmocka_unit_test(identity_templates),
        cmocka_unit_test(identity_access_entries), cmocka_unit_test(identity_bad_callers),
        cmocka_unit_test(policies_edit_in_apps),   cmocka_unit_test(policies_catalog),
        cmocka_unit_test(rules_matching),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
