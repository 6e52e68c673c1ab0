/* authorize.c - authorize one request (see authorize.h). */
#include "authorize.h"

#include <string.h>

#include "auth/authz.h"
#include "auth/authz_message.h"
#include "auth/creds.h"
#include "auth/decisions.h"
#include "auth/orgs.h"
#include "auth/policy_cache.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "env.h"
#include "services/service.h"

int pd_authorize_init(struct pd_env *env)
{
    env->policies = pd_policy_cache_new(8192);
    env->decisions = pd_decisions_new(env->cfg.decisions_max);
    return PD_OK;
}

void pd_authorize_cleanup(struct pd_env *env)
{
    pd_decisions_free(env->decisions);
    env->decisions = NULL;
    pd_policy_cache_free(env->policies);
    env->policies = NULL;
}

void pd_authz_add(struct pd_authz_need *need, const char *action, const char *resource,
                  const char *shown)
{
    if (need->n == PD_AUTHZ_MAX_CHECKS)
        return;
    need->checks[need->n].action = action;
    need->checks[need->n].resource = resource ? resource : "*";
    need->checks[need->n].shown = shown;
    need->n++;
}

static void add_str(struct pd_ctx *c, const char *key, const char *v)
{
    if (v)
        pd_ctx_add(c, key, PD_CTX_STRING, v, (size_t)-1);
}

/* Keys every request has (IAM User Guide, "AWS global condition context keys"). */
static void global_keys(struct pd_req *r, struct pd_ctx *c)
{
    int64_t now = pd_clock_now_ms(&r->env->clock);
    char iso[32];
    pd_time_iso8601(now, 0, iso);
    pd_ctx_add(c, "aws:CurrentTime", PD_CTX_DATE, iso, (size_t)-1);
    pd_ctx_add(c, "aws:EpochTime", PD_CTX_NUMERIC,
               pd_arena_printf(&r->arena, "%lld", (long long)(now / 1000)), (size_t)-1);
    const char *ip = r->peer_ip;
    if (pd_has_prefix(ip, "::ffff:"))
        ip += 7;
    if (*ip)
        pd_ctx_add(c, "aws:SourceIp", PD_CTX_IP, ip, (size_t)-1);
    pd_ctx_add(c, "aws:SecureTransport", PD_CTX_BOOLEAN, r->tls ? "true" : "false", (size_t)-1);
    add_str(c, "aws:RequestedRegion", r->region[0] ? r->region : r->env->cfg.region);
    pd_ctx_add(c, "aws:ViaAWSService", PD_CTX_BOOLEAN, "false", (size_t)-1);
    pd_ctx_add(c, "aws:PrincipalIsAWSService", PD_CTX_BOOLEAN, "false", (size_t)-1);
    if (r->who.temporary) {
        pd_time_iso8601(r->who.issued_ms, 0, iso);
        pd_ctx_add(c, "aws:TokenIssueTime", PD_CTX_DATE, iso, (size_t)-1);
        pd_ctx_add(c, "aws:MultiFactorAuthPresent", PD_CTX_BOOLEAN, "false", (size_t)-1);
        json_t *x = pd_creds_session_extra(&r->who);
        const char *si = json_string_value(json_object_get(x, "source_identity"));
        if (si)
            add_str(c, "aws:SourceIdentity", pd_arena_strdup(&r->arena, si));
        const char *fp =
            json_string_value(json_object_get(json_object_get(x, "web_identity"), "provider"));
        if (fp)
            add_str(c, "aws:FederatedProvider", pd_arena_strdup(&r->arena, fp));
        json_decref(x);
    }
    /* Tags in the request (IAM and STS inputs carry them as Tags: [{Key, Value}]). */
    json_t *tags = json_object_get(r->in, "Tags");
    if (json_is_array(tags)) {
        size_t i;
        json_t *t;
        pd_ctx_add_empty(c, "aws:TagKeys");
        json_array_foreach(tags, i, t)
        {
            const char *k = json_string_value(json_object_get(t, "Key"));
            const char *v = json_string_value(json_object_get(t, "Value"));
            if (!k)
                continue;
            add_str(c, "aws:TagKeys", k);
            add_str(c, pd_arena_printf(&r->arena, "aws:RequestTag/%s", k), v ? v : "");
        }
    }
}

static json_t *decision_entry(struct pd_req *r, const struct pd_authz_need *need,
                              const char *principal)
{
    char iso[32];
    pd_time_iso8601(pd_clock_now_ms(&r->env->clock), 1, iso);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "time", iso, "request_id",
                     r->request_id, "service", r->svc->name, "operation", r->op ? r->op->name : "",
                     "principal", principal ? principal : "anonymous", "mode",
                     r->env->cfg.iam_mode == PD_IAM_AUDIT ? "audit" : "enforce", "context",
                     pd_ctx_to_json(&need->ctx));
}

/* The statements that applied to one check (the engine's matched list): what the decision
 * report counts as used. Compact, so it survives a trace cut for size. */
static json_t *matched_json(const struct pd_authz_result *res)
{
    json_t *out = json_array();
    for (size_t i = 0; i < res->nmatched && i < 64; i++) {
        const struct pd_matched_stmt *m = &res->matched[i];
        const char *sid =
            m->ref && m->ref->policy ? pd_policy_statement_sid(m->ref->policy, m->index) : NULL;
        json_array_append_new(out,
                              json_pack("{s:s, s:s, s:I, s:s?, s:s}", "policy",
                                        m->ref && m->ref->id ? m->ref->id : "", "type",
                                        pd_ptype_name(m->ptype), "statement", (json_int_t)m->index,
                                        "sid", sid, "effect", m->deny ? "Deny" : "Allow"));
    }
    return out;
}

/* Evaluate every check of need; record the decision. PD_OK when allowed (or not
 * enforced), PD_EDENIED with *OUT_message, or PD_EAWS (error set). */
static int decide(struct pd_req *r, struct pd_authz_need *need, const char **OUT_message);

int pd_authorize(struct pd_req *r)
{
    if (r->authorized || r->env->cfg.iam_mode == PD_IAM_OFF || !r->svc->authz || !r->op ||
        (r->op->flags & PD_OP_NOAUTHZ))
        return PD_OK;
    r->authorized = 1;
    /* A federated user's session may not call IAM, nor STS but GetCallerIdentity (IAM User
     * Guide, GetFederationToken): no policy can grant it. */
    if (r->who.kind == PD_CALLER_FEDERATED &&
        (strcmp(r->svc->name, "iam") == 0 || strcmp(r->svc->name, "sts") == 0))
        return pd_fail(r, &PD_ERR_AccessDenied,
                       "User: %s is not authorized to perform: %s:%s (a federated user's "
                       "session cannot call IAM or STS, except sts:GetCallerIdentity)",
                       r->who.arn, r->svc->name, r->op->name);

    struct pd_authz_need need;
    memset(&need, 0, sizeof need);
    pd_ctx_init(&need.ctx, &r->arena);
    global_keys(r, &need.ctx);
    int rc = r->svc->authz(r, &need);
    if (rc || need.n == 0) {
        json_decref(need.log_extra);
        return rc; /* an error, or the operation needs no permission */
    }
    const char *message = NULL;
    rc = decide(r, &need, &message);
    if (rc == PD_EDENIED)
        return pd_fail(r, need.deny ? need.deny : &PD_ERR_AccessDenied, "%s", message);
    return rc;
}

int pd_authorize_check(struct pd_req *r, const char *action, const char *resource,
                       const char **OUT_message)
{
    *OUT_message = NULL;
    if (r->env->cfg.iam_mode == PD_IAM_OFF || !r->svc->authz || !r->op)
        return PD_OK;
    struct pd_authz_need need;
    memset(&need, 0, sizeof need);
    pd_ctx_init(&need.ctx, &r->arena);
    global_keys(r, &need.ctx);
    int rc = r->svc->authz(r, &need);
    if (rc) {
        json_decref(need.log_extra);
        return rc;
    }
    need.n = 0;
    pd_authz_add(&need, action, resource, NULL);
    return decide(r, &need, OUT_message);
}

/* The encoded authorization message of a denial (arena), or NULL. */
static const char *encoded_message(struct pd_req *r, const struct pd_authz_need *need,
                                   const struct pd_authz_check *failed,
                                   const struct pd_authz_result *res, const char *principal)
{
    json_t *context = pd_ctx_to_json(&need->ctx);
    struct pd_authz_message_in in = {
        .decision = res->decision,
        .principal_id = need->who ? NULL : r->who.user_id,
        .principal_name = !need->who && r->who.kind == PD_CALLER_USER ? r->who.name : NULL,
        .principal_arn = principal,
        .action = failed->action,
        .resource = failed->resource,
        .matched = res->matched,
        .nmatched = res->nmatched,
        .context = context,
    };
    json_t *doc = pd_authz_message_doc(&in);
    json_decref(context);
    const char *out = NULL;
    const char *account = need->who ? need->resource_account : r->who.account_id;
    if (pd_authz_message_encode(r->env->secrets, &r->arena, account, doc, &out) != PD_OK)
        out = NULL;
    json_decref(doc);
    return out;
}

static int decide(struct pd_req *r, struct pd_authz_need *need_, const char **OUT_message)
{
    struct pd_authz_need need = *need_;
    int rc;

    struct pd_authz_caller caller;
    const char *principal = r->who.arn;
    if (need.who) {
        /* A caller that did not sign (a web identity): no identity-side policies. */
        memset(&caller, 0, sizeof caller);
        caller.id = *need.who;
        pd_ctx_add_principal_keys(&need.ctx, &caller.id);
        principal = need.who->arn         ? need.who->arn
                    : need.who->federated ? need.who->federated
                                          : need.who->service; /* pods.eks.amazonaws.com */
        rc = PD_OK;
    } else {
        rc = pd_authz_caller_load(r->db, &r->arena, r->env->policies, &r->who, &need.ctx, &caller);
    }
    if (rc) {
        pd_authz_caller_release(r->env->policies, &caller);
        json_decref(need.log_extra);
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the caller's policies");
    }
    struct pd_cached_policy *rp_held = NULL;
    struct pd_policy_ref rp = {0};
    if (need.resource_policy) {
        char err[256];
        const char *why;
        if (pd_policy_cache_get(r->env->policies, need.trust ? PD_POLICY_TRUST : PD_POLICY_RESOURCE,
                                need.resource_policy, strlen(need.resource_policy), err, sizeof err,
                                &rp_held, &why) == PD_OK) {
            rp.policy = pd_cached_policy_get(rp_held);
            rp.id = need.policy_id ? need.policy_id : "resource policy";
            rp.source = PD_SRC_RESOURCE;
        } else {
            pd_log_req(PD_LOG_WARN, r->request_id, "stored resource policy does not compile: %s",
                       why ? why : "?");
        }
    }

    /* Organizations: the SCPs of the caller's account, the RCPs of the resource's, and the
     * organization keys (before the entry records the context) */
    struct pd_authz_org org;
    if (pd_authz_org_load(r->db, &r->arena, r->env->policies, &caller.id, need.resource_account,
                          need.n ? need.checks[0].action : NULL, &need.ctx, &org)) {
        pd_authz_org_release(r->env->policies, &org);
        pd_policy_cache_release(r->env->policies, rp_held);
        pd_authz_caller_release(r->env->policies, &caller);
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the organization's policies");
    }
    json_t *entry = decision_entry(r, &need, principal);
    if (need.log_extra) {
        json_object_update(entry, need.log_extra);
        json_decref(need.log_extra);
    }
    /* the IAM identity whose policies applied (a session's role), for the report */
    const char *identity =
        need.who ? NULL
        : r->who.kind == PD_CALLER_ROLE_SESSION || r->who.kind == PD_CALLER_FEDERATED
            ? r->who.role_arn
            : r->who.arn;
    if (identity)
        json_object_set_new(entry, "identity", json_string(identity));
    json_t *checks = json_array();
    enum pd_decision worst = PD_DECISION_ALLOW;
    const struct pd_authz_check *failed = NULL;
    struct pd_authz_result failed_res;
    memset(&failed_res, 0, sizeof failed_res);
    for (size_t i = 0; i < need.n; i++) {
        const struct pd_authz_check *ck = &need.checks[i];
        struct pd_authz q = {
            .action = ck->action,
            .resources = &ck->resource,
            .nresources = 1,
            .who = caller.id,
            .identity = caller.identity,
            .nidentity = caller.nidentity,
            .boundary = caller.boundary.policy ? &caller.boundary : NULL,
            .session = caller.session,
            .nsession = caller.nsession,
            .resource_policy = rp.policy ? &rp : NULL,
            .resource_account = need.resource_account,
            .scp_levels = org.scp,
            .nscp_levels = org.nscp,
            .rcp_levels = pd_authz_org_rcp_covers(ck->action) ? org.rcp : NULL,
            .nrcp_levels = pd_authz_org_rcp_covers(ck->action) ? org.nrcp : 0,
            .ctx = &need.ctx,
            .flags = PD_AUTHZ_TRACE | (need.trust ? PD_AUTHZ_TRUST : 0),
        };
        struct pd_authz_result res;
        pd_policy_authorize(&r->arena, &q, &res);
        json_t *jc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o*}", "action", ck->action, "resource",
                               ck->resource, "decision", pd_decision_name(res.decision),
                               "decided_by", pd_ptype_name(res.decided_by), "matched",
                               matched_json(&res), "trace", res.trace);
        /* an organization policy's decision names its level and, for a deny, the policy */
        if (res.org_level)
            json_object_set_new(jc, "level", json_string(res.org_level));
        if (res.org_level && res.deny_ref && res.deny_ref->id)
            json_object_set_new(jc, "organization_policy", json_string(res.deny_ref->id));
        json_array_append_new(checks, jc);
        if (res.decision != PD_DECISION_ALLOW && !failed) {
            failed = ck;
            failed_res = res;
            worst = res.decision;
        } else if (res.decision == PD_DECISION_EXPLICIT_DENY && worst != res.decision) {
            worst = res.decision;
        }
    }
    json_object_set_new(entry, "checks", checks);
    json_object_set_new(entry, "decision", json_string(pd_decision_name(worst)));
    const char *message = NULL;
    if (failed) {
        const char *shown = failed->shown ? failed->shown : failed->resource;
        message = need.deny_message
                      ? need.deny_message
                      : pd_policy_denial_message(&r->arena, r->who.arn, failed->action,
                                                 *shown ? shown : NULL, need.quote_resource,
                                                 failed_res.decision, failed_res.decided_by, NULL);
        json_object_set_new(entry, "decided_by", json_string(pd_ptype_name(failed_res.decided_by)));
        if (failed_res.org_level)
            json_object_set_new(entry, "level", json_string(failed_res.org_level));
        /* The denial as DecodeAuthorizationMessage reads it (authz_message.h): in the log
         * always, in the message when podiam runs with --encoded-denials. */
        const char *encoded = encoded_message(r, &need, failed, &failed_res, principal);
        if (encoded) {
            json_object_set_new(entry, "encoded_message", json_string(encoded));
            if (r->env->cfg.encoded_denials)
                message = pd_arena_printf(&r->arena, "%s Encoded authorization failure message: %s",
                                          message, encoded);
        }
        json_object_set_new(entry, "message", json_string(message));
    }
    int enforce = r->env->cfg.iam_mode == PD_IAM_ENFORCE;
    json_object_set_new(entry, "allowed", json_boolean(!failed || !enforce));
    char id[24];
    pd_decisions_add(r->env->decisions, entry, id);
    r->decision_id = pd_arena_strdup(&r->arena, id);
    if (failed)
        pd_log_req(PD_LOG_INFO, r->request_id, "authz %s %s %s on %s for %s: %s%s", id,
                   pd_decision_name(failed_res.decision), failed->action, failed->resource,
                   principal ? principal : "anonymous", message,
                   enforce ? "" : " (audit: allowed)");
    else
        pd_log_req(PD_LOG_DEBUG, r->request_id, "authz %s allowed %s on %s", id,
                   need.checks[0].action, need.checks[0].resource);

    pd_authz_org_release(r->env->policies, &org);
    pd_policy_cache_release(r->env->policies, rp_held);
    pd_authz_caller_release(r->env->policies, &caller);
    if (failed && enforce) {
        *OUT_message = message;
        return PD_EDENIED;
    }
    return PD_OK;
}
