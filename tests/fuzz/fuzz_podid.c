/*
 * fuzz_podid.c - libFuzzer target: the claim rules of EKS Pod Identity tokens
 * (services/eks_podid.c pd_podid_check_claims) on arbitrary JSON, then the session tags and
 * session name made from what passes.
 *
 * Invariants beyond "no crash": a token that passes names a non-empty namespace, service
 * account, pod and pod uid agreeing with its sub; a failure always says why; the session
 * name is at most 64 characters of [A-Za-z0-9_+=,.@-].
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "services/podid.h"

#define NOW 1767225600

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *c = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!c)
        return 0;
    struct pd_podid_subject s;
    const char *why = NULL;
    enum pd_podid_verdict v = pd_podid_check_claims(c, NOW, &s, &why);
    if (v != PD_PODID_OK) {
        if (!why)
            abort();
    } else {
        if (!s.ns || !*s.ns || !s.sa || !*s.sa || !s.pod || !*s.pod || !s.pod_uid || !*s.pod_uid)
            abort();
        const char *sub = json_string_value(json_object_get(c, "sub"));
        char want[1024];
        if (snprintf(want, sizeof want, "system:serviceaccount:%s:%s", s.ns, s.sa) <
                (int)sizeof want &&
            strcmp(sub, want) != 0)
            abort();
        json_t *tags =
            pd_podid_session_tags("arn:aws:eks:us-east-1:000000000000:cluster/c", "c", &s);
        if (json_object_size(tags) != 6)
            abort();
        json_decref(tags);
        struct pd_arena a;
        pd_arena_init(&a);
        const char *n = pd_podid_session_name(&a, "c", s.pod, "0123");
        if (strlen(n) > 64 || strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_+=,.@-") != strlen(n))
            abort();
        pd_arena_cleanup(&a);
    }
    json_decref(c);
    return 0;
}
