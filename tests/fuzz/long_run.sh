#!/bin/sh
# Long libFuzzer runs, one target at a time (docs/fuzzing.md):
#   tests/fuzz/long_run.sh BUILD_FUZZ_DIR WORK_DIR [RUNS] [MAX_SECONDS] [TARGET...]
# For each target: the repo's seeds (read only) plus WORK_DIR/<name>/corpus (new inputs),
# -runs=RUNS (default 10000000) bounded by MAX_SECONDS (default 3600), the dictionary if
# any. Writes WORK_DIR/<name>/log and prints one summary line per target:
#   name execs seconds exec/s corpus-files status
# Crashes/leaks/timeouts leave their input in WORK_DIR/<name>/ (crash-*, leak-*, ...).
set -u
build=$1 work=$2 runs=${3:-10000000} secs=${4:-3600}
shift 2; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
targets="$*"
[ -n "$targets" ] || targets=$(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
for t in $targets; do
    d="$work/$t"
    mkdir -p "$d/corpus"
    seeds="$here/corpus/$t"; [ -d "$seeds" ] || seeds=""
    dict=""; [ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
    start=$(date +%s)
    # shellcheck disable=SC2086
    nice -n 10 "$build/tests/fuzz/fuzz_$t" "$d/corpus" $seeds $dict -runs="$runs" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$d/" >"$d/log" 2>&1
    status=$?
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log")
    echo "$t ${execs:-?} $((end - start)) ${rate:-?} $(ls "$d/corpus" | wc -l) status=$status"
done
