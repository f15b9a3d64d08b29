#!/usr/bin/env bash
# scripts/gpu_study.sh end to end on the CPU with a few steps: the training in PyTorch with the Recorder, the
# post-analysis in parts and the report; a second call resumes; a budget stops at an epoch boundary; bad arguments
# exit 2. Usage: cli_gpu_study.sh BUILD_DIR WORK_DIR PYTHON
set -euo pipefail
build=$1 work=$2 python=$3
source "$(dirname "$0")/cli_common.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work"
mkdir -p "$work"
export PYTHON=$python OMP_NUM_THREADS=1
study() { OUT=$work/out bash "$root/scripts/gpu_study.sh" --prebuilt "$build" --run "$work/run" --limit-train 512 \
            --batch 128 --device cpu --threads 1 --part-length 10 "$@"; }

run_ok "$work/first" study --steps 24 --budget-min 5
summary=$work/run/train_summary.csv
check "[[ \$(sed -n 2p $summary | cut -d, -f5-8) == 1,6,24,24 ]]" "epochs 1-6, 24 of 24 steps recorded ($(sed -n 2p "$summary"))"
check "awk -F, 'NR == 2 { exit !(\$11 > 0) }' $summary" "images/s measured"
check "[[ \$(wc -l < $work/out/steps.csv) -eq 26 ]]" "steps.csv has a header, the initial weights and 24 steps"
check "grep -q '^part,start' $work/out/analysis/fit.csv && [[ \$(wc -l < $work/out/analysis/fit.csv) -eq 3 ]]" \
      "fit.csv has the two complete parts of 10 steps"
check "grep -q 'The study.s claims, judged per run and phase' $work/out/report.md" "report.md has the claims"
check "grep -q 'resnet14, batch 128, lr 0.1, 24 steps' $work/out/analysis/claims.md" "claims.md names the run"
check "grep -q '^post-analysis,' $work/out/stages.csv && grep -q '^train,' $work/out/stages.csv" "stages.csv times each stage"
check "[[ ! -e $work/out/analysis/trajectory && \$(du -sm $work/out | cut -f1) -lt 20 ]]" "no trajectory in OUT"

# A second call with more steps resumes after epoch 6.
run_ok "$work/second" study --steps 40 --budget-min 5
check "grep -q 'resuming after epoch 6' $work/second.log" "it resumes after epoch 6"
check "[[ \$(sed -n 3p $summary | cut -d, -f5-8) == 7,10,40,40 ]]" "epochs 7-10 added ($(sed -n 3p "$summary"))"
check "[[ \$(wc -l < $work/out/steps.csv) -eq 42 ]]" "40 steps recorded in all"
# The resumed trajectory equals an uninterrupted one (the same data order, augmentation and weights).
run_ok "$work/whole" study --steps 40 --budget-min 5 --run "$work/whole"
check "$python - $work/run/trajectory $work/whole/trajectory <<'EOF'
import sys, numpy as np, glob, os
def load(d):
    return np.concatenate([np.load(f) for f in sorted(glob.glob(os.path.join(d, 'chunk_*.npy')))])
a, b = load(sys.argv[1]), load(sys.argv[2])
sys.exit(0 if a.shape == b.shape == (41, a.shape[1]) and np.array_equal(a, b) else 1)
EOF" "the resumed trajectory equals the uninterrupted one, bit for bit"

# A budget smaller than an epoch still trains one epoch, then stops at the epoch boundary.
run_ok "$work/budget" study --steps 400 --budget-min 0.001 --part-length 2 --run "$work/budget"
check "grep -q 'wall-clock budget' $work/budget/train_summary.csv" "the budget stops the training"
check "[[ \$(cut -d, -f7 < $work/budget/train_summary.csv | tail -n 1) == 4 ]]" "after one whole epoch (4 steps)"

expect2 "unknown argument '--bogus'" -- bash "$root/scripts/gpu_study.sh" --bogus 1
expect2 "expected minutes, got 'soon'" -- bash "$root/scripts/gpu_study.sh" --budget-min soon
expect2 "expected a CIFAR ResNet" -- env OUT="$work/bad" bash "$root/scripts/gpu_study.sh" --prebuilt "$build" \
  --run "$work/bad" --model vgg9 --device cpu --limit-train 128 --batch 128
exit $fail
