/*
 * fuzz_k8s_pb.c - libFuzzer target: Kubernetes protobuf request bodies (emulator/k8s/pb.c).
 *
 * Invariants beyond "no crash, no read past the end": a failure sets a reason and no object;
 * a success is an object with a string kind, an object metadata, and serialises to JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "k8s/pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *o = NULL;
    const char *why = NULL;
    int rc = pd_k8s_pb_decode(data, size, &o, &why);
    if (rc != PD_OK) {
        if (rc != PD_EINVAL || o || !why)
            abort();
        return 0;
    }
    if (why || !json_is_object(o) || !json_is_string(json_object_get(o, "kind")) ||
        !json_is_object(json_object_get(o, "metadata")))
        abort();
    char *text = json_dumps(o, JSON_COMPACT);
    if (!text)
        abort();
    free(text);
    json_decref(o);
    return 0;
}
