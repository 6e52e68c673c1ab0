/*
 * iam_oidc.c - IAM OpenID Connect providers (handlers; see iam_internal.h).
 *
 * A provider is its issuer URL without "https://" (as AWS stores it and names it in the
 * ARN arn:aws:iam::ACCT:oidc-provider/HOST/PATH), a list of client ids (audiences) and an
 * optional list of certificate thumbprints. STS reads providers through iam_db.h.
 */
#include <ctype.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "services/iam/iam_internal.h"
#include "services/oidc_remote.h"

static int check_client_id(struct pd_req *r, const char *id)
{
    if (!*id || strlen(id) > 255)
        return pd_iam_invalid(r, id, "clientID",
                              "Member must have length less than or equal to 255, Member must "
                              "have length greater than or equal to 1");
    return PD_OK;
}

static int check_thumbprints(struct pd_req *r, json_t *list)
{
    if (!list)
        return PD_OK;
    if (!json_is_array(list))
        return pd_fail(r, &PD_ERR_ValidationError, "ThumbprintList must be a list");
    if (json_array_size(list) > PD_IAM_MAX_THUMBPRINTS)
        return pd_fail(r, &IAM_InvalidInput,
                       "Thumbprint list must contain fewer than %d "
                       "entries.",
                       PD_IAM_MAX_THUMBPRINTS);
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        const char *s = json_string_value(t);
        int ok = s && strlen(s) == 40;
        for (size_t k = 0; ok && k < 40; k++)
            ok = isxdigit((unsigned char)s[k]) != 0;
        if (!ok)
            return pd_iam_invalid(r, s ? s : "null", "thumbprintList",
                                  "Member must satisfy constraint: [Member must have length "
                                  "less than or equal to 40, Member must have length greater "
                                  "than or equal to 40]");
    }
    return PD_OK;
}

static const char **string_list(struct pd_req *r, json_t *list, size_t *OUT_n)
{
    size_t n = json_array_size(list), i;
    const char **v = pd_arena_zalloc(&r->arena, (n + 1) * sizeof *v);
    json_t *t;
    json_array_foreach(list, i, t) v[i] = json_string_value(t);
    *OUT_n = n;
    return v;
}

int pd_iam_do_create_oidc(struct pd_req *r, const struct pd_iam_fixed *fx)
{
    const char *url;
    json_t *clients = pd_iam_in(r, "ClientIDList"), *thumbs = pd_iam_in(r, "ThumbprintList");
    json_t *tags = pd_iam_in(r, "Tags");
    if (pd_iam_in_req(r, "Url", &url))
        return PD_EAWS;
    if (strlen(url) > 255)
        return pd_iam_invalid(r, url, "url", "Member must have length less than or equal to 255");
    /* http:// only to a loopback issuer, and only when podiam runs with
     * --oidc-http-loopback on (a local IdP in a test); stored without its scheme as AWS
     * stores https URLs, so the ARN and condition keys look the same. */
    size_t scheme = pd_has_prefix(url, "https://") ? 8 : 0;
    if (!scheme && pd_oidc_remote_allowed(r->env, url))
        scheme = 7;
    if (!scheme || !url[scheme] || url[scheme] == '/')
        return pd_fail(r, &PD_ERR_ValidationError, "Invalid Open ID Connect Provider URL");
    if (clients && !json_is_array(clients))
        return pd_fail(r, &PD_ERR_ValidationError, "ClientIDList must be a list");
    if (json_array_size(clients) > PD_IAM_MAX_CLIENT_IDS)
        return pd_fail(r, &IAM_LimitExceeded,
                       "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d",
                       PD_IAM_MAX_CLIENT_IDS);
    size_t i;
    json_t *c;
    json_array_foreach(clients, i, c)
    {
        if (!json_is_string(c) || check_client_id(r, json_string_value(c)))
            return pd_fail(r, &PD_ERR_ValidationError, "Invalid ClientIDList");
    }
    if (check_thumbprints(r, thumbs) || pd_iam_check_tags(r, tags))
        return PD_EAWS;
    struct pd_iam_oidc o = {
        .account_id = pd_iam_account(r),
        .url = url + scheme,
        .created_ms = fx && fx->created_ms ? fx->created_ms : pd_iam_now_ms(r),
    };
    o.client_ids = string_list(r, clients, &o.nclient_ids);
    o.thumbprints = string_list(r, thumbs, &o.nthumbprints);
    int rc = pd_iam_db_oidc_put(r->db, &o);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &IAM_EntityAlreadyExists, "Provider with url %s already exists.", url);
    if (rc || pd_iam_tags_apply(r, PD_IAM_OIDC, o.id, tags))
        return pd_iam_store_fail(r, rc ? rc : PD_EAWS);
    json_t *out = pd_iam_out(r);
    json_object_set_new(out, "OpenIDConnectProviderArn",
                        json_string(pd_arena_printf(&r->arena, "arn:aws:iam::%s:oidc-provider/%s",
                                                    o.account_id, o.url)));
    struct pd_iam_tag *tv;
    size_t tn;
    if (pd_iam_db_tags_get(r->db, &r->arena, PD_IAM_OIDC, o.id, &tv, &tn) == PD_OK && tn)
        json_object_set_new(out, "Tags", pd_iam_tags_json(tv, tn));
    return PD_OK;
}

int pd_iam_create_open_id_connect_provider(struct pd_req *r)
{
    return pd_iam_do_create_oidc(r, NULL);
}

/* OpenIDConnectProviderArn of the request, found. */
static int the_provider(struct pd_req *r, struct pd_iam_oidc *OUT)
{
    const char *arn;
    if (pd_iam_in_req(r, "OpenIDConnectProviderArn", &arn))
        return PD_EAWS;
    const char *prefix =
        pd_arena_printf(&r->arena, "arn:aws:iam::%s:oidc-provider/", pd_iam_account(r));
    if (!pd_has_prefix(arn, "arn:aws:iam::") || !strstr(arn, ":oidc-provider/"))
        return pd_fail(r, &IAM_InvalidInput, "ARN %s is not valid.", arn);
    int rc = PD_ENOTFOUND;
    if (pd_has_prefix(arn, prefix))
        rc = pd_iam_db_oidc_get(r->db, &r->arena, pd_iam_account(r), arn + strlen(prefix), OUT);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity, "OpenIDConnect Provider not found for arn %s", arn);
    return pd_iam_store_fail(r, rc);
}

static json_t *strings_json(const char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

int pd_iam_get_open_id_connect_provider(struct pd_req *r)
{
    struct pd_iam_oidc o;
    if (the_provider(r, &o))
        return PD_EAWS;
    json_t *out = pd_iam_out(r);
    json_object_set_new(out, "Url", json_string(o.url));
    json_object_set_new(out, "ClientIDList", strings_json(o.client_ids, o.nclient_ids));
    json_object_set_new(out, "ThumbprintList", strings_json(o.thumbprints, o.nthumbprints));
    json_object_set_new(out, "CreateDate", pd_iam_time(o.created_ms));
    struct pd_iam_tag *tv;
    size_t tn;
    if (pd_iam_db_tags_get(r->db, &r->arena, PD_IAM_OIDC, o.id, &tv, &tn) == PD_OK && tn)
        json_object_set_new(out, "Tags", pd_iam_tags_json(tv, tn));
    return PD_OK;
}

int pd_iam_list_open_id_connect_providers(struct pd_req *r)
{
    struct pd_iam_oidc *v;
    size_t n;
    int rc = pd_iam_db_oidc_list(r->db, &r->arena, pd_iam_account(r), &v, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s}", "Arn", v[i].arn));
    json_object_set_new(pd_iam_out(r), "OpenIDConnectProviderList", list);
    return PD_OK;
}

int pd_iam_delete_open_id_connect_provider(struct pd_req *r)
{
    struct pd_iam_oidc o;
    if (the_provider(r, &o))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_oidc_del(r->db, o.id));
}

int pd_iam_add_client_id_to_open_id_connect_provider(struct pd_req *r)
{
    struct pd_iam_oidc o;
    const char *cid;
    if (pd_iam_in_req(r, "ClientID", &cid) || check_client_id(r, cid) || the_provider(r, &o))
        return PD_EAWS;
    int have = 0;
    for (size_t i = 0; i < o.nclient_ids; i++)
        have |= strcmp(o.client_ids[i], cid) == 0;
    if (!have && o.nclient_ids >= PD_IAM_MAX_CLIENT_IDS)
        return pd_fail(r, &IAM_LimitExceeded,
                       "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d",
                       PD_IAM_MAX_CLIENT_IDS);
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_oidc_client_add(r->db, o.id, cid));
}

int pd_iam_remove_client_id_from_open_id_connect_provider(struct pd_req *r)
{
    struct pd_iam_oidc o;
    const char *cid;
    if (pd_iam_in_req(r, "ClientID", &cid) || check_client_id(r, cid) || the_provider(r, &o))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_oidc_client_del(r->db, o.id, cid));
}

int pd_iam_update_open_id_connect_provider_thumbprint(struct pd_req *r)
{
    struct pd_iam_oidc o;
    json_t *thumbs = pd_iam_in(r, "ThumbprintList");
    if (!thumbs)
        return pd_fail(r, &PD_ERR_ValidationError,
                       "1 validation error detected: Value null at 'thumbprintList' failed to "
                       "satisfy constraint: Member must not be null");
    if (check_thumbprints(r, thumbs) || the_provider(r, &o))
        return PD_EAWS;
    size_t n;
    const char **v = string_list(r, thumbs, &n);
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_oidc_set_thumbprints(r->db, o.id, v, n));
}

int pd_iam_tag_open_id_connect_provider(struct pd_req *r)
{
    struct pd_iam_oidc o;
    if (the_provider(r, &o))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_tags_apply(r, PD_IAM_OIDC, o.id, pd_iam_in(r, "Tags"));
}

int pd_iam_untag_open_id_connect_provider(struct pd_req *r)
{
    struct pd_iam_oidc o;
    if (the_provider(r, &o))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_tags_remove(r, PD_IAM_OIDC, o.id, pd_iam_in(r, "TagKeys"));
}

int pd_iam_list_open_id_connect_provider_tags(struct pd_req *r)
{
    struct pd_iam_oidc o;
    if (the_provider(r, &o))
        return PD_EAWS;
    return pd_iam_tags_list(r, PD_IAM_OIDC, o.id);
}
