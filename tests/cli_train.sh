#!/usr/bin/env bash
# anodiff-train as a user runs it: a short Fashion-MNIST run, its files, a restart after kill -9, bad input,
# and PyTorch state_dict interchange. Usage: cli_train.sh BINARY WORKDIR SOURCE_DIR HOOK_BINARY (HOOK_BINARY: the
# tests' build of anodiff-train, whose ANODIFF_TEST_KILL_AT_STEP kills it at a chosen step; the restart is BINARY's)
set -euo pipefail
bin=$1
work=$2
src=$(cd "$3" && pwd)
hook_bin=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work"
source "$here/cli_common.sh"
expect2 "unknown model 'resnet99'" -- "$bin" --model resnet99 --dataset gauss --out o
expect2 "no-such-dir: no such directory" -- "$bin" --dataset cifar10 --data-dir no-such-dir --out o
expect2 "unknown data set 'svhn'" -- "$bin" --dataset svhn --out o
expect2 "batch_size must be >= 1" -- "$bin" --dataset gauss --batch_size 0 --limit-train 64 --out o
expect2 "momentum must lie in" -- "$bin" --dataset gauss --momentum 1.5 --limit-train 64 --out o
expect2 "device must be cpu, cuda or auto" -- "$bin" --dataset gauss --device tpu --limit-train 64 --out o

args=(--model resnet14 --dataset fashion-mnist --epochs 3 --batch_size 64 --limit-train 640 --limit-test 256 --out runs)
name="resnet14_sgd_lr=0.1_bs=64_wd=0_mom=0_save_epoch=1"
run="runs/$name"
if [[ ! -d /usr/share/datasets/fashion-mnist ]]; then
  # A dependency of the test command (scripts/install-deps.sh installs it): missing, the test fails.
  echo "FAIL: /usr/share/datasets/fashion-mnist is absent (Debian's dataset-fashion-mnist): the training runs"
  fail=1
else
run_ok straight "$bin" "${args[@]}"
png_ok $run/metrics.png
check "grep -q '^model = resnet14$' $run/config.txt && grep -q '^batch_size = 64$' $run/config.txt" "config.txt names the run"
check "[[ \$(wc -l < $run/metrics.csv) -eq 5 ]]" "metrics.csv has epochs 0..3"
/usr/bin/python3 - "$run" <<'PY' || fail=1
import csv, sys, math
rows = list(csv.DictReader(open(f"{sys.argv[1]}/metrics.csv")))
assert [r["epoch"] for r in rows] == ["0", "1", "2", "3"], rows
for r in rows:
    assert 0 <= float(r["test_error"]) <= 1 and math.isfinite(float(r["test_loss"])), r
for r in rows[1:]:
    assert 0 <= float(r["train_error"]) <= 1 and float(r["images_per_second"]) > 0, r
# Three epochs of SGD on 640 images: the training loss falls below chance's (ln 10 = 2.303).
assert float(rows[-1]["train_loss"]) < float(rows[1]["train_loss"]) and float(rows[-1]["train_loss"]) < 2.2, rows
print(f"ok: metrics.csv: training loss {rows[1]['train_loss']} -> {rows[-1]['train_loss']}, errors in [0, 1]")
PY
check "[[ -f $run/checkpoints/model_epoch_0.pt && -f $run/checkpoints/model_epoch_3.pt ]]" "checkpoints of epochs 0 and 3"
check "grep -q 'ETA' straight.log" "progress with ETA on stderr"
mv runs straight

# The same run, killed with SIGKILL at a step the test chooses (step 15 of 10 per epoch: mid epoch 2, its snapshots
# handed to the recorder but not committed) and started again with the same command.
code=0
ANODIFF_TEST_KILL_AT_STEP=15 "$hook_bin" "${args[@]}" > first.log 2>&1 || code=$?
check "[[ $code -eq 137 ]]" "the first start (the tests' build) is killed by SIGKILL at step 15 (exit $code)"
check "[[ -f $run/checkpoints/model_epoch_1.pt && ! -f $run/checkpoints/model_epoch_2.pt ]]" \
  "the kill left the checkpoint of epoch 1, not that of epoch 2"
check "[[ \$(ls $run/trajectory/chunk_*.npy | wc -l) -eq 2 ]]" "the kill left the chunks of epochs 0 and 1"
run_ok second "$bin" "${args[@]}"
check "grep -q 'resuming .* after epoch 1' second.log" "the second start resumes after epoch 1"
/usr/bin/python3 - "$name" <<'PY' || fail=1
import sys, csv, glob
import numpy as np
name = sys.argv[1]
def load(root):
    return np.concatenate([np.load(f) for f in sorted(glob.glob(f"{root}/{name}/trajectory/chunk_*.npy"))])
a, b = load("straight"), load("runs")
assert a.shape == b.shape, (a.shape, b.shape)
assert np.array_equal(a, b), "trajectories differ"
ma = [r["test_loss"] for r in csv.DictReader(open(f"straight/{name}/metrics.csv"))]
mb = [r["test_loss"] for r in csv.DictReader(open(f"runs/{name}/metrics.csv"))]
assert ma == mb, (ma, mb)
print(f"ok: killed and resumed run equals the uninterrupted one ({a.shape[0]} snapshots of {a.shape[1]})")
PY
fi

# PyTorch interchange: a state_dict written by Python's torch.save (the study's model code) starts a run (--init).
/usr/bin/python3 - "$src/benchmarks/reference" <<'PY' || fail=1
import sys, torch, numpy as np
sys.path.insert(0, sys.argv[1])
from study_models import ResNetCifar
torch.manual_seed(3)
net = ResNetCifar(14)
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(); m.weight.uniform_()
torch.save(net.state_dict(), "python_state_dict.pt")
np.save("python_theta.npy", torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy())
PY
run_ok import "$bin" --model resnet14 --dataset gauss --limit-train 64 --limit-test 64 --epochs 0 \
  --init python_state_dict.pt --out imported --quiet
/usr/bin/python3 - <<'PY' || fail=1
import glob, numpy as np
theta = np.load("python_theta.npy")
w = np.load(sorted(glob.glob("imported/*/trajectory/chunk_*.npy"))[0])[0]
assert w.shape == theta.shape and np.array_equal(w, theta), "imported weights differ"
print(f"ok: a torch.save state_dict of the study's ResNet-14 loads ({theta.size} parameters, by name)")
PY
expect2 "expected an entry 'layer1.2.conv1.weight'" -- "$bin" --model resnet20 --dataset gauss --limit-train 64 \
  --epochs 0 --init python_state_dict.pt --out imported20
exit $fail
