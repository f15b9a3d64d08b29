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
((${#targets[@]})) || targets=(fuzz_npy fuzz_trajectory fuzz_csv fuzz_plot fuzz_idx fuzz_cifar fuzz_state_dict fuzz_study_mat
                               fuzz_study_h5 fuzz_landscape_h5)
cmake --build "$build" -j2 --target "${targets[@]}" || exit 1
declare -A corpus=([fuzz_npy]=npy [fuzz_trajectory]=trajectory [fuzz_csv]=csv [fuzz_plot]=plot [fuzz_idx]=idx [fuzz_cifar]=cifar
                   [fuzz_state_dict]=state_dict [fuzz_study_mat]=study_mat [fuzz_study_h5]=study_h5
                   [fuzz_landscape_h5]=landscape_h5)
# Targets that parse through a library that is not instrumented: they go on past a finding (-fork=1) and each
# finding is classified (classify.sh): inside the library (documented in docs/robustness.md) or in anodiff's code.
declare -A library=([fuzz_study_mat]='libmatio|libhdf5_serial' [fuzz_study_h5]=libhdf5_serial
                    [fuzz_landscape_h5]=libhdf5_serial)
status=0
for t in "${targets[@]}"; do
  bin=$root/$build/fuzz/$t
  [[ -x $bin ]] || { echo "$t: not built (fuzz_state_dict needs LibTorch)"; continue; }
  grown=$root/$build/fuzz-corpus/$t findings=$root/$build/fuzz-findings/$t
  mkdir -p "$grown" "$findings"
  log=$findings/last-run.log
  limit=(-runs="$runs")
  ((seconds > 0)) && limit=(-max_total_time="$seconds")
  lib=${library[$t]:-}
  [[ -n $lib ]] && limit+=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  start=$(date +%s)
  (cd "$findings" && ANODIFF_FUZZ_TMP=$findings OMP_NUM_THREADS=1 LSAN_OPTIONS=suppressions=$root/fuzz/lsan.supp "$bin" "${limit[@]}" -max_len=65536 -timeout=30 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 "$grown" "$root/fuzz/corpus/${corpus[$t]}" \
    > "$log" 2>&1)
  code=$?
  execs=$(sed -n -e 's/^stat::number_of_executed_units: *//p' -e 's/^INFO: fuzzed for \([0-9]*\) iterations.*/\1/p' "$log" |
          tail -n 1)
  if [[ -n $lib ]]; then  # each finding (new this run: older ones were moved to seen/) classified and summarised
    code=0 && mkdir -p "$findings/seen" && : > "$findings/classified.txt"
    for f in "$findings"/crash-* "$findings"/oom-* "$findings"/leak-* "$findings"/timeout-*; do
      [[ -e $f ]] || continue
      read -r where frame < <(ANODIFF_FUZZ_TMP=$findings LSAN_OPTIONS=suppressions=$root/fuzz/lsan.supp \
                               bash "$root/fuzz/classify.sh" "$bin" "$lib" "$f")
      [[ $where == library && $(basename "$f") != timeout-* ]] || code=1
      echo "$where $frame $(basename "$f")" >> "$findings/classified.txt"
      mv "$f" "$findings/seen/"
    done
    echo "$t findings by place and frame: $(sort "$findings/classified.txt" 2>/dev/null | cut -d' ' -f1-2 | uniq -c |
          tr -s ' ' | paste -sd ';')"
  fi
  line="$(date -u +%FT%TZ) $t: ${execs:-?} executions in $(($(date +%s) - start)) s, corpus $(ls "$grown" | wc -l) entries, exit $code"
  echo "$line" | tee -a "$root/$build/fuzz-runs.log"
  if ((code != 0)); then
    status=1
    tail -n 30 "$log"
    echo "FINDING: $t: see $findings (crash-*/leak-*/oom-*/timeout-*); make it a regression test"
  fi
done
exit $status
