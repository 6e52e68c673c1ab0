/*
 * fuzz_k8s_cron.c - libFuzzer target: CronJob schedules (emulator/k8s/cron.c).
 *
 * Input: 8 bytes of a start time (milliseconds, taken modulo ~100 years), then the schedule.
 * Invariants beyond "no crash": check and next agree on what parses; a next time is a whole
 * minute after the start and within five years of it, and asking again from just before it
 * gives the same time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "k8s/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8 || size > 8 + 512)
        return 0;
    uint64_t raw;
    memcpy(&raw, data, 8);
    int64_t after = (int64_t)(raw % (100ULL * 366 * 86400 * 1000));
    char sched[520];
    memcpy(sched, data + 8, size - 8);
    sched[size - 8] = '\0';
    int ok = pd_k8s_cron_check(sched) == PD_OK;
    int64_t next = 0;
    int rc = pd_k8s_cron_next(sched, after, &next);
    if (ok != (rc != PD_EINVAL))
        abort();
    if (rc == PD_OK) {
        if (next <= after || next % 60000 != 0 || next - after > 5LL * 366 * 86400 * 1000)
            abort();
        int64_t again = 0;
        if (pd_k8s_cron_next(sched, next - 1, &again) != PD_OK || again != next)
            abort();
    }
    return 0;
}
