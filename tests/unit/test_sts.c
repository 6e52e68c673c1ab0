/* test_sts.c - the pure parts of STS's extras: access key ids that encode their account
 * (GetAccessKeyInfo), and encoded authorization messages (DecodeAuthorizationMessage):
 * their shape, their seal, and their size bound. */
#include "pipeline_env.h"

#include "auth/authz_message.h"
#include "core/arena.h"
#include "core/ids.h"
#include "services/sts.h"

static void key_ids_encode_their_account(void **state)
{
    (void)state;
    struct pd_ids ids;
    pd_ids_init(&ids, 1, 7);
    const char *accounts[] = {"000000000000", "123456789012", "999999999999", "000000000001"};
    for (size_t i = 0; i < 4; i++) {
        for (int k = 0; k < 50; k++) {
            char id[21], back[13];
            pd_sts_key_id(&ids, k % 2 ? "ASIA" : "AKIA", accounts[i], id);
            assert_int_equal(strlen(id), 20);
            assert_memory_equal(id, k % 2 ? "ASIA" : "AKIA", 4);
            assert_int_equal(strspn(id + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 16);
            assert_int_equal(pd_sts_key_account(id, back), PD_OK);
            assert_string_equal(back, accounts[i]);
        }
    }
    pd_ids_cleanup(&ids);
    /* AWS's published example key id, decoded as public analyses of the layout do */
    char acct[13];
    assert_int_equal(pd_sts_key_account("ASIAY34FZKBOKMUTVV7A", acct), PD_OK);
    assert_string_equal(acct, "609629065308");
    assert_int_equal(pd_sts_key_account("ASIA0000000000000000", acct), PD_EINVAL); /* 0: no */
    assert_int_equal(pd_sts_key_account("ASIASHORT", acct), PD_EINVAL);
    assert_int_equal(pd_sts_key_account(NULL, acct), PD_EINVAL);
}

static json_t *sample_doc(size_t nconds)
{
    json_t *ctx = json_object();
    for (size_t i = 0; i < nconds; i++) {
        char k[32];
        snprintf(k, sizeof k, "aws:key%zu", i);
        json_object_set_new(ctx, k,
                            json_pack("[s, s]", "value-a-long-one-to-fill-space",
                                      "value-b-long-one-to-fill-space"));
    }
    json_object_set_new(ctx, "aws:username", json_string("alice"));
    struct pd_authz_message_in in = {.decision = PD_DECISION_IMPLICIT_DENY,
                                     .principal_id = "AIDAEXAMPLE",
                                     .principal_name = "alice",
                                     .principal_arn = "arn:aws:iam::000000000000:user/alice",
                                     .action = "s3:GetObject",
                                     .resource = "arn:aws:s3:::b/k",
                                     .context = ctx};
    json_t *doc = pd_authz_message_doc(&in);
    json_decref(ctx);
    return doc;
}

static void messages_round_trip_and_refuse_tampering(void **state)
{
    (void)state;
    struct pd_env *env = pt_env_new();
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *doc = sample_doc(3);
    /* AWS's shape: lists wrapped in items */
    json_t *ctx = json_object_get(doc, "context");
    assert_true(json_is_false(json_object_get(doc, "allowed")));
    assert_true(json_is_false(json_object_get(doc, "explicitDeny")));
    assert_non_null(json_object_get(json_object_get(doc, "matchedStatements"), "items"));
    assert_non_null(json_object_get(json_object_get(doc, "failures"), "items"));
    assert_string_equal(json_string_value(json_object_get(ctx, "action")), "s3:GetObject");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ctx, "principal"), "name")), "alice");
    json_t *first = json_array_get(json_object_get(json_object_get(ctx, "conditions"), "items"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "key")), "aws:key0");
    assert_int_equal(json_array_size(json_object_get(json_object_get(first, "values"), "items")),
                     2);

    const char *enc, *acct, *text;
    assert_int_equal(pd_authz_message_encode(env->secrets, &a, "123456789012", doc, &enc), PD_OK);
    assert_int_equal(pd_authz_message_decode(env->secrets, &a, enc, strlen(enc), &acct, &text),
                     PD_OK);
    assert_string_equal(acct, "123456789012");
    json_t *back = json_loads(text, 0, NULL);
    assert_true(json_equal(back, doc));
    json_decref(back);
    /* every single altered character is refused */
    size_t n = strlen(enc);
    for (size_t i = 0; i < n; i += 7) {
        char *bad = pd_arena_strdup(&a, enc);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        assert_int_equal(pd_authz_message_decode(env->secrets, &a, bad, n, &acct, &text),
                         PD_EINVAL);
    }
    assert_int_equal(pd_authz_message_decode(env->secrets, &a, "", 0, &acct, &text), PD_EINVAL);
    assert_int_equal(pd_authz_message_decode(env->secrets, &a, "not base64!", 11, &acct, &text),
                     PD_EINVAL);
    /* another podiam's secrets cannot open it */
    struct pd_env *other = pt_env_new();
    assert_int_equal(pd_authz_message_decode(other->secrets, &a, enc, n, &acct, &text), PD_EINVAL);
    pt_env_free(other);
    json_decref(doc);

    /* a context too large for 10240 characters loses conditions until it fits */
    doc = sample_doc(400);
    assert_int_equal(pd_authz_message_encode(env->secrets, &a, "000000000000", doc, &enc), PD_OK);
    assert_true(strlen(enc) <= PD_AUTHZ_MESSAGE_MAX);
    assert_int_equal(pd_authz_message_decode(env->secrets, &a, enc, strlen(enc), &acct, &text),
                     PD_OK);
    back = json_loads(text, 0, NULL);
    size_t kept = json_array_size(
        json_object_get(json_object_get(json_object_get(back, "context"), "conditions"), "items"));
    assert_true(kept > 10 && kept < 401);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(back, "context"), "action")),
        "s3:GetObject");
    json_decref(back);
    json_decref(doc);
    pd_arena_cleanup(&a);
    pt_env_free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_ids_encode_their_account),
        cmocka_unit_test(messages_round_trip_and_refuse_tampering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
