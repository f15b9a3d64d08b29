#!/usr/bin/env bash
# The study's whole ResNet-14 run on a GPU, in one prepared command (docs/gpu.md, docs/reproducing.md):
#   1. builds anodiff::core, its Python module and anodiff-post-analysis (no LibTorch), against the
#      Debian packages carried in .deps/debs where the machine lacks them (scripts/gpu_study_prepare.sh);
#   2. trains ResNet-14 in the machine's PyTorch (scripts/gpu_study_train.py: plain SGD, lr 0.1, batch 1024,
#      augmentation on the device, Fashion-MNIST padded to 32 x 32 from .deps/fashion-mnist), every step recorded with
#      anodiff.Recorder, until the study's 24,500 steps or the wall-clock budget;
#   3. analyses the trajectory in parts of 1,000 steps with anodiff-post-analysis (its claims.md judges the study's
#      claims per phase, as anodiff-reproduce's report does);
#   4. writes the CSVs, PNGs (where gnuplot exists; else the .gp scripts to draw them elsewhere), fit.csv, claims.md,
#      the training summary, the time of each stage (stages.csv) and report.md to $OUT. Never the trajectory.
# A second call with the same --run resumes the training from its last complete epoch.
# Usage: gpu_study.sh [--budget-min 8] [--run DIR] [--steps 24500] [--model resnet14] [--part-length 1000]
#                     [--limit-train N] [--batch 1024] [--device cuda|cpu] [--threads 16] [--prebuilt BUILD_DIR]
#                     [--data DIR]
# (tests/cli_gpu_study.sh runs it on the CPU with a few steps of a small batch, --prebuilt with the test build)
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$PWD
budget_min=8 run=runs/gpu_study steps=24500 model=resnet14 part_length=1000 limit_train=0 device="" threads=16 batch=1024
prebuilt="" data=.deps/fashion-mnist
while (($#)); do
  case $1 in
    --budget-min) budget_min=$2 ;;
    --run) run=$2 ;;
    --steps) steps=$2 ;;
    --model) model=$2 ;;
    --part-length) part_length=$2 ;;
    --limit-train) limit_train=$2 ;;
    --batch) batch=$2 ;;
    --device) device=$2 ;;
    --threads) threads=$2 ;;
    --prebuilt) prebuilt=$2 ;;
    --data) data=$2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "gpu_study.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift 2 || { echo "gpu_study.sh: $1 needs a value" >&2; exit 2; }
done
[[ $budget_min =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "gpu_study.sh: --budget-min: expected minutes, got '$budget_min'" >&2; exit 2; }
[[ $model =~ ^resnet[0-9]+(_noshort)?$ ]] || { echo "gpu_study.sh: --model: expected a CIFAR ResNet (resnet14, resnet20, resnet14_noshort, ...), got '$model'" >&2; exit 2; }
for n in "$steps" "$part_length" "$limit_train" "$batch" "$threads"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "gpu_study.sh: expected a whole number, got '$n' (see --help)" >&2; exit 2; }
done
if [[ ! -e $data/train-images-idx3-ubyte.gz && ! -e $data/train-images-idx3-ubyte ]]; then
  if [[ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
    data=/usr/share/datasets/fashion-mnist
  else
    echo "gpu_study.sh: $data: no Fashion-MNIST IDX files: run scripts/gpu_study_prepare.sh on a Debian machine first" >&2
    exit 2
  fi
fi
out=${OUT:-$run/out}
mkdir -p "$out" "$run"
out=$(cd "$out" && pwd)
run=$(cd "$run" && pwd)
exec > >(tee -a "$out/gpu_study.log") 2>&1
python=${PYTHON:-$(command -v python3)}  # the Python with torch (PYTHON=/usr/bin/python3 on Debian)
stages=$out/stages.csv
[[ -e $stages ]] || echo "stage,seconds" > "$stages"
t_stage=$(date +%s%N)
stage_done() { local now; now=$(date +%s%N); echo "$1,$(awk -v a="$t_stage" -v b="$now" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" >> "$stages"; t_stage=$now; }
echo "gpu_study.sh: $(date -u +%FT%TZ) on $(hostname); $(nproc) cores; python $python"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'

# 1. The build: core, its Python module and anodiff-post-analysis, no LibTorch.
if [[ -n $prebuilt ]]; then
  build=$(cd "$prebuilt" && pwd)
else
  build=$root_dir/build-gpu-study
  args=(-DCMAKE_BUILD_TYPE=Release -DANODIFF_WITH_TORCH=OFF -DANODIFF_BUILD_EXAMPLES=ON -DANODIFF_BUILD_TESTS=OFF
        -DANODIFF_INSTALL=OFF -DANODIFF_WITH_HDF5=OFF -DANODIFF_WITH_MATIO=OFF -DPython_EXECUTABLE="$python")
  # The carried packages where the machine lacks the headers (GPU_STUDY_CARRIED_DEBS=1: always, to test them).
  if [[ -d .deps/debs ]] && { [[ ${GPU_STUDY_CARRIED_DEBS:-0} == 1 ]] || ! [[ -e /usr/share/eigen3/cmake/Eigen3Config.cmake && -e /usr/include/boost/program_options.hpp ]]; }; then
    deps=$root_dir/.deps/root
    mkdir -p "$deps"
    for f in .deps/debs/*.deb; do dpkg -x "$f" "$deps"; done
    lib=$deps/usr/lib/x86_64-linux-gnu
    zlib=$lib/libz.a; for z in /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1; do [[ -e $z ]] && zlib=$z && break; done
    args+=(-DCMAKE_PREFIX_PATH="$deps/usr" -DEigen3_DIR="$deps/usr/share/eigen3/cmake" -Dfmt_DIR="$lib/cmake/fmt"
           -DSpectra_DIR="$deps/usr/share/spectra/cmake" -DBLAS_LIBRARIES="$lib/blas/libblas.so.3"
           -DZLIB_INCLUDE_DIR="$deps/usr/include" -DZLIB_LIBRARY="$zlib" -Dpybind11_DIR="$deps/usr/lib/cmake/pybind11"
           -DBoost_INCLUDE_DIR="$deps/usr/include" -DBoost_DIR="$lib/cmake/Boost-1.74.0")
    export LD_LIBRARY_PATH=$lib:$lib/blas:${LD_LIBRARY_PATH:-}
  fi
  cmake -S . -B "$build" "${args[@]}" > "$out/cmake.log" 2>&1 || { tail -n 30 "$out/cmake.log"; exit 1; }
  cmake --build "$build" -j "$(nproc)" --target anodiff-post-analysis 2>&1 | grep -E 'error|Error|Built target' || true
  [[ -x $build/examples/anodiff-post-analysis ]] || { echo "gpu_study.sh: the build of anodiff-post-analysis failed"; exit 1; }
  # The Python module: wanted, not needed (the Recorder is pure Python; gpu_study_train.py falls back to recorder.py).
  cmake --build "$build" -j "$(nproc)" --target anodiff_python 2>&1 | grep -E 'error|Built target' | head -n 5 || true
fi
post=$build/examples/anodiff-post-analysis
[[ -x $post ]] || { echo "gpu_study.sh: $post: no such program (the build is incomplete)" >&2; exit 2; }
[[ -d $build/python/anodiff ]] && export PYTHONPATH=$build/python${PYTHONPATH:+:$PYTHONPATH}
stage_done build

# 2. Training, every step recorded, until the steps or the budget.
budget_s=$(awk -v m="$budget_min" 'BEGIN { print m * 60 }')
train_args=(--data "$data" --run "$run" --model "$model" --steps "$steps" --budget-seconds "$budget_s"
            --limit-train "$limit_train" --batch "$batch")
[[ -n $device ]] && train_args+=(--device "$device")
[[ $device == cpu ]] && train_args+=(--threads "$threads")
"$python" scripts/gpu_study_train.py "${train_args[@]}"
stage_done train

# 3. The post-analysis in parts, on every core.
rm -rf "$out/analysis"
OMP_NUM_THREADS=$threads "$post" --trajectory "$run/trajectory" --part-length "$part_length" --out "$out/analysis" \
  --model "$model" --batch-size "$batch" --lr 0.1
stage_done post-analysis

# 4. The report: what was trained, the claims judged, the fits per part, the time of each stage.
cp "$run/trajectory/steps.csv" "$out/steps.csv"
cp "$run/train_summary.csv" "$out/train_summary.csv"
{
  echo "# The study's regime on $(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1 || echo 'this machine')"
  echo
  echo "$model, plain SGD lr 0.1, batch $batch, augmentation, Fashion-MNIST padded to 32 x 32; parts of $part_length steps."
  echo
  echo "## Training (one line per call)"
  echo
  echo '```'; cat "$run/train_summary.csv"; echo '```'
  echo
  cat "$out/analysis/claims.md"
  echo
  echo "## Fits per part (analysis/fit.csv)"
  echo
  echo '```'; cat "$out/analysis/fit.csv"; echo '```'
  echo
  echo "## Stages (seconds)"
  echo
  echo '```'; cat "$stages"; echo '```'
} > "$out/report.md"
echo "gpu_study.sh: done; $out/report.md ($(du -sh "$out" | cut -f1) in $out; the trajectory stays in $run)"
