#!/usr/bin/env bash
# anodiff-hessian and anodiff-landscape on a tiny recorded run, as a user runs them, with their error paths.
# Usage: cli_analysis.sh BIN_DIR WORKDIR
set -euo pipefail
bin=$(cd "$1" && pwd)
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work"
source "$here/cli_common.sh"
if [[ ! -d /usr/share/datasets/fashion-mnist ]]; then  # a dependency of the test command: missing, the test fails
  echo "FAIL: /usr/share/datasets/fashion-mnist is absent (Debian's dataset-fashion-mnist; scripts/install-deps.sh)"
  exit 1
fi
"$bin/anodiff-train" --model resnet14 --dataset fashion-mnist --epochs 1 --batch_size 128 --limit-train 256 \
  --limit-test 64 --out runs --quiet > train.log 2>&1 || { echo "FAIL: training"; cat train.log; exit 1; }
run=runs/resnet14_sgd_lr=0.1_bs=128_wd=0_mom=0_save_epoch=1

run_ok hessian "$bin/anodiff-hessian" --run $run --every 1 --num_eigenthings 3 --batch_size 16 --trace 3 --density 1 \
  --density-steps 8
check "[[ \$(wc -l < $run/hessian/eigenvalues.csv) -eq 7 ]]" "eigenvalues.csv: 3 eigenvalues at epochs 0 and 1"
check "awk -F, 'NR > 1 && (\$6 != 1 || \$5 > 1e-4) { bad = 1 } END { exit bad }' $run/hessian/eigenvalues.csv" \
  "every eigenvalue converged with relative residual below 1e-4"
png_ok $run/hessian/eigenvalues.png $run/hessian/density_epoch_1.png
run_ok power "$bin/anodiff-hessian" --run $run --epochs 1 --num_eigenthings 2 --batch_size 16 --method power \
  --power-stop residual --power-iterations 500 --tol 1e-3 --out power --no-plots
check "awk -F, 'NR > 1 && (\$6 != 1 || \$5 > 5e-3) { bad = 1 } END { exit bad || NR != 3 }' power/eigenvalues.csv" \
  "power iteration with --power-stop residual: converged, relative residuals within a few times the tolerance (deflation adds some)"
# Values: the power iteration's top eigenvalue (largest magnitude; here positive) equals Lanczos's on the same batches,
# Hutch++'s trace is a finite positive number below 3 products' worth of noise, and the SLQ density integrates to 1.
/usr/bin/python3 - "$run/hessian" <<'PY' || fail=1
import csv, sys
import numpy as np
d = sys.argv[1]
lanczos = [r for r in csv.DictReader(open(f"{d}/eigenvalues.csv")) if r["epoch"] == "1"]
power = list(csv.DictReader(open("power/eigenvalues.csv")))
a, b = float(lanczos[0]["eigenvalue"]), float(power[0]["eigenvalue"])
assert a > 0 and abs(a - b) <= 1e-4 * a, (a, b)
lam = [float(r["eigenvalue"]) for r in lanczos]
assert lam == sorted(lam, reverse=True), lam
traces = {r["epoch"]: float(r["trace"]) for r in csv.DictReader(open(f"{d}/trace.csv"))}
assert set(traces) == {"0", "1"} and all(np.isfinite(t) for t in traces.values()), traces
assert traces["1"] >= lam[0] * 0.5, (traces, lam)  # the top eigenvalue alone is most of the trace of this small run
x, y = np.loadtxt(f"{d}/density_epoch_1.csv", delimiter=",", skiprows=1, unpack=True)
mass = np.trapz(y, x)
assert abs(mass - 1) < 0.05 and np.all(y >= 0), mass
print(f"ok: power top eigenvalue {b:.6g} = Lanczos {a:.6g}; trace {traces['1']:.4g}; the density's mass {mass:.3f}")
PY
expect2 "--power-stop must be change or residual" -- "$bin/anodiff-hessian" --run $run --power-stop fast
expect2 "no-such-run/config.txt: no such file" -- "$bin/anodiff-hessian" --run no-such-run
expect2 "device must be cpu, cuda or auto, got 'tpu'" -- "$bin/anodiff-hessian" --run $run --device tpu
expect2 "model_epoch_7.pt: no such checkpoint" -- "$bin/anodiff-hessian" --run $run --epochs 7
expect2 "k must lie in 1..D-1" -- "$bin/anodiff-hessian" --run $run --epochs 0 --num_eigenthings 999999
mkdir -p other && cp -r $run other/ && sed -i 's/^model = resnet14$/model = resnet20/' other/*/config.txt
expect2 "cannot load this checkpoint into the model" -- "$bin/anodiff-hessian" --run other/$(basename $run) --epochs 0

run_ok landscape "$bin/anodiff-landscape" --run $run --epoch 1 --x -1:1:5 --y -1:1:5 --samples 64 --out land
png_ok land/contour.png land/accuracy_heatmap.png land/surface_3d.png
# A line from epoch 1 (x = 0) to epoch 0 (x = 1), and the PCA plane of part 0 centred on its last snapshot (the
# checkpoint of epoch 1): both pass through the epoch-1 weights, where all three must give the same loss.
run_ok line "$bin/anodiff-landscape" --run $run --epoch 1 --interpolate 0 --x -0.5:1.5:5 --samples 64 --out line
png_ok line/line.png
run_ok pca "$bin/anodiff-landscape" --run $run --epoch 1 --pca-part 0 --part-length 3 --x -1:1:3 --y -1:1:3 \
  --samples 64 --out pca
png_ok pca/contour.png
/usr/bin/python3 - <<'PY' || fail=1
import csv
import numpy as np
def grid(d):
    return {(float(r["x"]), float(r["y"])): (float(r["loss"]), float(r["accuracy"])) for r in csv.DictReader(open(f"{d}/grid.csv"))}
land, line, pca = grid("land"), grid("line"), grid("pca")
assert len(land) == 25 and len(line) == 5 and len(pca) == 9, (len(land), len(line), len(pca))
centre = land[(0.0, 0.0)]
for name, g in (("line", line), ("pca", pca)):
    assert abs(g[(0.0, 0.0)][0] - centre[0]) <= 1e-6 * centre[0] and g[(0.0, 0.0)][1] == centre[1], (name, g[(0.0, 0.0)], centre)
assert all(np.isfinite(v[0]) and v[0] > 0 and 0 <= v[1] <= 1 for g in (land, line, pca) for v in g.values())
# The grid's corners lie far from the trained weights: higher than the centre.
assert min(land[(x, y)][0] for x in (-1.0, 1.0) for y in (-1.0, 1.0)) > centre[0], land
surface = np.load("land/surface_loss.npy")
xs = sorted({x for x, _ in land}); ys = sorted({y for _, y in land})
expect = np.array([[land[(x, y)][0] for x in xs] for y in ys])
assert surface.shape == (5, 5) and (np.allclose(surface, expect, rtol=1e-6) or np.allclose(surface, expect.T, rtol=1e-6)), surface
rough = {r["estimator"]: float(r["value"]) for r in csv.DictReader(open("land/roughness.csv"))}
assert all(np.isfinite(v) for v in rough.values()) and 0 < rough["hurst_structure_function"] < 2, rough
proj = list(csv.DictReader(open("pca/trajectory_projection.csv")))
assert len(proj) == 3 and float(proj[-1]["x"]) == 0 and float(proj[-1]["y"]) == 0, proj
assert all(np.isfinite(float(r[k])) for r in proj for k in ("x", "y")), proj
print(f"ok: the landscape, the line and the PCA plane agree at the epoch-1 weights (loss {centre[0]:.6g}); "
      "surface_loss.npy = grid.csv; roughness finite; the path ends at the centre")
PY
if [[ ${ANODIFF_MPI_TEST:-0} == 1 ]]; then  # the landscape as ranks of one mpirun job equals the single process
  run_ok mpi mpirun --allow-run-as-root --oversubscribe -n 2 "$bin/anodiff-landscape" --run $run --epoch 1 --x -1:1:5 \
    --y -1:1:5 --samples 64 --out land_mpi
  check "[[ -s land_mpi/surface.shard-0-of-2.csv && -s land_mpi/surface.shard-1-of-2.csv ]]" "two ranks, two shards"
  /usr/bin/python3 - <<'PY' || fail=1
import numpy as np
a, b = np.load("land/surface_loss.npy"), np.load("land_mpi/surface_loss.npy")
assert np.allclose(a, b, rtol=1e-6), (a, b)
print("ok: the mpirun grid equals the single-process grid")
PY
fi
expect2 "model_epoch_9.pt: no such checkpoint" -- "$bin/anodiff-landscape" --run $run --epoch 9 --out x
expect2 "malformed range '1:0:5'" -- "$bin/anodiff-landscape" --run $run --epoch 1 --x 1:0:5 --out x
expect2 "device must be cpu, cuda or auto, got 'tpu'" -- "$bin/anodiff-landscape" --run $run --epoch 1 --device tpu --out x
expect2 "--shard expects I/N" -- "$bin/anodiff-landscape" --run $run --epoch 1 --shard 3 --out x
exit $fail
