#!/usr/bin/env bash
# ctest's smoke run of one fuzz target: RUNS executions from the seed corpus, fixed seed, inside a scratch folder
# (new corpus entries and any crash-* file land there, never in the repository).
# With LIBRARY (an awk regular expression such as libhdf5_serial or libmatio|libhdf5_serial: readers that parse through a library that is not instrumented), the
# run goes on past a finding in a child process (-fork=1), and each finding is classified by classify.sh: one inside
# LIBRARY is counted and named (docs/robustness.md documents them with the library's version), one in anodiff's code
# fails the test as always.
# Usage: smoke.sh TARGET SEED_DIR SCRATCH_DIR RUNS [LIBRARY]
set -euo pipefail
target=$1 seeds=$2 scratch=$3 runs=$4 library=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch/corpus" && cd "$scratch"
export ANODIFF_FUZZ_TMP=$scratch OMP_NUM_THREADS=1
export LSAN_OPTIONS=suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
# -rss_limit_mb / -malloc_limit_mb: an allocation a header asks for beyond what the file holds is a finding too.
options=(-runs="$runs" -seed=1 -max_len=65536 -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1)
[[ -n $library ]] && options+=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
code=0
"$target" "${options[@]}" "$scratch/corpus" "$seeds" > log.txt 2>&1 || code=$?
grep -oE "^(stat::number_of_executed_units|stat::peak_rss_mb|Done).*|INFO: fuzzed for.*" log.txt || true
# The run must have executed what was asked: a target that returned at once (no inputs read) is a failure too.
# In fork mode the parent's "INFO: fuzzed for N iterations" may follow a child's unfinished line on the same line
# (their outputs interleave), hence no ^ before INFO.
executed=$(sed -n -e 's/^stat::number_of_executed_units: *//p' -e 's/.*INFO: fuzzed for \([0-9]*\) iterations.*/\1/p' log.txt |
           tail -n 1)
if [[ -n $library ]]; then
  code=0 inside=0
  for finding in crash-* oom-* leak-* timeout-*; do
    [[ -e $finding ]] || continue
    read -r where frame < <(bash "$here/classify.sh" "$target" "$library" "$finding")
    if [[ $where == library && $finding != timeout-* ]]; then
      inside=$((inside + 1)) && echo "inside $library: $finding ($frame)"
    else
      echo "FAIL: $(basename "$target"): $finding lies in anodiff ($frame)" && code=1
    fi
  done
  echo "$(basename "$target"): $inside finding(s) inside $library, none in anodiff's code unless FAIL above"
fi
if [[ $code -eq 0 && ${executed:-0} -lt $runs ]]; then
  echo "FAIL: $(basename "$target") executed ${executed:-no} units, expected $runs"
  code=1
fi
if [[ $code -ne 0 ]]; then
  tail -n 40 log.txt
  echo "FAIL: $(basename "$target") found a crash (exit $code): input saved in $scratch as crash-*/leak-*/oom-*/timeout-*"
fi
exit $code
