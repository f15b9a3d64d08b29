#!/usr/bin/env bash
# ctest's smoke run of one fuzz target: RUNS executions from the seed corpus, fixed seed, inside a scratch folder
# (new corpus entries and any crash-* file land there, never in the repository).
# Usage: smoke.sh TARGET SEED_DIR SCRATCH_DIR RUNS
set -euo pipefail
target=$1 seeds=$2 scratch=$3 runs=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch/corpus" && cd "$scratch"
export ANODIFF_FUZZ_TMP=$scratch OMP_NUM_THREADS=1
export LSAN_OPTIONS=suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
# -rss_limit_mb / -malloc_limit_mb: an allocation a header asks for beyond what the file holds is a finding too.
code=0
"$target" -runs="$runs" -seed=1 -max_len=65536 -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
  -print_final_stats=1 "$scratch/corpus" "$seeds" > log.txt 2>&1 || code=$?
grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done)" log.txt || true
# The run must have executed what was asked: a target that returned at once (no inputs read) is a failure too.
executed=$(sed -n 's/^stat::number_of_executed_units: *//p' log.txt)
if [[ $code -eq 0 && ${executed:-0} -lt $runs ]]; then
  echo "FAIL: $(basename "$target") executed ${executed:-no} units, expected $runs"
  code=1
fi
if [[ $code -ne 0 ]]; then
  tail -n 40 log.txt
  echo "FAIL: $(basename "$target") found a crash (exit $code): input saved in $scratch as crash-*/leak-*/oom-*/timeout-*"
fi
exit $code
