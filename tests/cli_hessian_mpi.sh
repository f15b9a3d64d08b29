#!/usr/bin/env bash
# anodiff-hessian under mpirun (data shards, issue 16): each rank takes its share of the fixed batches and the
# products are summed over the ranks; the eigenvalues equal the single process's on the same samples.
# Usage: cli_hessian_mpi.sh BIN_DIR WORKDIR
set -euo pipefail
bin=$(cd "$1" && pwd)
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work"
source "$here/cli_common.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
"$bin/anodiff-train" --model resnet14 --dataset gauss --epochs 1 --batch_size 32 --limit-train 128 --limit-test 32 \
  --out runs --quiet > train.log 2>&1 || { echo "FAIL: training"; cat train.log; exit 1; }
run=$(ls -d runs/*/ | head -n 1)
# Four fixed batches of 8 (32 samples); float64 and a tight tolerance so that rounding alone separates the two.
args=(--run "$run" --epochs 1 --batch_size 8 --batches 4 --num_eigenthings 3 --dtype float64 --tol 1e-9 --no-plots)
run_ok single "$bin/anodiff-hessian" "${args[@]}" --out single
run_ok ranks mpirun --allow-run-as-root --oversubscribe -np 2 "$bin/anodiff-hessian" "${args[@]}" --out ranks
check "grep -q '2 ranks' ranks.log" "run as 2 ranks (a build without ANODIFF_WITH_MPI runs 1)"
/usr/bin/python3 - <<'PY' || fail=1
import csv
a = list(csv.DictReader(open("single/eigenvalues.csv")))
b = list(csv.DictReader(open("ranks/eigenvalues.csv")))
assert len(a) == len(b) == 3, (len(a), len(b))
worst = 0.0
for x, y in zip(a, b):
    assert (x["epoch"], x["rank"]) == (y["epoch"], y["rank"]), (x, y)
    u, v = float(x["eigenvalue"]), float(y["eigenvalue"])
    worst = max(worst, abs(u - v) / abs(u))
print(f"2 ranks against 1 process: 3 eigenvalues, largest relative difference {worst:.1e}")
assert worst < 1e-8, worst
PY
code=0
expect=$(mpirun --allow-run-as-root --oversubscribe -np 2 "$bin/anodiff-hessian" --run "$run" --epochs 0 \
  --batch_size 8 --batches 1 --no-plots --out x 2>&1 >/dev/null) || code=$?
check "[[ $code -ne 0 ]] && grep -q '1 batches of 8 samples cannot be split among 2 shards' <<<\"\$expect\"" \
  "fewer batches than ranks refused (exit $code)"
((fail == 0)) && echo "ok: anodiff-hessian with 2 ranks (data shards) = 1 process"
exit $fail
