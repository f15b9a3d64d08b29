#!/usr/bin/env bash
# Longer fuzzing runs (docs/robustness.md): each target for RUNS executions (or SECONDS seconds), starting from its
# seeds (fuzz/corpus/NAME) plus the corpus earlier runs grew (BUILD/fuzz-corpus/NAME). Findings (crash-*, leak-*,
# oom-*, timeout-*) land in BUILD/fuzz-findings/NAME; every run's executions are appended to BUILD/fuzz-runs.log.
# Usage: fuzz/run.sh [--runs N | --seconds S] [--build DIR] [TARGET...]   (default: 1,000,000 runs, every target)
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
runs=1000000 seconds=0 build=build-asan targets=()
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; runs=-1; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANODIFF_BUILD_FUZZERS=ON \
    -DANODIFF_WITH_TORCH=OFF -DANODIFF_BUILD_EXAMPLES=OFF -DANODIFF_WITH_PYTHON=OFF -DANODIFF_INSTALL=OFF >/dev/null || exit 1
fi
((${#targets[@]})) || targets=(fuzz_npy fuzz_trajectory fuzz_csv fuzz_plot fuzz_idx fuzz_cifar fuzz_state_dict)
cmake --build "$build" -j2 --target "${targets[@]}" || exit 1
declare -A corpus=([fuzz_npy]=npy [fuzz_trajectory]=trajectory [fuzz_csv]=csv [fuzz_plot]=plot [fuzz_idx]=idx [fuzz_cifar]=cifar
                   [fuzz_state_dict]=state_dict)
status=0
for t in "${targets[@]}"; do
  bin=$root/$build/fuzz/$t
  [[ -x $bin ]] || { echo "$t: not built (fuzz_state_dict needs LibTorch)"; continue; }
  grown=$root/$build/fuzz-corpus/$t findings=$root/$build/fuzz-findings/$t
  mkdir -p "$grown" "$findings"
  log=$findings/last-run.log
  limit=(-runs="$runs")
  ((seconds > 0)) && limit=(-max_total_time="$seconds")
  start=$(date +%s)
  (cd "$findings" && ANODIFF_FUZZ_TMP=$findings OMP_NUM_THREADS=1 LSAN_OPTIONS=suppressions=$root/fuzz/lsan.supp "$bin" "${limit[@]}" -max_len=65536 -timeout=30 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 "$grown" "$root/fuzz/corpus/${corpus[$t]}" \
    > "$log" 2>&1)
  code=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
  line="$(date -u +%FT%TZ) $t: ${execs:-?} executions in $(($(date +%s) - start)) s, corpus $(ls "$grown" | wc -l) entries, exit $code"
  echo "$line" | tee -a "$root/$build/fuzz-runs.log"
  if ((code != 0)); then
    status=1
    tail -n 30 "$log"
    echo "FINDING: $t: see $findings (crash-*/leak-*/oom-*/timeout-*); make it a regression test"
  fi
done
exit $status
