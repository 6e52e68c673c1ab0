/* accounts.c - create and delete whole accounts (see accounts.h). */
#include "services/accounts.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "crypto/seal.h"
#include "env.h"
#include "req.h"
#include "services/s3/s3.h"
#include "store/accounts_db.h"
#include "store/iam_db.h"
#include "store/store.h"

#define DEFAULT_ACCOUNT "000000000000"

static int reply_error(struct pd_req *r, int status, const char *code, const char *msg)
{
    return pd_req_reply_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

static int twelve_digits(const char *id)
{
    if (!id || strlen(id) != 12)
        return 0;
    for (const char *p = id; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

int pd_accounts_create(struct pd_env *env, struct pd_db *db, const char *id, int64_t now_ms,
                       struct pd_account_keys *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    int64_t created;
    if (id && *id) {
        if (!twelve_digits(id))
            return PD_EINVAL;
        if (pd_iam_db_account_get(db, id, &created) == PD_OK)
            return PD_ECONFLICT;
        snprintf(OUT->account_id, sizeof OUT->account_id, "%s", id);
    } else {
        /* a fresh id: 12 digits not starting with 0 (so never the default), not in use */
        int tries = 0;
        do {
            uint64_t v = pd_ids_next(&env->ids) % 900000000000ULL + 100000000000ULL;
            snprintf(OUT->account_id, sizeof OUT->account_id, "%012llu", (unsigned long long)v);
        } while (pd_iam_db_account_get(db, OUT->account_id, &created) == PD_OK && ++tries < 16);
        if (tries == 16)
            return PD_ECONFLICT;
    }
    int rc = pd_iam_db_account_put(db, OUT->account_id, now_ms);
    if (rc)
        return rc;
    pd_ids_unique(&env->ids, "AKIA", 20, OUT->access_key_id);
    if (env->cfg.seeded) /* --seed: reproducible, documented as not secret */
        pd_ids_secret(&env->ids, OUT->secret);
    else if (pd_random_secret_key(OUT->secret))
        return PD_EINTERNAL;
    struct pd_iam_access_key k = {
        .access_key_id = OUT->access_key_id,
        .account_id = OUT->account_id,
        .secret = OUT->secret,
        .status = "Active",
        .created_ms = now_ms,
    };
    return pd_iam_db_key_put(db, &k);
}

int pd_accounts_post(struct pd_req *r)
{
    json_t *in = r->body.len ? json_loadb(r->body.p, r->body.len, 0, NULL) : json_object();
    json_t *idv = json_object_get(in, "id");
    if (!json_is_object(in) || (idv && !json_is_string(idv)) ||
        json_object_size(in) > (idv ? 1u : 0u)) {
        json_decref(in);
        return reply_error(r, 400, "BadRequest",
                           "expected {} or {\"id\": \"123456789012\"} (12 digits)");
    }
    const char *id = json_string_value(idv);
    if (id && !twelve_digits(id)) {
        json_decref(in);
        return reply_error(r, 400, "BadRequest", "an account id is 12 digits");
    }
    struct pd_account_keys k;
    int rc = pd_db_begin(r->db, 1);
    if (!rc)
        rc = pd_accounts_create(r->env, r->db, id, pd_clock_now_ms(&r->env->clock), &k);
    if (!rc)
        rc = pd_db_commit(r->db);
    else
        pd_db_rollback(r->db);
    json_decref(in);
    if (rc == PD_ECONFLICT)
        return reply_error(r, 409, "AccountExists", "an account with that id exists");
    if (rc)
        return reply_error(r, 500, "InternalError", pd_strerror(rc));
    pd_log_req(PD_LOG_INFO, r->request_id, "account %s created", k.account_id);
    return pd_req_reply_json(
        r, 201,
        json_pack("{s:s, s:o, s:s, s:s}", "account_id", k.account_id, "root_arn",
                  json_sprintf("arn:aws:iam::%s:root", k.account_id), "access_key_id",
                  k.access_key_id, "secret_access_key", k.secret));
}

int pd_accounts_delete(struct pd_req *r, const char *id)
{
    if (!twelve_digits(id))
        return reply_error(r, 400, "BadRequest", "an account id is 12 digits");
    if (strcmp(id, DEFAULT_ACCOUNT) == 0)
        return reply_error(r, 400, "BadRequest",
                           "the default account stays (POST /_podiam/reset empties it)");
    int rc = pd_db_begin(r->db, 1);
    if (!rc)
        rc = pd_accounts_db_delete(r->db, id);
    if (!rc)
        rc = pd_s3_sweep_unreferenced(r->env, r->db); /* its objects' files */
    if (!rc)
        rc = pd_db_commit(r->db);
    else
        pd_db_rollback(r->db);
    if (rc == PD_ENOTFOUND)
        return reply_error(r, 404, "NoSuchAccount", "no account with that id");
    if (rc)
        return reply_error(r, 500, "InternalError", pd_strerror(rc));
    pd_log_req(PD_LOG_INFO, r->request_id, "account %s deleted", id);
    return pd_req_reply_json(r, 200,
                             json_pack("{s:s, s:s}", "status", "deleted", "account_id", id));
}
