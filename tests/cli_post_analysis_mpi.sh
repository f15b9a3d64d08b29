#!/usr/bin/env bash
# anodiff-post-analysis under mpirun (coordinate shards, issue 16) equals the single process, file by file.
# Usage: cli_post_analysis_mpi.sh BINARY WORKDIR
set -euo pipefail
bin=$1
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work"
source "$here/cli_common.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(1)
x = np.cumsum(rng.standard_normal((300, 37)) * rng.random(37) ** 3, axis=0).astype(np.float32)
x[:, 5:8] = 0.5  # frozen coordinates: zero increments for the tail index
np.save("traj.npy", x)
np.save("loss.npy", rng.random(300))
# The same as a sharded trajectory directory (docs/formats.md): columns [0, 18) and [18, 37), chunks of 100.
import os
for k, (lo, hi) in enumerate([(0, 18), (18, 37)]):
    d = os.path.join("sharded", "shard_%03d" % k)
    os.makedirs(d)
    for c in range(3):
        np.save(os.path.join(d, "chunk_%06d.npy" % c), x[100 * c:100 * (c + 1), lo:hi])
    with open(os.path.join(d, "steps.csv"), "w") as f:
        f.write("step,epoch,loss\n" + "".join("%d,%d,\n" % (t, t // 100) for t in range(300)))
# A parameter layout whose tensors straddle both splits (columns [0, 19) | [19, 37) of mpirun's column ranges, and
# the shards' [0, 18) | [18, 37)), one tensor of no group: --per-layer under mpirun adds each rank's share.
with open("layout.csv", "w") as f:
    f.write("name,offset,size,shape,group\n"
            "a.weight,0,10,10,0\na.bias,10,10,10,0\nb.weight,20,12,3x4,1\nb.bias,32,5,5,-1\n")
PY
compare() {  # compare DIR_A DIR_B: every CSV equal to the printed digits
/usr/bin/python3 - "$1" "$2" <<'PY' || fail=1
import csv, math, os, sys
first, second = sys.argv[1], sys.argv[2]
files = sorted(f for f in os.listdir(first) if f.endswith(".csv"))
assert len(files) >= 8, files
assert sorted(f for f in os.listdir(second) if f.endswith(".csv")) == files
worst, rounded, fits = 0.0, 0, 0.0
def resolution(text):  # one unit in the last significant digit of a printed number
    mantissa, _, exponent = text.lower().lstrip("+-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    return 10.0 ** (int(exponent or 0) - len(fraction))
for f in files:
    a = list(csv.reader(open(os.path.join(first, f))))
    b = list(csv.reader(open(os.path.join(second, f))))
    assert len(a) == len(b), f
    for ra, rb in zip(a, b):
        assert len(ra) == len(rb), (f, ra, rb)
        for u, v in zip(ra, rb):
            try:
                x, y = float(u), float(v)
            except ValueError:
                # The claims files name the run after its trajectory (traj.npy, the sharded folder): the label only.
                assert u == v or (f.startswith("claims") and u.endswith(" steps") and v.endswith(" steps")), (f, u, v)
                continue
            if math.isnan(x) or math.isnan(y):
                assert math.isnan(x) and math.isnan(y), (f, u, v)
                continue
            rel = abs(x - y) / max(abs(x), abs(y), 1e-300)
            if f in ("fit.csv", "motion_fit.csv", "claims.csv", "claims_parts.csv"):
                # The two-regime fit (an iterative optimiser of the noise floor and breakpoint) turns 1e-16
                # differences of the MSD into differences at its convergence tolerance.
                assert rel <= 1e-7, (f, u, v, rel)
                fits = max(fits, rel)
            elif rel > 1e-12:  # the CSVs print 10 significant digits: a 1e-12 difference may round one unit apart
                assert abs(x - y) <= 1.01 * max(resolution(u), resolution(v)), (f, u, v, rel)
                rounded += 1
            worst = max(worst, rel)
print(f"ok: {len(files)} CSV files of {second} equal {first} to the printed digits "
      f"({rounded} values one unit apart in the last printed digit; the fits within {fits:.1e} relative)")
PY
}
run_ok single "$bin" --trajectory traj.npy --loss loss.npy --part-length 100 --no-plots --out single
run_ok ranks mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" --trajectory traj.npy --loss loss.npy \
  --part-length 100 --no-plots --out ranks
check "grep -q '2 ranks' ranks.log" "run as 2 ranks (a build without ANODIFF_WITH_MPI runs 1)"
compare single ranks
check "diff <(grep -E '^ +(part|[0-9]+) ' single.log) <(grep -E '^ +(part|[0-9]+) ' ranks.log) && [[ \$(grep -cE '^ +[0-9]+ ' single.log) -eq 3 ]]" \
  "the summary tables of 1 process and 2 ranks are the same"
# A sharded trajectory directory: read as one by a single process, shard by shard under mpirun -np 2.
run_ok sharded_single "$bin" --trajectory sharded --loss loss.npy --part-length 100 --no-plots --out sharded_single
compare single sharded_single
run_ok sharded_ranks mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" --trajectory sharded --loss loss.npy \
  --part-length 100 --no-plots --out sharded_ranks
check "grep -q 'each its shard' sharded_ranks.log" "the ranks read a shard each"
compare single sharded_ranks
check "diff <(grep -E '^ +(part|[0-9]+) ' single.log) <(grep -E '^ +(part|[0-9]+) ' sharded_ranks.log)" \
  "the summary tables of 1 process and 2 ranks on the sharded directory are the same"
# --per-layer under mpirun: each rank the MSD of its columns of every layer, summed; no rank reads the whole.
base=(--loss loss.npy --layout layout.csv --part-length 100 --no-plots)
run_ok layers_single "$bin" --trajectory traj.npy "${base[@]}" --per-layer layer --out layers_single
run_ok layers_ranks mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" --trajectory traj.npy "${base[@]}" \
  --per-layer layer --out layers_ranks
check "[[ \$(cut -d, -f3,4 layers_single/per_layer_msd.csv | sort -u | tr '\n' ' ') == 'a,20 b,17 name,dimension ' ]]" \
  "per_layer_msd.csv: layers a (20 coordinates) and b (17)"
compare layers_single layers_ranks
run_ok tensors_single "$bin" --trajectory traj.npy "${base[@]}" --per-layer tensor --out tensors_single
run_ok tensors_sharded mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" --trajectory sharded "${base[@]}" \
  --per-layer tensor --out tensors_sharded
compare tensors_single tensors_sharded
exit $fail
