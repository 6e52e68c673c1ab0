/*
 * fuzz_policy.c - libFuzzer target: compile arbitrary text as every policy kind (SCPs and
 * RCPs too, evaluated as organization levels), then
 * evaluate what compiles against a fixed request and context (with and without a trace),
 * so parser, validator, position scanner, matchers and evaluator all see hostile input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "auth/policy.h"
#include "core/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum pd_policy_kind kinds[] = {PD_POLICY_INLINE,   PD_POLICY_MANAGED,
                                                PD_POLICY_RESOURCE, PD_POLICY_TRUST,
                                                PD_POLICY_SCP,      PD_POLICY_RCP};
    (void)pd_policy_size_nonws((const char *)data, size);
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_ctx c;
    pd_ctx_init(&c, &a);
    pd_ctx_add(&c, "aws:username", PD_CTX_STRING, "alice", (size_t)-1);
    pd_ctx_add(&c, "aws:SourceIp", PD_CTX_IP, "203.0.113.7", (size_t)-1);
    pd_ctx_add(&c, "aws:CurrentTime", PD_CTX_DATE, "2026-01-01T00:00:00Z", (size_t)-1);
    pd_ctx_add(&c, "aws:SecureTransport", PD_CTX_BOOLEAN, "true", (size_t)-1);
    pd_ctx_add(&c, "s3:max-keys", PD_CTX_NUMERIC, "10", (size_t)-1);
    pd_ctx_add(&c, "aws:TagKeys", PD_CTX_STRING, "a", (size_t)-1);
    pd_ctx_add(&c, "aws:TagKeys", PD_CTX_STRING, "b*", (size_t)-1);
    pd_ctx_add_empty(&c, "custom:empty");
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        char err[256];
        const char *msg;
        struct pd_policy *p = NULL;
        if (pd_policy_compile((const char *)data, size, kinds[k], err, sizeof err, &p, &msg))
            continue;
        struct pd_policy_ref ref = {p, "fuzz", PD_SRC_CUSTOMER_MANAGED};
        const char *res[] = {"arn:aws:s3:::bucket/alice/key", "*"};
        struct pd_authz q;
        memset(&q, 0, sizeof q);
        q.action = "s3:GetObject";
        q.resources = res;
        q.nresources = 2;
        q.who.type = PD_PRINCIPAL_ROLE_SESSION;
        q.who.arn = "arn:aws:sts::111122223333:assumed-role/app/s";
        q.who.account = "111122223333";
        q.who.role_arn = "arn:aws:iam::111122223333:role/app";
        q.who.unique_id = "AROAEXAMPLEAPPROLE001:s";
        q.ctx = &c;
        /* organization policies: the same one at two levels, with an empty level between */
        struct pd_org_level lv[3] = {
            {"r-ab12", &ref, 1}, {"ou-ab12-11111111", NULL, 0}, {"111122223333", &ref, 1}};
        if (kinds[k] == PD_POLICY_SCP) {
            q.scp_levels = lv;
            q.nscp_levels = (size & 1) ? 3 : 1;
            q.identity = &ref;
            q.nidentity = 1;
        } else if (kinds[k] == PD_POLICY_RCP) {
            q.rcp_levels = lv;
            q.nrcp_levels = (size & 1) ? 3 : 1;
            q.resource_account = "444455556666";
        } else if (kinds[k] == PD_POLICY_RESOURCE || kinds[k] == PD_POLICY_TRUST) {
            q.resource_policy = &ref;
            q.flags = kinds[k] == PD_POLICY_TRUST ? PD_AUTHZ_TRUST : 0;
        } else {
            q.identity = &ref;
            q.nidentity = 1;
            q.boundary = &ref;
            q.session = &ref;
            q.nsession = 1;
        }
        struct pd_authz_result r;
        pd_policy_authorize(&a, &q, &r);
        q.flags |= PD_AUTHZ_TRACE;
        pd_policy_authorize(&a, &q, &r);
        json_decref(r.trace);
        (void)pd_policy_eval_one(&a, p, "iam:CreateUser", NULL, &q.who, &c);
        for (size_t i = 0; i < pd_policy_statement_count(p); i++) {
            unsigned sl, sc, el, ec;
            pd_policy_statement_pos(p, i, &sl, &sc, &el, &ec);
        }
        pd_policy_free(p);
    }
    pd_arena_cleanup(&a);
    return 0;
}
