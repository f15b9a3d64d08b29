#!/usr/bin/env bash
# anodiff-hessian and anodiff-landscape on a tiny recorded run, as a user runs them, with their error paths.
# Usage: cli_analysis.sh BIN_DIR WORKDIR
set -u
bin=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
source "$(dirname "${BASH_SOURCE[0]}")/cli_common.sh"
if [[ ! -d /usr/share/datasets/fashion-mnist ]]; then  # a dependency of the test command: missing, the test fails
  echo "FAIL: /usr/share/datasets/fashion-mnist is absent (Debian's dataset-fashion-mnist; scripts/install-deps.sh)"
  exit 1
fi
"$bin/anodiff-train" --model resnet14 --dataset fashion-mnist --epochs 1 --batch_size 128 --limit-train 256 \
  --limit-test 64 --out runs --quiet > train.log 2>&1 || { echo "FAIL: training"; cat train.log; exit 1; }
run=runs/resnet14_sgd_lr=0.1_bs=128_wd=0_mom=0_save_epoch=1

"$bin/anodiff-hessian" --run $run --every 1 --num_eigenthings 3 --batch_size 16 --trace 3 --density 1 \
  --density-steps 8 > h.log 2>&1 \
  || { echo "FAIL: anodiff-hessian"; cat h.log; fail=1; }
check "[[ \$(wc -l < $run/hessian/eigenvalues.csv) -eq 7 ]]" "eigenvalues.csv: 3 eigenvalues at epochs 0 and 1"
check "awk -F, 'NR > 1 && (\$6 != 1 || \$5 > 1e-4) { bad = 1 } END { exit bad }' $run/hessian/eigenvalues.csv" \
  "every eigenvalue converged with relative residual below 1e-4"
check "[[ -s $run/hessian/eigenvalues.png && -s $run/hessian/trace.csv && -s $run/hessian/density_epoch_1.png ]]" \
  "eigenvalue plot, trace and SLQ density"
"$bin/anodiff-hessian" --run $run --epochs 1 --num_eigenthings 2 --batch_size 16 --method power --power-stop residual \
  --power-iterations 500 --tol 1e-3 --out power --no-plots > p.log 2>&1 || { echo "FAIL: --power-stop residual"; cat p.log; fail=1; }
check "awk -F, 'NR > 1 && (\$6 != 1 || \$5 > 5e-3) { bad = 1 } END { exit bad || NR != 3 }' power/eigenvalues.csv" \
  "power iteration with --power-stop residual: converged, relative residuals within a few times the tolerance (deflation adds some)"
expect2 "--power-stop must be change or residual" -- "$bin/anodiff-hessian" --run $run --power-stop fast
expect2 "no-such-run/config.txt: no such file" -- "$bin/anodiff-hessian" --run no-such-run
expect2 "device must be cpu, cuda or auto, got 'tpu'" -- "$bin/anodiff-hessian" --run $run --device tpu
expect2 "model_epoch_7.pt: no such checkpoint" -- "$bin/anodiff-hessian" --run $run --epochs 7
expect2 "k must lie in 1..D-1" -- "$bin/anodiff-hessian" --run $run --epochs 0 --num_eigenthings 999999
mkdir -p other && cp -r $run other/ && sed -i 's/^model = resnet14$/model = resnet20/' other/*/config.txt
expect2 "cannot load this checkpoint into the model" -- "$bin/anodiff-hessian" --run other/$(basename $run) --epochs 0

"$bin/anodiff-landscape" --run $run --epoch 1 --x -1:1:5 --y -1:1:5 --samples 64 --out land > l.log 2>&1 \
  || { echo "FAIL: anodiff-landscape"; cat l.log; fail=1; }
for f in grid.csv surface_loss.npy contour.png accuracy_heatmap.png surface_3d.png roughness.csv directions.npy; do
  check "[[ -s land/$f ]]" "landscape wrote $f"
done
"$bin/anodiff-landscape" --run $run --epoch 0 --interpolate 1 --x -0.5:1.5:5 --samples 64 --out line > /dev/null 2>&1
check "[[ -s line/line.png && \$(wc -l < line/grid.csv) -eq 6 ]]" "a 1-D line between two checkpoints"
"$bin/anodiff-landscape" --run $run --epoch 1 --pca-part 0 --part-length 3 --x -1:1:4 --y -1:1:4 --samples 64 \
  --out pca > /dev/null 2>&1
check "[[ -s pca/contour.png && \$(wc -l < pca/trajectory_projection.csv) -eq 4 ]]" "the PCA plane with the trajectory"
if [[ ${ANODIFF_MPI_TEST:-0} == 1 ]]; then  # the landscape as ranks of one mpirun job equals the single process
  mpirun --allow-run-as-root --oversubscribe -n 2 "$bin/anodiff-landscape" --run $run --epoch 1 --x -1:1:5 \
    --y -1:1:5 --samples 64 --out land_mpi > mpi.log 2>&1 || { echo "FAIL: mpirun"; cat mpi.log; fail=1; }
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
