/*
 * test_organizations.c - the Organizations service (services/organizations/) and what it
 * does to decisions (auth/orgs.c, authorize.c), on a whole podiam without sockets.
 *
 * Service: the organization, OUs (depth, duplicates, non-empty deletes, no cycles), accounts
 * (CreateAccount makes a usable account; failures are the request's state), policies (AWS's
 * size quota, the policy language per type, duplicates), attachments (type enabled, target
 * exists, five per target, the last SCP stays, RCPFullAWSAccess stays), policy types,
 * pages, input errors as InvalidInputException with a Reason, fixtures round trip.
 * Decisions: signed requests through pd_dispatch from member, management and outside
 * accounts: SCP deny at an OU, the management account exempt, an RCP that confines a bucket
 * to the organization (outside, inside, anonymous), the organization keys and the trace.
 */
#include <unistd.h>

#include "pipeline_env.h"

#include "auth/decisions.h"
#include "auth/orgs.h"
#include "auth/policy_cache.h"
#include "store/iam_db.h"
#include "store/org_db.h"

#define MGMT PT_ACCT

#define DOC(stmt) "{\"Version\":\"2012-10-17\",\"Statement\":[" stmt "]}"
#define DENY_LIST_USERS DOC("{\"Effect\":\"Deny\",\"Action\":\"iam:ListUsers\",\"Resource\":\"*\"}")
#define ORG_ONLY_RCP(org)                                                                          \
    DOC("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\","         \
        "\"Condition\":{\"StringNotEqualsIfExists\":{\"aws:PrincipalOrgID\":\"" org                \
        "\"},\"BoolIfExists\":{\"aws:PrincipalIsAWSService\":\"false\"}}}")

struct ctx {
    struct pd_env *env;
    char org_id[40], root[40];
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    c->env = pt_env_new();
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    pt_env_free(c->env);
    free(c);
    return 0;
}

/* Run an Organizations (or other service's) operation as the root of account. */
static struct pd_req *as_root(struct ctx *c, const char *account, const char *svc, const char *op,
                              json_t *in)
{
    struct pd_req *r = pd_req_new(c->env);
    r->db = pd_store_db(c->env->store);
    r->svc = pd_service_find(svc);
    r->op = pd_service_op(r->svc, op);
    assert_non_null(r->op);
    r->who.kind = PD_CALLER_ROOT;
    r->who.account_id = pd_arena_strdup(&r->arena, account);
    r->who.arn = pd_arena_printf(&r->arena, "arn:aws:iam::%s:root", account);
    snprintf(r->region, sizeof r->region, "us-east-1");
    r->in = in ? in : json_object();
    assert_int_equal(pd_db_begin(r->db, 1), PD_OK);
    int rc = r->op->fn(r);
    if (rc == PD_OK)
        assert_int_equal(pd_db_commit(r->db), PD_OK);
    else
        pd_db_rollback(r->db);
    return r;
}

static json_t *ok(struct ctx *c, const char *account, const char *op, json_t *in)
{
    struct pd_req *r = as_root(c, account, "organizations", op, in);
    if (r->err.def)
        fail_msg("%s failed: %s: %s", op, r->err.def->code, r->err.message);
    json_t *out = r->out ? json_incref(r->out) : json_object();
    pd_req_free(r);
    return out;
}

/* Expect code (and the Reason member when reason is not NULL). */
static void fails(struct ctx *c, const char *account, const char *op, json_t *in, const char *code,
                  const char *reason)
{
    struct pd_req *r = as_root(c, account, "organizations", op, in);
    if (!r->err.def)
        fail_msg("%s succeeded, expected %s", op, code);
    if (strcmp(r->err.def->code, code) != 0)
        fail_msg("%s: expected %s, got %s: %s", op, code, r->err.def->code, r->err.message);
    if (reason)
        assert_string_equal(json_string_value(json_object_get(r->err.extra, "Reason")), reason);
    pd_req_free(r);
}

static const char *s(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    return json_string_value(v);
}

/* The organization of MGMT, with SCPs enabled (and RCPs when rcp). */
static void make_org(struct ctx *c, int rcp)
{
    json_t *o = ok(c, MGMT, "CreateOrganization", NULL);
    snprintf(c->org_id, sizeof c->org_id, "%s", s(o, "Organization", "Id"));
    json_decref(o);
    o = ok(c, MGMT, "ListRoots", NULL);
    snprintf(
        c->root, sizeof c->root, "%s",
        json_string_value(json_object_get(json_array_get(json_object_get(o, "Roots"), 0), "Id")));
    json_decref(o);
    json_decref(
        ok(c, MGMT, "EnablePolicyType",
           json_pack("{s:s, s:s}", "RootId", c->root, "PolicyType", "SERVICE_CONTROL_POLICY")));
    if (rcp)
        json_decref(ok(
            c, MGMT, "EnablePolicyType",
            json_pack("{s:s, s:s}", "RootId", c->root, "PolicyType", "RESOURCE_CONTROL_POLICY")));
}

static char *make_ou(struct ctx *c, const char *parent, const char *name)
{
    json_t *o = ok(c, MGMT, "CreateOrganizationalUnit",
                   json_pack("{s:s, s:s}", "ParentId", parent, "Name", name));
    char *id = strdup(s(o, "OrganizationalUnit", "Id"));
    json_decref(o);
    return id;
}

static char *make_account(struct ctx *c, const char *name, const char *email)
{
    json_t *o =
        ok(c, MGMT, "CreateAccount", json_pack("{s:s, s:s}", "AccountName", name, "Email", email));
    assert_string_equal(s(o, "CreateAccountStatus", "State"), "SUCCEEDED");
    char *id = strdup(s(o, "CreateAccountStatus", "AccountId"));
    json_decref(o);
    return id;
}

static char *make_policy(struct ctx *c, const char *type, const char *name, const char *doc)
{
    json_t *o = ok(c, MGMT, "CreatePolicy",
                   json_pack("{s:s, s:s, s:s, s:s}", "Type", type, "Name", name, "Description", "",
                             "Content", doc));
    char *id = strdup(json_string_value(
        json_object_get(json_object_get(json_object_get(o, "Policy"), "PolicySummary"), "Id")));
    json_decref(o);
    return id;
}

static void attach(struct ctx *c, const char *policy, const char *target)
{
    json_decref(ok(c, MGMT, "AttachPolicy",
                   json_pack("{s:s, s:s}", "PolicyId", policy, "TargetId", target)));
}

/* ---- the service ------------------------------------------------------------------------ */

static void organization_basics(void **state)
{
    struct ctx *c = *state;
    fails(c, MGMT, "DescribeOrganization", NULL, "AWSOrganizationsNotInUseException", NULL);
    json_t *o = ok(c, MGMT, "CreateOrganization", NULL);
    assert_string_equal(s(o, "Organization", "MasterAccountId"), MGMT);
    assert_string_equal(s(o, "Organization", "FeatureSet"), "ALL");
    assert_true(strncmp(s(o, "Organization", "Id"), "o-", 2) == 0);
    json_decref(o);
    fails(c, MGMT, "CreateOrganization", NULL, "AlreadyInOrganizationException", NULL);
    o = ok(c, MGMT, "ListRoots", NULL);
    json_t *root = json_array_get(json_object_get(o, "Roots"), 0);
    assert_string_equal(json_string_value(json_object_get(root, "Name")), "Root");
    assert_int_equal(json_array_size(json_object_get(root, "PolicyTypes")), 0);
    json_decref(o);

    /* a member: describes its organization, nothing else; leaves; the management does not */
    char *member = make_account(c, "m", "m@example.com");
    o = ok(c, member, "DescribeOrganization", NULL);
    assert_string_equal(s(o, "Organization", "MasterAccountId"), MGMT);
    json_decref(o);
    fails(c, member, "ListAccounts", NULL, "AccessDeniedException", NULL);
    fails(c, MGMT, "LeaveOrganization", NULL, "ConstraintViolationException",
          "ACCOUNT_CANNOT_LEAVE_ORGANIZATION");
    fails(c, MGMT, "DeleteOrganization", NULL, "OrganizationNotEmptyException", NULL);
    json_decref(ok(c, member, "LeaveOrganization", NULL));
    fails(c, member, "DescribeOrganization", NULL, "AWSOrganizationsNotInUseException", NULL);
    json_decref(ok(c, MGMT, "DeleteOrganization", NULL));
    fails(c, MGMT, "ListRoots", NULL, "AWSOrganizationsNotInUseException", NULL);
    free(member);
}

static void ous(void **state)
{
    struct ctx *c = *state;
    make_org(c, 0);
    char *parent = strdup(c->root);
    char *chain[6];
    for (int i = 0; i < 5; i++) {
        chain[i] = make_ou(c, parent, "level");
        free(parent);
        parent = strdup(chain[i]);
    }
    /* a sixth level is too deep */
    fails(c, MGMT, "CreateOrganizationalUnit",
          json_pack("{s:s, s:s}", "ParentId", chain[4], "Name", "six"),
          "ConstraintViolationException", "OU_DEPTH_LIMIT_EXCEEDED");
    /* names are unique per parent, not per organization */
    fails(c, MGMT, "CreateOrganizationalUnit",
          json_pack("{s:s, s:s}", "ParentId", c->root, "Name", "level"),
          "DuplicateOrganizationalUnitException", NULL);
    char *other = make_ou(c, c->root, "other");
    /* parents: the root or an OU of this organization; never an account (no cycles: an OU
     * is made under a parent that exists and is never moved) */
    fails(c, MGMT, "CreateOrganizationalUnit",
          json_pack("{s:s, s:s}", "ParentId", "ou-zzzz-zzzzzzzz", "Name", "x"),
          "ParentNotFoundException", NULL);
    assert_null(pd_service_op(pd_service_find("organizations"), "MoveOrganizationalUnit"));
    /* not empty */
    fails(c, MGMT, "DeleteOrganizationalUnit", json_pack("{s:s}", "OrganizationalUnitId", chain[0]),
          "OrganizationalUnitNotEmptyException", NULL);
    json_t *o = ok(c, MGMT, "UpdateOrganizationalUnit",
                   json_pack("{s:s, s:s}", "OrganizationalUnitId", other, "Name", "renamed"));
    assert_string_equal(s(o, "OrganizationalUnit", "Name"), "renamed");
    json_decref(o);
    o = ok(c, MGMT, "ListParents", json_pack("{s:s}", "ChildId", chain[1]));
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(o, "Parents"), 0), "Id")),
        chain[0]);
    json_decref(o);
    o = ok(c, MGMT, "ListChildren",
           json_pack("{s:s, s:s}", "ParentId", c->root, "ChildType", "ORGANIZATIONAL_UNIT"));
    assert_int_equal(json_array_size(json_object_get(o, "Children")), 2);
    json_decref(o);
    json_decref(
        ok(c, MGMT, "DeleteOrganizationalUnit", json_pack("{s:s}", "OrganizationalUnitId", other)));
    fails(c, MGMT, "DescribeOrganizationalUnit", json_pack("{s:s}", "OrganizationalUnitId", other),
          "OrganizationalUnitNotFoundException", NULL);
    for (int i = 0; i < 5; i++)
        free(chain[i]);
    free(parent);
    free(other);
}

static void accounts(void **state)
{
    struct ctx *c = *state;
    make_org(c, 0);
    char *a = make_account(c, "app", "app@example.com");
    /* a real account: its root key works, and the management account's role is there */
    struct pd_arena ar;
    pd_arena_init(&ar);
    struct pd_iam_access_key *keys;
    size_t n;
    assert_int_equal(pd_iam_db_key_list(pd_store_db(c->env->store), &ar, a, 0, &keys, &n), PD_OK);
    assert_int_equal(n, 1);
    struct pd_iam_role role;
    assert_int_equal(pd_iam_db_role_get(pd_store_db(c->env->store), &ar, a,
                                        "OrganizationAccountAccessRole", &role),
                     PD_OK);
    assert_non_null(strstr(role.trust_policy, "arn:aws:iam::" MGMT ":root"));
    pd_arena_cleanup(&ar);
    /* the new account has FullAWSAccess, as every new account while SCPs are enabled */
    json_t *o = ok(c, MGMT, "ListPoliciesForTarget",
                   json_pack("{s:s, s:s}", "TargetId", a, "Filter", "SERVICE_CONTROL_POLICY"));
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(o, "Policies"), 0), "Id")),
        "p-FullAWSAccess");
    json_decref(o);
    /* an email in use: the request fails, as AWS reports it */
    o = ok(c, MGMT, "CreateAccount",
           json_pack("{s:s, s:s}", "AccountName", "again", "Email", "APP@example.com"));
    assert_string_equal(s(o, "CreateAccountStatus", "State"), "FAILED");
    assert_string_equal(s(o, "CreateAccountStatus", "FailureReason"), "EMAIL_ALREADY_EXISTS");
    const char *car = s(o, "CreateAccountStatus", "Id");
    json_t *d = ok(c, MGMT, "DescribeCreateAccountStatus",
                   json_pack("{s:s}", "CreateAccountRequestId", car));
    assert_string_equal(s(d, "CreateAccountStatus", "State"), "FAILED");
    json_decref(d);
    json_decref(o);
    fails(c, MGMT, "CreateAccount",
          json_pack("{s:s, s:s, s:s}", "AccountName", "x", "Email", "x@example.com", "RoleName",
                    "AWSServiceRoleForX"),
          "InvalidInputException", "INVALID_ROLE_NAME");
    /* the quota: ten accounts with the management account */
    for (int i = 0; i < 8; i++) {
        char email[64];
        snprintf(email, sizeof email, "n%d@example.com", i);
        free(make_account(c, "n", email));
    }
    o = ok(c, MGMT, "CreateAccount",
           json_pack("{s:s, s:s}", "AccountName", "eleven", "Email", "eleven@example.com"));
    assert_string_equal(s(o, "CreateAccountStatus", "FailureReason"), "ACCOUNT_LIMIT_EXCEEDED");
    json_decref(o);
    /* moves */
    char *ou = make_ou(c, c->root, "prod");
    json_decref(ok(c, MGMT, "MoveAccount",
                   json_pack("{s:s, s:s, s:s}", "AccountId", a, "SourceParentId", c->root,
                             "DestinationParentId", ou)));
    fails(c, MGMT, "MoveAccount",
          json_pack("{s:s, s:s, s:s}", "AccountId", a, "SourceParentId", c->root,
                    "DestinationParentId", ou),
          "SourceParentNotFoundException", NULL);
    fails(c, MGMT, "MoveAccount",
          json_pack("{s:s, s:s, s:s}", "AccountId", a, "SourceParentId", ou, "DestinationParentId",
                    ou),
          "DuplicateAccountException", NULL);
    fails(c, MGMT, "MoveAccount",
          json_pack("{s:s, s:s, s:s}", "AccountId", a, "SourceParentId", ou, "DestinationParentId",
                    "ou-zzzz-zzzzzzzz"),
          "DestinationParentNotFoundException", NULL);
    fails(c, MGMT, "DescribeAccount", json_pack("{s:s}", "AccountId", "999999999999"),
          "AccountNotFoundException", NULL);
    fails(c, MGMT, "RemoveAccountFromOrganization", json_pack("{s:s}", "AccountId", MGMT),
          "MasterCannotLeaveOrganizationException", NULL);
    /* pages of at most MaxResults; a token of ours only */
    o = ok(c, MGMT, "ListAccounts", json_pack("{s:i}", "MaxResults", 4));
    assert_int_equal(json_array_size(json_object_get(o, "Accounts")), 4);
    const char *tok = json_string_value(json_object_get(o, "NextToken"));
    assert_non_null(tok);
    json_t *o2 =
        ok(c, MGMT, "ListAccounts", json_pack("{s:i, s:s}", "MaxResults", 20, "NextToken", tok));
    assert_int_equal(json_array_size(json_object_get(o2, "Accounts")), 6);
    assert_null(json_object_get(o2, "NextToken"));
    json_decref(o2);
    json_decref(o);
    fails(c, MGMT, "ListAccounts", json_pack("{s:s}", "NextToken", "bogus"),
          "InvalidInputException", "INVALID_NEXT_TOKEN");
    free(a);
    free(ou);
}

static void policies(void **state)
{
    struct ctx *c = *state;
    json_decref(ok(c, MGMT, "CreateOrganization", NULL));
    json_t *o = ok(c, MGMT, "ListRoots", NULL);
    snprintf(
        c->root, sizeof c->root, "%s",
        json_string_value(json_object_get(json_array_get(json_object_get(o, "Roots"), 0), "Id")));
    json_decref(o);
    char *p = make_policy(c, "SERVICE_CONTROL_POLICY", "deny", DENY_LIST_USERS);
    /* a type that is not enabled takes no attachment */
    fails(c, MGMT, "AttachPolicy", json_pack("{s:s, s:s}", "PolicyId", p, "TargetId", c->root),
          "PolicyTypeNotEnabledException", NULL);
    json_decref(
        ok(c, MGMT, "EnablePolicyType",
           json_pack("{s:s, s:s}", "RootId", c->root, "PolicyType", "SERVICE_CONTROL_POLICY")));
    fails(c, MGMT, "EnablePolicyType",
          json_pack("{s:s, s:s}", "RootId", c->root, "PolicyType", "SERVICE_CONTROL_POLICY"),
          "PolicyTypeAlreadyEnabledException", NULL);
    fails(c, MGMT, "EnablePolicyType",
          json_pack("{s:s, s:s}", "RootId", "r-zzzz", "PolicyType", "SERVICE_CONTROL_POLICY"),
          "RootNotFoundException", NULL);
    fails(c, MGMT, "EnablePolicyType",
          json_pack("{s:s, s:s}", "RootId", c->root, "PolicyType", "TAG_POLICY"),
          "PolicyTypeNotAvailableForOrganizationException", NULL);
    /* FullAWSAccess went on the root */
    o = ok(c, MGMT, "ListTargetsForPolicy", json_pack("{s:s}", "PolicyId", "p-FullAWSAccess"));
    assert_int_equal(json_array_size(json_object_get(o, "Targets")), 2); /* root, management */
    json_decref(o);
    attach(c, p, c->root);
    fails(c, MGMT, "AttachPolicy", json_pack("{s:s, s:s}", "PolicyId", p, "TargetId", c->root),
          "DuplicatePolicyAttachmentException", NULL);
    fails(c, MGMT, "AttachPolicy",
          json_pack("{s:s, s:s}", "PolicyId", p, "TargetId", "ou-abcd-12345678"),
          "TargetNotFoundException", NULL);
    fails(c, MGMT, "AttachPolicy",
          json_pack("{s:s, s:s}", "PolicyId", "p-12345678", "TargetId", c->root),
          "PolicyNotFoundException", NULL);
    /* five per target: FullAWSAccess, deny, three more */
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "more%d", i);
        char *q = make_policy(c, "SERVICE_CONTROL_POLICY", name, DENY_LIST_USERS);
        attach(c, q, c->root);
        free(q);
    }
    char *sixth = make_policy(c, "SERVICE_CONTROL_POLICY", "sixth", DENY_LIST_USERS);
    fails(c, MGMT, "AttachPolicy", json_pack("{s:s, s:s}", "PolicyId", sixth, "TargetId", c->root),
          "ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED");
    /* in use, immutable, duplicate names */
    fails(c, MGMT, "DeletePolicy", json_pack("{s:s}", "PolicyId", p), "PolicyInUseException", NULL);
    fails(c, MGMT, "UpdatePolicy",
          json_pack("{s:s, s:s}", "PolicyId", "p-FullAWSAccess", "Name", "x"),
          "InvalidInputException", "IMMUTABLE_POLICY");
    fails(c, MGMT, "DeletePolicy", json_pack("{s:s}", "PolicyId", "p-FullAWSAccess"),
          "InvalidInputException", "IMMUTABLE_POLICY");
    fails(c, MGMT, "CreatePolicy",
          json_pack("{s:s, s:s, s:s, s:s}", "Type", "SERVICE_CONTROL_POLICY", "Name", "deny",
                    "Description", "", "Content", DENY_LIST_USERS),
          "DuplicatePolicyException", NULL);
    json_decref(ok(c, MGMT, "DeletePolicy", json_pack("{s:s}", "PolicyId", sixth)));
    /* the last SCP of a target stays: the management account has only FullAWSAccess */
    fails(c, MGMT, "DetachPolicy",
          json_pack("{s:s, s:s}", "PolicyId", "p-FullAWSAccess", "TargetId", MGMT),
          "ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED");
    /* the root has others: FullAWSAccess may go */
    json_decref(ok(c, MGMT, "DetachPolicy",
                   json_pack("{s:s, s:s}", "PolicyId", "p-FullAWSAccess", "TargetId", c->root)));
    fails(c, MGMT, "DetachPolicy",
          json_pack("{s:s, s:s}", "PolicyId", "p-FullAWSAccess", "TargetId", c->root),
          "PolicyNotAttachedException", NULL);
    /* disabling the type detaches everything of it */
    json_decref(
        ok(c, MGMT, "DisablePolicyType",
           json_pack("{s:s, s:s}", "RootId", c->root, "PolicyType", "SERVICE_CONTROL_POLICY")));
    o = ok(c, MGMT, "ListTargetsForPolicy", json_pack("{s:s}", "PolicyId", p));
    assert_int_equal(json_array_size(json_object_get(o, "Targets")), 0);
    json_decref(o);
    free(p);
    free(sixth);
}

static void policy_documents(void **state)
{
    struct ctx *c = *state;
    make_org(c, 1);
    /* 5,120 characters, white space included, and no more */
    const char *head = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":"
                       "\"s3:GetObject\",\"Resource\":\"*\"}]}";
    size_t pad = 5120 - strlen(head);
    char *doc = malloc(5122);
    memcpy(doc, head, strlen(head) - 1);
    memset(doc + strlen(head) - 1, ' ', pad);
    doc[5119] = '}';
    doc[5120] = '\0';
    json_decref(ok(c, MGMT, "CreatePolicy",
                   json_pack("{s:s, s:s, s:s, s:s}", "Type", "SERVICE_CONTROL_POLICY", "Name",
                             "exact", "Description", "", "Content", doc)));
    doc[5119] = ' ';
    doc[5120] = '}';
    doc[5121] = '\0';
    fails(c, MGMT, "CreatePolicy",
          json_pack("{s:s, s:s, s:s, s:s}", "Type", "SERVICE_CONTROL_POLICY", "Name", "over",
                    "Description", "", "Content", doc),
          "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED");
    free(doc);
    /* the language of the type */
    static const struct {
        const char *type, *doc;
    } bad[] = {
        {"SERVICE_CONTROL_POLICY", "not json"},
        {"SERVICE_CONTROL_POLICY",
         DOC("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}")},
        {"SERVICE_CONTROL_POLICY",
         DOC("{\"Effect\":\"Deny\",\"Action\":\"s3:*Object\",\"Resource\":\"*\"}")},
        {"RESOURCE_CONTROL_POLICY",
         DOC("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}")},
        {"RESOURCE_CONTROL_POLICY",
         DOC("{\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\"}")},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        fails(c, MGMT, "CreatePolicy",
              json_pack("{s:s, s:s, s:s, s:s}", "Type", bad[i].type, "Name", "bad", "Description",
                        "", "Content", bad[i].doc),
              "MalformedPolicyDocumentException", NULL);
    char *r = make_policy(c, "RESOURCE_CONTROL_POLICY", "org-only", ORG_ONLY_RCP("o-aa111bb222"));
    /* RCPFullAWSAccess never leaves a target */
    fails(c, MGMT, "DetachPolicy",
          json_pack("{s:s, s:s}", "PolicyId", "p-RCPFullAWSAccess", "TargetId", c->root),
          "InvalidInputException", "NON_DETACHABLE_POLICY");
    attach(c, r, c->root);
    json_decref(
        ok(c, MGMT, "DetachPolicy", json_pack("{s:s, s:s}", "PolicyId", r, "TargetId", c->root)));
    json_t *o = ok(c, MGMT, "DescribePolicy", json_pack("{s:s}", "PolicyId", r));
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(o, "Policy"), "PolicySummary"), "Type")),
        "RESOURCE_CONTROL_POLICY");
    assert_non_null(
        strstr(json_string_value(json_object_get(
                   json_object_get(json_object_get(o, "Policy"), "PolicySummary"), "Arn")),
               ":policy/o-"));
    json_decref(o);
    free(r);
}

/* ---- decisions -------------------------------------------------------------------------- */

/* A signed request as the holder of key/secret. */
static struct pd_req *signed_as(struct ctx *c, const char *akid, const char *secret,
                                const char *service, const char *method, const char *path,
                                const char *query, const char *target, const char *body)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_kvs h = {0};
    const char *host = strcmp(service, "s3") == 0 ? "s3.us-east-1.amazonaws.com"
                                                  : pd_arena_printf(&a,
                                                                    "%s.us-east-1.amazonaws."
                                                                    "com",
                                                                    service);
    char hash[65];
    pd_sha256_hex(body ? body : "", body ? strlen(body) : 0, hash);
    pd_kvs_add(&a, &h, "host", host, strlen(host), 0);
    pd_kvs_add(&a, &h, "x-amz-date", "20260101T000000Z", 16, 0);
    pd_kvs_add(&a, &h, "x-amz-content-sha256", hash, 64, 0);
    if (target)
        pd_kvs_add(&a, &h, "x-amz-target", target, strlen(target), 0);
    struct pd_sigv4_request req = {.method = method,
                                   .path = path,
                                   .query = query ? query : "",
                                   .headers = &h,
                                   .payload_hash = hash,
                                   .normalize_path = strcmp(service, "s3") != 0};
    struct pd_sigv4_signer sg = {.akid = akid,
                                 .secret = secret,
                                 .region = "us-east-1",
                                 .service = service,
                                 .amz_date = "20260101T000000Z"};
    char *auth = NULL;
    assert_int_equal(pd_sigv4_sign_headers(&a, &sg, &req, NULL, 0, &auth, NULL), PD_OK);
    const char *hdrs = pd_arena_printf(
        &a,
        "host: %s\nx-amz-date: 20260101T000000Z\nx-amz-content-sha256: %s\n%s%s%s%s"
        "authorization: %s",
        host, hash, target ? "x-amz-target: " : "", target ? target : "", target ? "\n" : "",
        target ? "content-type: application/x-amz-json-1.1\n" : "", auth);
    struct pd_req *r = pt_http(c->env, method, path, query, hdrs, body);
    pd_arena_cleanup(&a);
    return r;
}

struct key {
    char akid[32], secret[48];
};

static void root_key(struct ctx *c, const char *account, struct key *k)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_iam_access_key *keys;
    size_t n;
    assert_int_equal(pd_iam_db_key_list(pd_store_db(c->env->store), &a, account, 0, &keys, &n),
                     PD_OK);
    assert_true(n >= 1);
    snprintf(k->akid, sizeof k->akid, "%s", keys[0].access_key_id);
    snprintf(k->secret, sizeof k->secret, "%s", keys[0].secret);
    pd_arena_cleanup(&a);
}

static json_t *decision_of(struct ctx *c, struct pd_req *r)
{
    const char *id = NULL;
    for (size_t i = 0; i < r->resp.hdrs.n; i++)
        if (strcmp(r->resp.hdrs.v[i].name, "x-podiam-decision-id") == 0)
            id = r->resp.hdrs.v[i].value;
    assert_non_null(id);
    json_t *d = pd_decisions_get(c->env->decisions, id);
    assert_non_null(d);
    return d;
}

/* Organizations' input errors through the whole pipeline: InvalidInputException with the
 * Reason the constraint gives, UnknownOperationException without X-Amz-Target. */
static void input_errors(void **state)
{
    struct ctx *c = *state;
    json_decref(ok(c, MGMT, "CreateOrganization", NULL));
    struct pd_req *r =
        signed_as(c, "test", "test", "organizations", "POST", "/", NULL,
                  "AWSOrganizationsV20161128.DescribePolicy", "{\"PolicyId\":\"not-a-policy\"}");
    assert_int_equal(r->resp.status, 400);
    assert_non_null(strstr(pt_body(r), "\"__type\":\"InvalidInputException\""));
    assert_non_null(strstr(pt_body(r), "\"Reason\":\"INVALID_PATTERN\""));
    pd_req_free(r);
    r = signed_as(c, "test", "test", "organizations", "POST", "/", NULL,
                  "AWSOrganizationsV20161128.DescribePolicy", "{}");
    assert_non_null(strstr(pt_body(r), "\"Reason\":\"INPUT_REQUIRED\""));
    pd_req_free(r);
    r = signed_as(c, "test", "test", "organizations", "POST", "/", NULL, NULL, "{}");
    assert_int_equal(r->resp.status, 400);
    assert_non_null(strstr(pt_body(r), "UnknownOperationException"));
    pd_req_free(r);
    r = signed_as(c, "test", "test", "organizations", "POST", "/", NULL,
                  "AWSOrganizationsV20161128.ListRoots", "{}");
    assert_int_equal(r->resp.status, 200);
    assert_non_null(strstr(pt_body(r), "\"Roots\":[{"));
    pd_req_free(r);
}

static void scp_decisions(void **state)
{
    struct ctx *c = *state;
    make_org(c, 0);
    char *prod = make_ou(c, c->root, "prod");
    char *in_prod = make_account(c, "app", "app@example.com");
    char *at_root = make_account(c, "tools", "tools@example.com");
    json_decref(ok(c, MGMT, "MoveAccount",
                   json_pack("{s:s, s:s, s:s}", "AccountId", in_prod, "SourceParentId", c->root,
                             "DestinationParentId", prod)));
    char *deny = make_policy(c, "SERVICE_CONTROL_POLICY", "no-list-users", DENY_LIST_USERS);
    attach(c, deny, prod);

    struct key k;
    root_key(c, in_prod, &k);
    struct pd_req *r = signed_as(c, k.akid, k.secret, "iam", "GET", "/",
                                 "Action=ListUsers&Version=2010-05-08", NULL, NULL);
    assert_int_equal(r->resp.status, 403);
    assert_non_null(strstr(pt_body(r), "with an explicit deny in a service control policy"));
    json_t *d = decision_of(c, r);
    assert_string_equal(json_string_value(json_object_get(d, "decided_by")), "service control");
    assert_string_equal(json_string_value(json_object_get(d, "level")), prod);
    json_t *ck = json_array_get(json_object_get(d, "checks"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(ck, "organization_policy")), deny));
    /* the organization keys the request carried */
    json_t *cx = json_object_get(d, "context");
    assert_string_equal(json_string_value(json_object_get(cx, "aws:principalorgid")), c->org_id);
    char path[128];
    snprintf(path, sizeof path, "%s/%s/%s/", c->org_id, c->root, prod);
    assert_string_equal(json_string_value(json_object_get(cx, "aws:principalorgpaths")), path);
    json_decref(d);
    pd_req_free(r);
    /* another action is allowed: FullAWSAccess at every level, which the trace names level
     * by level */
    r = signed_as(c, k.akid, k.secret, "iam", "GET", "/", "Action=ListRoles&Version=2010-05-08",
                  NULL, NULL);
    assert_int_equal(r->resp.status, 200);
    d = decision_of(c, r);
    ck = json_array_get(json_object_get(d, "checks"), 0);
    json_t *ev = json_array_get(json_object_get(json_object_get(ck, "trace"), "evaluations"), 0);
    json_t *sc = json_object_get(json_object_get(ev, "organizations"), "serviceControl");
    assert_string_equal(json_string_value(json_object_get(sc, "decision")), "allowed");
    json_t *lv = json_object_get(sc, "levels");
    assert_int_equal(json_array_size(lv), 3); /* the root, the OU, the account */
    const char *want[] = {c->root, prod, in_prod};
    for (size_t i = 0; i < 3; i++) {
        json_t *l = json_array_get(lv, i);
        assert_string_equal(json_string_value(json_object_get(l, "level")), want[i]);
        assert_string_equal(json_string_value(json_object_get(l, "allowedBy")),
                            "FullAWSAccess (p-FullAWSAccess)");
    }
    json_decref(d);
    pd_req_free(r);
    /* an account outside the OU is not affected */
    root_key(c, at_root, &k);
    r = signed_as(c, k.akid, k.secret, "iam", "GET", "/", "Action=ListUsers&Version=2010-05-08",
                  NULL, NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    /* the management account never is, even with the deny on the root */
    attach(c, deny, c->root);
    r = pt_http_signed(c->env, "iam", "GET", "/", "Action=ListUsers&Version=2010-05-08", NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    /* an OU without any allow: every level must allow */
    json_decref(ok(c, MGMT, "DetachPolicy",
                   json_pack("{s:s, s:s}", "PolicyId", "p-FullAWSAccess", "TargetId", prod)));
    root_key(c, in_prod, &k);
    r = signed_as(c, k.akid, k.secret, "iam", "GET", "/", "Action=ListRoles&Version=2010-05-08",
                  NULL, NULL);
    assert_int_equal(r->resp.status, 403);
    assert_non_null(strstr(pt_body(r), "because no service control policy allows"));
    d = decision_of(c, r);
    assert_string_equal(json_string_value(json_object_get(d, "level")), prod);
    /* the level without an allow is null in the trace's levels */
    ck = json_array_get(json_object_get(d, "checks"), 0);
    ev = json_array_get(json_object_get(json_object_get(ck, "trace"), "evaluations"), 0);
    sc = json_object_get(json_object_get(ev, "organizations"), "serviceControl");
    assert_string_equal(json_string_value(json_object_get(sc, "decision")), "implicitDeny");
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(sc, "levels"), 1), "allowedBy")));
    assert_non_null(json_string_value(
        json_object_get(json_array_get(json_object_get(sc, "levels"), 0), "allowedBy")));
    json_decref(d);
    pd_req_free(r);
    /* Organizations itself is IAM-authorized like any service */
    r = signed_as(c, k.akid, k.secret, "organizations", "POST", "/", NULL,
                  "AWSOrganizationsV20161128.DescribeOrganization", "{}");
    assert_int_equal(r->resp.status, 400);
    assert_non_null(strstr(pt_body(r), "\"__type\":\"AccessDeniedException\""));
    assert_non_null(strstr(pt_body(r), "because no service control policy allows"));
    pd_req_free(r);
    free(prod);
    free(in_prod);
    free(at_root);
    free(deny);
}

static void rcp_decisions(void **state)
{
    struct ctx *c = *state;
    make_org(c, 1);
    char *member = make_account(c, "data", "data@example.com");
    char *inside = make_account(c, "app", "app@example.com");
    char *outside = make_account(c, "vendor", "vendor@example.com");
    json_decref(
        ok(c, MGMT, "RemoveAccountFromOrganization", json_pack("{s:s}", "AccountId", outside)));
    char rcp_doc[1024];
    snprintf(rcp_doc, sizeof rcp_doc,
             DOC("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\","
                 "\"Condition\":{\"StringNotEqualsIfExists\":{\"aws:PrincipalOrgID\":\"%s\"},"
                 "\"BoolIfExists\":{\"aws:PrincipalIsAWSService\":\"false\"}}}"),
             c->org_id);
    char *rcp = make_policy(c, "RESOURCE_CONTROL_POLICY", "org-only", rcp_doc);
    attach(c, rcp, c->root);
    /* the member's bucket, readable by anyone according to its own policy */
    struct key k;
    root_key(c, member, &k);
    struct pd_req *r =
        signed_as(c, k.akid, k.secret, "s3", "PUT", "/data-bucket", NULL, NULL, NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    const char *bp = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                     "\"Principal\":\"*\",\"Action\":\"s3:ListBucket\",\"Resource\":"
                     "\"arn:aws:s3:::data-bucket\"}]}";
    /* a new bucket blocks public policies (AWS's default since 2023): lift that first */
    r = signed_as(c, k.akid, k.secret, "s3", "DELETE", "/data-bucket", "publicAccessBlock", NULL,
                  NULL);
    assert_true(r->resp.status == 200 || r->resp.status == 204);
    pd_req_free(r);
    r = signed_as(c, k.akid, k.secret, "s3", "PUT", "/data-bucket", "policy", NULL, bp);
    assert_true(r->resp.status == 200 || r->resp.status == 204);
    pd_req_free(r);
    /* inside the organization: the bucket policy grants */
    root_key(c, inside, &k);
    r = signed_as(c, k.akid, k.secret, "s3", "GET", "/data-bucket", "list-type=2", NULL, NULL);
    assert_int_equal(r->resp.status, 200);
    json_t *d = decision_of(c, r);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d, "context"), "aws:resourceorgid")),
        c->org_id);
    json_decref(d);
    pd_req_free(r);
    /* outside: the RCP denies, whatever the bucket policy says */
    root_key(c, outside, &k);
    r = signed_as(c, k.akid, k.secret, "s3", "GET", "/data-bucket", "list-type=2", NULL, NULL);
    assert_int_equal(r->resp.status, 403);
    d = decision_of(c, r);
    assert_string_equal(json_string_value(json_object_get(d, "decided_by")), "resource control");
    assert_string_equal(json_string_value(json_object_get(d, "level")), c->root);
    json_decref(d);
    pd_req_free(r);
    /* anonymous: denied too */
    r = pt_http(c->env, "GET", "/data-bucket", "list-type=2", "host: s3.us-east-1.amazonaws.com",
                NULL);
    assert_int_equal(r->resp.status, 403);
    d = decision_of(c, r);
    assert_string_equal(json_string_value(json_object_get(d, "decided_by")), "resource control");
    json_decref(d);
    pd_req_free(r);
    free(member);
    free(inside);
    free(outside);
    free(rcp);
}

/* Who escapes: the management account (SCPs and RCPs), service-linked roles. */
static void exemptions(void **state)
{
    struct ctx *c = *state;
    make_org(c, 1);
    char *member = make_account(c, "m", "m@example.com");
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_db *db = pd_store_db(c->env->store);
    struct pd_ctx cx;
    struct pd_authz_org o;
    struct pd_principal_id w = {.type = PD_PRINCIPAL_ROLE_SESSION,
                                .account = member,
                                .arn = "arn:aws:sts::1:assumed-role/r/s",
                                .role_arn =
                                    pd_arena_printf(&a, "arn:aws:iam::%s:role/app", member)};
    assert_int_equal(pd_db_begin(db, 0), PD_OK);
    pd_ctx_init(&cx, &a);
    assert_int_equal(
        pd_authz_org_load(db, &a, c->env->policies, &w, member, "s3:GetObject", &cx, &o), PD_OK);
    assert_int_equal(o.nscp, 2); /* the root, the account */
    assert_int_equal(o.nrcp, 2);
    assert_string_equal(o.scp[0].target, c->root);
    assert_string_equal(o.scp[1].target, member);
    assert_int_equal(o.scp[1].n, 1); /* FullAWSAccess */
    pd_authz_org_release(c->env->policies, &o);
    w.role_arn =
        pd_arena_printf(&a, "arn:aws:iam::%s:role/aws-service-role/s3.amazonaws.com/x", member);
    pd_ctx_init(&cx, &a);
    assert_int_equal(
        pd_authz_org_load(db, &a, c->env->policies, &w, member, "s3:GetObject", &cx, &o), PD_OK);
    assert_int_equal(o.nscp, 0);
    assert_int_equal(o.nrcp, 0);
    assert_string_equal(pd_ctx_get(&cx, "aws:PrincipalOrgID", 0), c->org_id);
    pd_authz_org_release(c->env->policies, &o);
    /* the management account: no SCPs for its principals, no RCPs for its resources */
    w.account = MGMT;
    w.role_arn = "arn:aws:iam::" MGMT ":role/app";
    pd_ctx_init(&cx, &a);
    assert_int_equal(pd_authz_org_load(db, &a, c->env->policies, &w, MGMT, "s3:GetObject", &cx, &o),
                     PD_OK);
    assert_int_equal(o.nscp, 0);
    assert_int_equal(o.nrcp, 0);
    pd_authz_org_release(c->env->policies, &o);
    /* RCPs only for the services that have them */
    w.account = member;
    w.role_arn = pd_arena_printf(&a, "arn:aws:iam::%s:role/app", member);
    pd_ctx_init(&cx, &a);
    assert_int_equal(
        pd_authz_org_load(db, &a, c->env->policies, &w, member, "iam:ListRoles", &cx, &o), PD_OK);
    assert_int_equal(o.nscp, 2);
    assert_int_equal(o.nrcp, 0);
    assert_false(pd_authz_org_rcp_covers("iam:ListRoles"));
    assert_true(pd_authz_org_rcp_covers("s3:GetObject"));
    assert_true(pd_authz_org_rcp_covers("STS:AssumeRole"));
    pd_authz_org_release(c->env->policies, &o);
    /* a service acting for a resource of a member account (aws:SourceAccount): that
     * account's organization as aws:SourceOrgID and aws:SourceOrgPaths; none for an account
     * outside any organization */
    struct pd_principal_id svc = {.type = PD_PRINCIPAL_SERVICE, .service = "eks.amazonaws.com"};
    pd_ctx_init(&cx, &a);
    pd_ctx_add(&cx, "aws:SourceAccount", PD_CTX_STRING, member, (size_t)-1);
    assert_int_equal(
        pd_authz_org_load(db, &a, c->env->policies, &svc, member, "sts:AssumeRole", &cx, &o),
        PD_OK);
    assert_string_equal(pd_ctx_get(&cx, "aws:SourceOrgID", 0), c->org_id);
    char paths[96];
    snprintf(paths, sizeof paths, "%s/%s/", c->org_id, c->root);
    assert_string_equal(pd_ctx_get(&cx, "aws:SourceOrgPaths", 0), paths);
    assert_null(pd_ctx_get(&cx, "aws:PrincipalOrgID", 0)); /* a service is no member */
    pd_authz_org_release(c->env->policies, &o);
    pd_ctx_init(&cx, &a);
    pd_ctx_add(&cx, "aws:SourceAccount", PD_CTX_STRING, "111122223333", (size_t)-1);
    assert_int_equal(
        pd_authz_org_load(db, &a, c->env->policies, &svc, NULL, "sts:AssumeRole", &cx, &o), PD_OK);
    assert_null(pd_ctx_get(&cx, "aws:SourceOrgID", 0));
    pd_authz_org_release(c->env->policies, &o);
    pd_db_rollback(db);
    pd_arena_cleanup(&a);
    free(member);
}

static void fixtures_round_trip(void **state)
{
    struct ctx *c = *state;
    make_org(c, 1);
    char *ou = make_ou(c, c->root, "prod");
    char *acct = make_account(c, "app", "app@example.com");
    json_decref(ok(c, MGMT, "MoveAccount",
                   json_pack("{s:s, s:s, s:s}", "AccountId", acct, "SourceParentId", c->root,
                             "DestinationParentId", ou)));
    char *p = make_policy(c, "SERVICE_CONTROL_POLICY", "deny", DENY_LIST_USERS);
    attach(c, p, ou);
    json_t *doc = NULL, *doc2 = NULL;
    char *err = NULL;
    struct pd_db *db = pd_store_db(c->env->store);
    assert_int_equal(pd_fixtures_export(c->env, db, &doc, &err), PD_OK);
    /* load it into a fresh podiam */
    struct pd_env *env2 = pt_env_new();
    struct pd_db *db2 = pd_store_db(env2->store);
    char tmpl[] = "/tmp/podiam-orgs-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(json_dump_file(doc, tmpl, 0), 0);
    env2->cfg.fixtures[0] = tmpl;
    env2->cfg.nfixtures = 1;
    if (pd_fixtures_reset(env2, db2, &err))
        fail_msg("load: %s", err);
    assert_int_equal(pd_fixtures_export(env2, db2, &doc2, &err), PD_OK);
    if (!json_equal(json_object_get(doc, "organizations"),
                    json_object_get(doc2, "organizations"))) {
        char *x = json_dumps(json_object_get(doc, "organizations"), JSON_INDENT(1));
        char *y = json_dumps(json_object_get(doc2, "organizations"), JSON_INDENT(1));
        fail_msg("round trip differs:\n%s\n---\n%s", x, y);
    }
    unlink(tmpl);
    json_decref(doc);
    json_decref(doc2);
    pt_env_free(env2);
    free(ou);
    free(acct);
    free(p);
}

/* The simulator: the SCPs of the simulated principal's account take part, and
 * OrganizationsDecisionDetail says whether they allowed, for accounts in an organization. */
static json_t *iam_ok(struct ctx *c, const char *account, const char *op, json_t *in)
{
    struct pd_req *r = as_root(c, account, "iam", op, in);
    if (r->err.def)
        fail_msg("%s failed: %s: %s", op, r->err.def->code, r->err.message);
    json_t *out = r->out ? json_incref(r->out) : json_object();
    pd_req_free(r);
    return out;
}

static json_t *first_result(json_t *out)
{
    return json_array_get(json_object_get(out, "EvaluationResults"), 0);
}

/* A user of account with its access key, allowed everything by its own policy. */
static void admin_user(struct ctx *c, const char *account, struct key *k)
{
    json_decref(iam_ok(c, account, "CreateUser", json_pack("{s:s}", "UserName", "u")));
    json_decref(
        iam_ok(c, account, "PutUserPolicy",
               json_pack("{s:s, s:s, s:s}", "UserName", "u", "PolicyName", "all", "PolicyDocument",
                         DOC("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}"))));
    json_t *o = iam_ok(c, account, "CreateAccessKey", json_pack("{s:s}", "UserName", "u"));
    snprintf(k->akid, sizeof k->akid, "%s", s(o, "AccessKey", "AccessKeyId"));
    snprintf(k->secret, sizeof k->secret, "%s", s(o, "AccessKey", "SecretAccessKey"));
    json_decref(o);
}

static struct pd_req *assume(struct ctx *c, const struct key *k, const char *account)
{
    char q[256];
    snprintf(q, sizeof q,
             "Action=AssumeRole&RoleArn=arn%%3Aaws%%3Aiam%%3A%%3A%s%%3Arole%%2Fshared&"
             "RoleSessionName=ss&Version=2011-06-15",
             account);
    return signed_as(c, k->akid, k->secret, "sts", "GET", "/", q, NULL, NULL);
}

/* RCPs on STS: a role of a member account assumable only from inside the organization,
 * whatever its trust policy says. Across accounts each side brings its own: the caller's
 * SCPs, the resource's RCPs, and the resource policy must let the caller in. */
static void rcp_sts_and_cross_account(void **state)
{
    struct ctx *c = *state;
    make_org(c, 1);
    char *data = make_account(c, "data", "data@example.com");
    char *app = make_account(c, "app", "app@example.com");
    char *vendor = make_account(c, "vendor", "vendor@example.com");
    json_decref(
        ok(c, MGMT, "RemoveAccountFromOrganization", json_pack("{s:s}", "AccountId", vendor)));
    char rcp_doc[1024];
    snprintf(rcp_doc, sizeof rcp_doc,
             DOC("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\","
                 "\"Resource\":\"*\",\"Condition\":{\"StringNotEqualsIfExists\":"
                 "{\"aws:PrincipalOrgID\":\"%s\"}}}"),
             c->org_id);
    char *rcp = make_policy(c, "RESOURCE_CONTROL_POLICY", "sts-org-only", rcp_doc);
    attach(c, rcp, c->root);
    json_decref(iam_ok(c, data, "CreateRole",
                       json_pack("{s:s, s:s}", "RoleName", "shared", "AssumeRolePolicyDocument",
                                 DOC("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
                                     "\"Action\":\"sts:AssumeRole\"}"))));
    struct key in, out;
    admin_user(c, app, &in);
    admin_user(c, vendor, &out);
    /* inside the organization: the trust policy lets anyone in, the RCP does not object */
    struct pd_req *r = assume(c, &in, data);
    assert_int_equal(r->resp.status, 200);
    json_t *d = decision_of(c, r);
    json_t *cx = json_object_get(d, "context");
    assert_string_equal(json_string_value(json_object_get(cx, "aws:resourceorgid")), c->org_id);
    assert_string_equal(json_string_value(json_object_get(cx, "aws:principalorgid")), c->org_id);
    json_decref(d);
    pd_req_free(r);
    /* outside: the RCP of the role's account denies */
    r = assume(c, &out, data);
    assert_int_equal(r->resp.status, 403);
    assert_non_null(strstr(pt_body(r), "with an explicit deny in a resource control policy"));
    d = decision_of(c, r);
    assert_string_equal(json_string_value(json_object_get(d, "decided_by")), "resource control");
    assert_string_equal(json_string_value(json_object_get(d, "level")), c->root);
    json_t *ck = json_array_get(json_object_get(d, "checks"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(ck, "organization_policy")), rcp));
    json_decref(d);
    pd_req_free(r);
    /* a role of the management account is not restricted by RCPs */
    json_decref(iam_ok(c, MGMT, "CreateRole",
                       json_pack("{s:s, s:s}", "RoleName", "shared", "AssumeRolePolicyDocument",
                                 DOC("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
                                     "\"Action\":\"sts:AssumeRole\"}"))));
    r = assume(c, &out, MGMT);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);

    /* S3 across accounts: the bucket of data opens ListBucket to everyone */
    struct key dk;
    root_key(c, data, &dk);
    r = signed_as(c, dk.akid, dk.secret, "s3", "PUT", "/open-bucket", NULL, NULL, NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    r = signed_as(c, dk.akid, dk.secret, "s3", "DELETE", "/open-bucket", "publicAccessBlock", NULL,
                  NULL);
    assert_true(r->resp.status == 200 || r->resp.status == 204);
    pd_req_free(r);
    r = signed_as(c, dk.akid, dk.secret, "s3", "PUT", "/open-bucket", "policy", NULL,
                  DOC("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:ListBucket\","
                      "\"Resource\":\"arn:aws:s3:::open-bucket\"}"));
    assert_true(r->resp.status == 200 || r->resp.status == 204);
    pd_req_free(r);
    r = signed_as(c, dk.akid, dk.secret, "s3", "PUT", "/closed-bucket", NULL, NULL, NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    r = signed_as(c, in.akid, in.secret, "s3", "GET", "/open-bucket", "list-type=2", NULL, NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    /* the resource's side must allow: no bucket policy, no access from another account */
    r = signed_as(c, in.akid, in.secret, "s3", "GET", "/closed-bucket", "list-type=2", NULL, NULL);
    assert_int_equal(r->resp.status, 403);
    pd_req_free(r);
    /* the caller's side must allow: an SCP on the caller's account denies, whatever the
     * bucket policy grants */
    char *no_s3 = make_policy(c, "SERVICE_CONTROL_POLICY", "no-s3",
                              DOC("{\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\"}"));
    attach(c, no_s3, app);
    r = signed_as(c, in.akid, in.secret, "s3", "GET", "/open-bucket", "list-type=2", NULL, NULL);
    assert_int_equal(r->resp.status, 403);
    d = decision_of(c, r);
    assert_string_equal(json_string_value(json_object_get(d, "decided_by")), "service control");
    assert_string_equal(json_string_value(json_object_get(d, "level")), app);
    json_decref(d);
    pd_req_free(r);
    /* and the SCPs of the resource's account play no part for a caller from elsewhere */
    attach(c, no_s3, data);
    r = signed_as(c, out.akid, out.secret, "s3", "GET", "/open-bucket", "list-type=2", NULL, NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    free(data);
    free(app);
    free(vendor);
    free(rcp);
    free(no_s3);
}

static void simulator(void **state)
{
    struct ctx *c = *state;
    make_org(c, 1);
    char *prod = make_ou(c, c->root, "prod");
    char *member = make_account(c, "app", "app@example.com");
    json_decref(ok(c, MGMT, "MoveAccount",
                   json_pack("{s:s, s:s, s:s}", "AccountId", member, "SourceParentId", c->root,
                             "DestinationParentId", prod)));
    char *deny = make_policy(c, "SERVICE_CONTROL_POLICY", "no-list-users", DENY_LIST_USERS);
    attach(c, deny, prod);
    attach(c, deny, c->root); /* the management account's own principals are not restricted */
    const char *allow = DOC("{\"Effect\":\"Allow\",\"Action\":[\"iam:ListUsers\",\"s3:*\"],"
                            "\"Resource\":\"*\"}");
    const char *accounts[] = {member, MGMT};
    for (int i = 0; i < 2; i++) {
        json_decref(iam_ok(c, accounts[i], "CreateUser", json_pack("{s:s}", "UserName", "dev")));
        json_decref(iam_ok(c, accounts[i], "PutUserPolicy",
                           json_pack("{s:s, s:s, s:s}", "UserName", "dev", "PolicyName", "p",
                                     "PolicyDocument", allow)));
    }
    char arn[96];
    snprintf(arn, sizeof arn, "arn:aws:iam::%s:user/dev", member);
    json_t *out = iam_ok(c, member, "SimulatePrincipalPolicy",
                         json_pack("{s:s, s:[s,s]}", "PolicySourceArn", arn, "ActionNames",
                                   "iam:ListUsers", "s3:GetObject"));
    json_t *r0 = json_array_get(json_object_get(out, "EvaluationResults"), 0);
    json_t *r1 = json_array_get(json_object_get(out, "EvaluationResults"), 1);
    assert_string_equal(s(r0, "EvalDecision", NULL), "explicitDeny");
    assert_false(json_is_true(json_object_get(json_object_get(r0, "OrganizationsDecisionDetail"),
                                              "AllowedByOrganizations")));
    /* the SCP's statement is not among MatchedStatements */
    assert_int_equal(json_array_size(json_object_get(r0, "MatchedStatements")), 0);
    assert_string_equal(s(r1, "EvalDecision", NULL), "allowed");
    assert_true(json_is_true(json_object_get(json_object_get(r1, "OrganizationsDecisionDetail"),
                                             "AllowedByOrganizations")));
    json_decref(out);
    /* SimulateCustomPolicy for a caller of the member account: the same SCPs */
    out = iam_ok(c, member, "SimulateCustomPolicy",
                 json_pack("{s:[s], s:[s], s:s}", "PolicyInputList", allow, "ActionNames",
                           "iam:ListUsers", "CallerArn", arn));
    assert_string_equal(s(first_result(out), "EvalDecision", NULL), "explicitDeny");
    json_decref(out);
    /* the management account: in the organization, never restricted */
    snprintf(arn, sizeof arn, "arn:aws:iam::%s:user/dev", MGMT);
    out = iam_ok(c, MGMT, "SimulatePrincipalPolicy",
                 json_pack("{s:s, s:[s]}", "PolicySourceArn", arn, "ActionNames", "iam:ListUsers"));
    assert_string_equal(s(first_result(out), "EvalDecision", NULL), "allowed");
    assert_true(json_is_true(
        json_object_get(json_object_get(first_result(out), "OrganizationsDecisionDetail"),
                        "AllowedByOrganizations")));
    json_decref(out);
    /* a group and a role of the member account: the same SCPs */
    json_decref(iam_ok(c, member, "CreateGroup", json_pack("{s:s}", "GroupName", "devs")));
    json_decref(iam_ok(c, member, "PutGroupPolicy",
                       json_pack("{s:s, s:s, s:s}", "GroupName", "devs", "PolicyName", "p",
                                 "PolicyDocument", allow)));
    json_decref(iam_ok(c, member, "CreateRole",
                       json_pack("{s:s, s:s}", "RoleName", "app", "AssumeRolePolicyDocument",
                                 DOC("{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
                                     "\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}"))));
    json_decref(iam_ok(c, member, "PutRolePolicy",
                       json_pack("{s:s, s:s, s:s}", "RoleName", "app", "PolicyName", "p",
                                 "PolicyDocument", allow)));
    const char *entities[] = {"group/devs", "role/app"};
    for (int i = 0; i < 2; i++) {
        snprintf(arn, sizeof arn, "arn:aws:iam::%s:%s", member, entities[i]);
        out = iam_ok(c, member, "SimulatePrincipalPolicy",
                     json_pack("{s:s, s:[s,s]}", "PolicySourceArn", arn, "ActionNames",
                               "iam:ListUsers", "s3:GetObject"));
        r0 = json_array_get(json_object_get(out, "EvaluationResults"), 0);
        r1 = json_array_get(json_object_get(out, "EvaluationResults"), 1);
        assert_string_equal(s(r0, "EvalDecision", NULL), "explicitDeny");
        assert_false(json_is_true(json_object_get(
            json_object_get(r0, "OrganizationsDecisionDetail"), "AllowedByOrganizations")));
        assert_string_equal(s(r1, "EvalDecision", NULL), "allowed");
        assert_true(json_is_true(json_object_get(json_object_get(r1, "OrganizationsDecisionDetail"),
                                                 "AllowedByOrganizations")));
        json_decref(out);
    }
    /* a service-linked role of the member account escapes SCPs too */
    json_decref(iam_ok(
        c, member, "CreateRole",
        json_pack("{s:s, s:s, s:s}", "RoleName", "AWSServiceRoleForX", "Path",
                  "/aws-service-role/x.amazonaws.com/", "AssumeRolePolicyDocument",
                  DOC("{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"x.amazonaws.com\"},"
                      "\"Action\":\"sts:AssumeRole\"}"))));
    json_decref(iam_ok(c, member, "PutRolePolicy",
                       json_pack("{s:s, s:s, s:s}", "RoleName", "AWSServiceRoleForX", "PolicyName",
                                 "p", "PolicyDocument", allow)));
    snprintf(arn, sizeof arn,
             "arn:aws:iam::%s:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX", member);
    out = iam_ok(c, member, "SimulatePrincipalPolicy",
                 json_pack("{s:s, s:[s]}", "PolicySourceArn", arn, "ActionNames", "iam:ListUsers"));
    assert_string_equal(s(first_result(out), "EvalDecision", NULL), "allowed");
    json_decref(out);
    /* an account outside any organization: no OrganizationsDecisionDetail */
    json_decref(
        ok(c, MGMT, "RemoveAccountFromOrganization", json_pack("{s:s}", "AccountId", member)));
    snprintf(arn, sizeof arn, "arn:aws:iam::%s:role/app", member);
    out = iam_ok(c, member, "SimulatePrincipalPolicy",
                 json_pack("{s:s, s:[s]}", "PolicySourceArn", arn, "ActionNames", "iam:ListUsers"));
    assert_string_equal(s(first_result(out), "EvalDecision", NULL), "allowed");
    assert_null(json_object_get(first_result(out), "OrganizationsDecisionDetail"));
    json_decref(out);
    free(prod);
    free(member);
    free(deny);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(organization_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(ous, setup, teardown),
        cmocka_unit_test_setup_teardown(accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(policies, setup, teardown),
        cmocka_unit_test_setup_teardown(policy_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(input_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(scp_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(rcp_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(exemptions, setup, teardown),
        cmocka_unit_test_setup_teardown(fixtures_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(rcp_sts_and_cross_account, setup, teardown),
        cmocka_unit_test_setup_teardown(simulator, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
