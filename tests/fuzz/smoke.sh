#!/bin/sh
# Smoke-run one libFuzzer target: FUZZER CORPUS_DIR SECONDS [DICT]. New inputs go to a
# temporary directory (the repo's corpus is read, never written). Fails on any crash, leak,
# timeout or out-of-memory, and shows the tail of the fuzzer's output.
set -eu
fuzzer=$1 corpus=$2 seconds=$3 dict=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -d "$corpus" ] || corpus=""
opt=""
[ -n "$dict" ] && [ -f "$dict" ] && opt="-dict=$dict"
status=0
# shellcheck disable=SC2086
"$fuzzer" "$work" $corpus $opt -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" >"$work/log" 2>&1 || status=$?
tail -20 "$work/log"
exit $status
