#!/bin/sh
# Smoke-run one libFuzzer target: FUZZER CORPUS_DIR SECONDS. New inputs go to a temporary
# directory (the repo's corpus is read, never written). Fails on any crash, leak or timeout.
set -eu
fuzzer=$1 corpus=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dict=""
[ -f "$corpus.dict" ] && dict="-dict=$corpus.dict"
[ -d "$corpus" ] || corpus=""
# shellcheck disable=SC2086
"$fuzzer" "$work" $corpus $dict -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" 2>&1 | tail -20
