/*
 * fuzz_k8s_webhook.c - libFuzzer target: the pod identity webhook mutation
 * (emulator/k8s/webhook.c) on arbitrary JSON {"pod": ..., "sa": ...}.
 *
 * Invariants beyond "no crash": the mutation is idempotent (a second run returns 0 and leaves
 * the pod as the first run left it), and a run that returns 0 changes nothing.
 */
#include <stdint.h>
#include <stdlib.h>

#include "k8s/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* The first byte picks the webhook flags. */
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults((data[0] & 1) ? "us-west-2" : NULL);
    cfg.sts_regional_endpoints = (data[0] >> 1) & 1;
    if (data[0] & 4)
        cfg.audience = "custom";
    if (data[0] & 8)
        cfg.token_expiration = 3600;
    json_t *doc = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (!doc)
        return 0;
    json_t *pod = json_deep_copy(json_object_get(doc, "pod"));
    const json_t *sa = json_object_get(doc, "sa");
    if (pod) {
        json_t *before = json_deep_copy(pod);
        /* bit 4 of the first byte: the Pod Identity mutation instead of IRSA's */
        int podid = (data[0] & 16) != 0;
        int rc =
            podid ? pd_k8s_webhook_mutate_pod_identity(pod) : pd_k8s_webhook_mutate(pod, sa, &cfg);
        if (rc != 0 && rc != 1)
            abort();
        if (rc == 0 && !json_equal(before, pod))
            abort();
        json_t *once = json_deep_copy(pod);
        if ((podid ? pd_k8s_webhook_mutate_pod_identity(pod)
                   : pd_k8s_webhook_mutate(pod, sa, &cfg)) != 0 ||
            !json_equal(once, pod))
            abort();
        json_decref(once);
        json_decref(before);
        json_decref(pod);
    }
    json_decref(doc);
    return 0;
}
