/*
 * creds.c - resolve access keys; mint and open sealed session tokens (see creds.h).
 *
 * Token = base64(pd_seal(seal_key, aad "podiam-sts-v1", record)), record = compact JSON:
 *   {"k":akid,"t":kind,"a":account,"arn":…,"uid":…,"n":name,"p":path,"u":unique id,
 *    "r":role arn,"s":session name,"iat":ms,"exp":ms,"g":generation,"x":{extra facts}}
 * A token opens only in the state generation it was minted in (a reset ends every session).
 * The secret access key is pd_derive_secret(secret_key, akid): never stored, never sent
 * back except at minting.
 */
#include "auth/creds.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth/json_text.h"
#include "auth/secrets.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "crypto/seal.h"
#include "store/iam_db.h"

#define TOKEN_AAD "podiam-sts-v1"
#define MAX_TOKEN_CHARS 16384

static const char *kind_names[] = {"anonymous", "root", "user", "assumed-role", "federated"};

static int kind_from_name(const char *s)
{
    for (int i = 0; i < 5; i++)
        if (s && strcmp(s, kind_names[i]) == 0)
            return i;
    return -1;
}

static const char *str_or_null(struct pd_arena *a, json_t *rec, const char *k)
{
    const char *v = json_string_value(json_object_get(rec, k));
    return v ? pd_arena_strdup(a, v) : NULL;
}

static int open_token(const struct pd_secrets *sec, struct pd_arena *a, const char *akid,
                      const char *token, int64_t now_ms, struct pd_principal *OUT,
                      enum pd_creds_fail *OUT_why)
{
    size_t tlen = strlen(token);
    unsigned char *raw, *pt;
    size_t n, ptn;
    *OUT_why = PD_CREDS_TOKEN_INVALID;
    if (tlen > MAX_TOKEN_CHARS || pd_base64_decode(a, token, tlen, &raw, &n))
        return PD_ESIG;
    if (pd_unseal(sec->seal_key, TOKEN_AAD, strlen(TOKEN_AAD), raw, n, a, &pt, &ptn))
        return PD_ESIG;
    json_t *rec = json_loadb((const char *)pt, ptn, 0, NULL);
    int rc = PD_ESIG;
    const char *k = json_string_value(json_object_get(rec, "k"));
    int kind = kind_from_name(json_string_value(json_object_get(rec, "t")));
    if (!rec || !k || strcmp(k, akid) != 0 || kind <= 0)
        goto out;
    if (!pd_secrets_generation_ok(sec, json_integer_value(json_object_get(rec, "g"))))
        goto out; /* minted before the last reset (or after the snapshot a restore went to) */
    int64_t exp = json_integer_value(json_object_get(rec, "exp"));
    if (exp <= now_ms) {
        *OUT_why = PD_CREDS_TOKEN_EXPIRED;
        goto out;
    }
    memset(OUT, 0, sizeof *OUT);
    OUT->kind = (enum pd_caller_kind)kind;
    OUT->account_id = str_or_null(a, rec, "a");
    OUT->arn = str_or_null(a, rec, "arn");
    OUT->user_id = str_or_null(a, rec, "uid");
    OUT->name = str_or_null(a, rec, "n");
    OUT->path = str_or_null(a, rec, "p");
    OUT->unique_id = str_or_null(a, rec, "u");
    OUT->role_arn = str_or_null(a, rec, "r");
    OUT->session_name = str_or_null(a, rec, "s");
    OUT->access_key_id = pd_arena_strdup(a, akid);
    OUT->temporary = 1;
    OUT->issued_ms = json_integer_value(json_object_get(rec, "iat"));
    OUT->expires_ms = exp;
    json_t *x = json_object_get(rec, "x");
    if (x) {
        char *text = pd_json_dumps(x);
        OUT->session_json = text ? pd_arena_strdup(a, text) : NULL;
        free(text);
    }
    if (!OUT->account_id || !OUT->arn)
        goto out;
    *OUT_why = PD_CREDS_OK;
    rc = PD_OK;
out:
    json_decref(rec);
    return rc;
}

int pd_creds_resolve(struct pd_db *db, const struct pd_secrets *sec, struct pd_arena *a,
                     const char *akid, const char *session_token, int64_t now_ms,
                     struct pd_principal *OUT, const char **OUT_secret, enum pd_creds_fail *OUT_why)
{
    *OUT_why = PD_CREDS_UNKNOWN_KEY;
    if (!akid || !*akid)
        return PD_ESIG;
    if (pd_has_prefix(akid, "ASIA")) {
        if (!session_token || !*session_token) {
            *OUT_why = PD_CREDS_TOKEN_MISSING;
            return PD_ESIG;
        }
        int rc = open_token(sec, a, akid, session_token, now_ms, OUT, OUT_why);
        if (rc)
            return rc;
        char secret[41];
        if (pd_derive_secret(sec->secret_key, akid, secret))
            return PD_EINTERNAL;
        *OUT_secret = pd_arena_strdup(a, secret);
        return PD_OK;
    }
    const char *account, *secret, *status;
    struct pd_iam_user *user = NULL;
    int rc = pd_iam_db_access_key_find(db, a, akid, &account, &user, &secret, &status);
    if (rc == PD_ENOTFOUND || (rc == PD_OK && strcmp(status, "Active") != 0))
        return PD_ESIG;
    if (rc)
        return rc;
    if (session_token && *session_token) {
        /* A long-term key never comes with a session token. */
        *OUT_why = PD_CREDS_TOKEN_INVALID;
        return PD_ESIG;
    }
    memset(OUT, 0, sizeof *OUT);
    OUT->account_id = account;
    OUT->access_key_id = pd_arena_strdup(a, akid);
    if (user) {
        OUT->kind = PD_CALLER_USER;
        OUT->arn = user->arn;
        OUT->user_id = user->unique_id;
        OUT->unique_id = user->unique_id;
        OUT->name = user->name;
        OUT->path = user->path;
    } else {
        OUT->kind = PD_CALLER_ROOT;
        OUT->arn = pd_arena_printf(a, "arn:aws:iam::%s:root", account);
        OUT->user_id = account;
        OUT->unique_id = account;
    }
    *OUT_secret = secret;
    *OUT_why = PD_CREDS_OK;
    return PD_OK;
}

#define KEY_LAST_USED_GRAIN_MS 60000

void pd_creds_note_use(struct pd_db *db, struct pd_arena *a, const struct pd_principal *who,
                       int64_t now_ms, const char *region, const char *service)
{
    if (!who->access_key_id || who->temporary ||
        (who->kind != PD_CALLER_USER && who->kind != PD_CALLER_ROOT))
        return;
    struct pd_iam_access_key k;
    if (pd_iam_db_key_get(db, a, who->account_id, who->access_key_id, &k) != PD_OK)
        return;
    if (now_ms - k.last_used_ms < KEY_LAST_USED_GRAIN_MS && k.last_used_region &&
        strcmp(k.last_used_region, region) == 0 && k.last_used_service &&
        strcmp(k.last_used_service, service) == 0)
        return;
    (void)pd_iam_db_key_touch(db, who->access_key_id, now_ms, region, service);
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

int pd_creds_mint(const struct pd_secrets *sec, struct pd_arena *a, const struct pd_principal *who,
                  const json_t *extra, const char *akid, int64_t now_ms, int64_t duration_s,
                  struct pd_creds_minted *OUT)
{
    json_t *rec = json_object();
    set_str(rec, "k", akid);
    set_str(rec, "t", kind_names[who->kind]);
    set_str(rec, "a", who->account_id);
    set_str(rec, "arn", who->arn);
    set_str(rec, "uid", who->user_id);
    set_str(rec, "n", who->name);
    set_str(rec, "p", who->path);
    set_str(rec, "u", who->unique_id);
    set_str(rec, "r", who->role_arn);
    set_str(rec, "s", who->session_name);
    int64_t exp = now_ms + duration_s * 1000;
    json_object_set_new(rec, "iat", json_integer(now_ms));
    json_object_set_new(rec, "exp", json_integer(exp));
    json_object_set_new(rec, "g", json_integer(atomic_load(&sec->generation)));
    if (extra && json_object_size(extra))
        json_object_set(rec, "x", (json_t *)extra);
    char *text = pd_json_dumps(rec);
    json_decref(rec);
    if (!text)
        return PD_EINTERNAL;
    unsigned char *sealed;
    size_t n;
    int rc =
        pd_seal(sec->seal_key, TOKEN_AAD, strlen(TOKEN_AAD), text, strlen(text), a, &sealed, &n);
    free(text);
    if (rc)
        return rc;
    const char *token = pd_base64_encode(a, sealed, n, 0);
    if (strlen(token) > MAX_TOKEN_CHARS)
        return PD_ETOOBIG;
    char secret[41];
    if (pd_derive_secret(sec->secret_key, akid, secret))
        return PD_EINTERNAL;
    OUT->access_key_id = pd_arena_strdup(a, akid);
    OUT->secret_access_key = pd_arena_strdup(a, secret);
    OUT->session_token = token;
    OUT->expires_ms = exp;
    return PD_OK;
}

json_t *pd_creds_session_extra(const struct pd_principal *who)
{
    if (!who->temporary || !who->session_json)
        return NULL;
    return json_loads(who->session_json, 0, NULL);
}
