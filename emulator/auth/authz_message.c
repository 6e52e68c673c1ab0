/*
 * authz_message.c - encoded authorization failure messages (see authz_message.h).
 *
 * Wire form: base64url(pd_seal(key, aad "podiam-authz-message-v1", {"a": account, "m": doc})),
 * key = pd_derive_key(seal key, "authz-message"): a message opens only under the secrets of
 * the state that made it.
 */
#include "auth/authz_message.h"

#include <stdlib.h>
#include <string.h>

#include "auth/json_text.h"
#include "auth/secrets.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "crypto/keys.h"
#include "crypto/seal.h"

#define AAD "podiam-authz-message-v1"

static json_t *items(json_t *list)
{
    return json_pack("{s:o}", "items", list);
}

static json_t *values_of(const json_t *v)
{
    json_t *list = json_array();
    if (json_is_string(v)) {
        json_array_append_new(list, json_pack("{s:O}", "value", v));
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            json_array_append_new(list, json_pack("{s:O}", "value", e));
        }
    }
    return items(list);
}

json_t *pd_authz_message_doc(const struct pd_authz_message_in *in)
{
    json_t *matched = json_array();
    for (size_t i = 0; i < in->nmatched; i++) {
        const struct pd_matched_stmt *m = &in->matched[i];
        const char *sid =
            m->ref && m->ref->policy ? pd_policy_statement_sid(m->ref->policy, m->index) : NULL;
        json_array_append_new(matched, json_pack("{s:s, s:s}", "statementId", sid ? sid : "",
                                                 "effect", m->deny ? "DENY" : "ALLOW"));
    }
    json_t *principal = json_object();
    if (in->principal_id)
        json_object_set_new(principal, "id", json_string(in->principal_id));
    if (in->principal_name)
        json_object_set_new(principal, "name", json_string(in->principal_name));
    if (in->principal_arn)
        json_object_set_new(principal, "arn", json_string(in->principal_arn));
    json_t *conds = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)in->context, k, v)
    {
        json_array_append_new(conds, json_pack("{s:s, s:o}", "key", k, "values", values_of(v)));
    }
    json_t *context = json_pack("{s:o, s:s, s:s, s:o}", "principal", principal, "action",
                                in->action ? in->action : "", "resource",
                                in->resource ? in->resource : "", "conditions", items(conds));
    return json_pack("{s:b, s:b, s:o, s:o, s:o}", "allowed", in->decision == PD_DECISION_ALLOW,
                     "explicitDeny", in->decision == PD_DECISION_EXPLICIT_DENY, "matchedStatements",
                     items(matched), "failures", items(json_array()), "context", context);
}

static int key_of(const struct pd_secrets *sec, unsigned char OUT[PD_SEAL_KEY_LEN])
{
    return pd_derive_key(sec->seal_key, "authz-message", OUT);
}

/* Seal {"a", "m"} and encode; PD_ETOOBIG when the result is over the bound. */
static int seal_one(const unsigned char *key, struct pd_arena *a, const char *account,
                    const json_t *doc, const char **OUT)
{
    json_t *rec = json_pack("{s:s, s:O}", "a", account ? account : "", "m", doc);
    char *text = pd_json_dumps(rec);
    json_decref(rec);
    if (!text)
        return PD_EINTERNAL;
    size_t n = strlen(text);
    /* base64 of the sealed record: 4 characters per 3 bytes */
    if ((n + PD_SEAL_OVERHEAD + 2) / 3 * 4 > PD_AUTHZ_MESSAGE_MAX) {
        free(text);
        return PD_ETOOBIG;
    }
    unsigned char *sealed;
    size_t sn;
    int rc = pd_seal(key, AAD, strlen(AAD), text, n, a, &sealed, &sn);
    free(text);
    if (rc)
        return PD_EINTERNAL;
    *OUT = pd_base64_encode(a, sealed, sn, 1);
    return PD_OK;
}

int pd_authz_message_encode(const struct pd_secrets *sec, struct pd_arena *a, const char *account,
                            const json_t *doc, const char **OUT)
{
    unsigned char key[PD_SEAL_KEY_LEN];
    if (!sec || key_of(sec, key))
        return PD_EINTERNAL;
    json_t *copy = json_deep_copy(doc);
    json_t *conds =
        json_object_get(json_object_get(json_object_get(copy, "context"), "conditions"), "items");
    json_t *matched = json_object_get(json_object_get(copy, "matchedStatements"), "items");
    int rc;
    /* Too large: conditions go first (last ones first), then the matched statements. */
    while ((rc = seal_one(key, a, account, copy, OUT)) == PD_ETOOBIG) {
        size_t nc = json_array_size(conds), nm = json_array_size(matched);
        if (nc)
            json_array_remove(conds, nc - 1);
        else if (nm)
            json_array_remove(matched, nm - 1);
        else
            break;
    }
    json_decref(copy);
    return rc == PD_OK ? PD_OK : PD_EINTERNAL;
}

int pd_authz_message_decode(const struct pd_secrets *sec, struct pd_arena *a, const char *text,
                            size_t len, const char **OUT_account, const char **OUT_doc)
{
    unsigned char key[PD_SEAL_KEY_LEN];
    unsigned char *raw, *pt;
    size_t n, ptn;
    if (!sec || !text || len > PD_AUTHZ_MESSAGE_MAX || key_of(sec, key) ||
        pd_jose_b64_decode(a, text, len, &raw, &n) ||
        pd_unseal(key, AAD, strlen(AAD), raw, n, a, &pt, &ptn))
        return PD_EINVAL;
    json_t *rec = json_loadb((const char *)pt, ptn, JSON_REJECT_DUPLICATES, NULL);
    const char *account = json_string_value(json_object_get(rec, "a"));
    json_t *doc = json_object_get(rec, "m");
    int rc = PD_EINVAL;
    if (account && json_is_object(doc)) {
        char *d = pd_json_dumps(doc);
        if (d) {
            *OUT_account = pd_arena_strdup(a, account);
            *OUT_doc = pd_arena_strdup(a, d);
            free(d);
            rc = PD_OK;
        }
    }
    json_decref(rec);
    return rc;
}
