#!/usr/bin/env bash
# Faults while writing, as a user meets them: a file-size limit (`ulimit -f` in a subshell), a full disk (a small
# tmpfs, where one can be mounted: as root or in a user namespace), a read-only output folder and a path blocked by a
# file. Each program exits 1 with "I/O error" naming the file; run again with the same command once space is back, it
# completes, and what it had committed is neither lost nor corrupted: the result equals an uninterrupted run's.
# Usage: cli_faults.sh BIN_DIR WORKDIR [core|torch]  (core: anodiff-post-analysis only; torch: the LibTorch programs)
set -euo pipefail
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$2
mode=${3:-all}
rm -rf "$work" && mkdir -p "$work" && cd "$work"
source "$here/cli_common.sh"
export bin

# expect_io PATTERN -- COMMAND...: exit 1, the last line of stderr "...: I/O error: ..." matching PATTERN.
expect_io() {
  local pattern=$1
  shift 2
  local err got=0
  err=$("$@" 2>&1 >/dev/null) || got=$?
  if [[ $got -eq 1 ]] && tail -n 1 <<<"$err" | grep -q -- "I/O error: .*$pattern"; then
    echo "ok: exit 1, I/O error: $pattern"
  else
    echo "FAIL: $* -> exit $got (expected 1, I/O error: $pattern), stderr: $(tail -n 3 <<<"$err")"
    fail=1
  fi
}
# limited KB COMMAND...: the command with files limited to KB kilobytes (ulimit -f).
limited() {
  local kb=$1
  shift
  (ulimit -f "$kb" && exec "$@")
}
# with_tmpfs SIZE SCRIPT: runs the bash SCRIPT (under set -euo pipefail) in this folder with a tmpfs of SIZE mounted
# on ./fs, "space back" being `mount -o remount,size=64m fs`, read-only `mount -o remount,ro fs`. A tmpfs is needed
# (root, or unprivileged user namespaces): where none can be mounted, the section fails; the full disk is not optional.
with_tmpfs() {
  mkdir -p fs
  local setup="set -euo pipefail; mount -t tmpfs -o size=$1 tmpfs fs"
  local got=0
  if unshare -rm true 2>/dev/null; then
    unshare -rm bash -c "$setup"$'\n'"source '$here/cli_common.sh'"$'\n'"$2"$'\n'"exit \$fail" || got=$?
  elif [[ $(id -u) -eq 0 ]] && mount -t tmpfs -o size=1k tmpfs fs 2>/dev/null && umount fs; then
    bash -c "$setup"$'\n'"source '$here/cli_common.sh'"$'\n'"$2"$'\n'"r=\$fail; umount fs; exit \$r" || got=$?
  else
    echo "FAIL: no tmpfs can be mounted here (needs root or unprivileged user namespaces): a full disk is not checked"
    got=1
  fi
  if [[ $got -eq 0 ]]; then tmpfs_runs=$((tmpfs_runs + 1)); else fail=1; fi
}
declare -f expect_io limited > functions.sh
echo "a file where a folder should be" > blocker
tmpfs_runs=0

# ------------------------------------------------------------------------------------------------ post-analysis
if [[ $mode != torch ]]; then
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
np.save("traj.npy", np.cumsum(rng.standard_normal((400, 30)), axis=0).astype(np.float32))
PY
pa="$bin/anodiff-post-analysis"
run_ok ref "$pa" --trajectory traj.npy --part-length 200 --out ref --no-plots
expect_io "out/[a-z_]*\.csv: write failed" -- limited 8 "$pa" --trajectory traj.npy --part-length 200 --out out --no-plots
run_ok again "$pa" --trajectory traj.npy --part-length 200 --out out --no-plots
check "diff -r ref out > /dev/null" "post-analysis: the same command after the limit writes what an unlimited run writes"
expect_io "blocker/out" -- "$pa" --trajectory traj.npy --out blocker/out --no-plots
run_ok parents "$pa" --trajectory traj.npy --part-length 200 --out new/parent/folders --no-plots
check "diff -r ref new/parent/folders > /dev/null" "post-analysis: missing parent folders are created"
# The demo records a trajectory (TrajectoryWriter) before analysing it: a limit stops the recording itself.
expect_io "demo_trajectory/chunk_0000.*npy.*write failed" -- limited 4 "$pa" --demo --out demo --no-plots
check "[[ -z \$(ls demo/demo_trajectory | grep '\\.tmp\$') ]]" "post-analysis --demo: no temporary file left behind"

with_tmpfs 64k '
  pa="$bin/anodiff-post-analysis"
  source '"$work"'/functions.sh
  expect_io "fs/out/.*csv: write failed.*No space left on device" -- "$pa" --trajectory traj.npy --part-length 200 --out fs/out --no-plots
  mount -o remount,size=64m fs
  run_ok space_back "$pa" --trajectory traj.npy --part-length 200 --out fs/out --no-plots
  check "diff -r ref fs/out > /dev/null" "post-analysis: a full disk, then the same command once space is back"
  mount -o remount,ro fs
  expect_io "fs/ro" -- "$pa" --trajectory traj.npy --out fs/ro --no-plots
  expect_io "fs/out/msd.csv: cannot create" -- "$pa" --trajectory traj.npy --part-length 200 --out fs/out --no-plots
'

# A full disk under a follower's own output (--follow, the demo's trajectory of 3,000 snapshots in parts of 1,000):
# one clear error (exit 1, the file and "No space left on device"), the trajectory it reads untouched; with space
# back the same command writes what the batch post-analysis writes.
run_ok demo_traj "$pa" --demo --out demo_ok --no-plots
run_ok follow_ref "$pa" --trajectory demo_ok/demo_trajectory --part-length 1000 --out follow_ref --no-plots
sum_before=$(cd demo_ok/demo_trajectory && cat $(ls) | md5sum)
with_tmpfs 16k '
  pa="$bin/anodiff-post-analysis"
  source '"$work"'/functions.sh
  follow=(--trajectory demo_ok/demo_trajectory --part-length 1000 --follow --until-snapshots 3000 --poll-seconds 0.1
          --no-plots --out fs/fout)
  expect_io "fs/fout/.*csv: write failed.*No space left on device" -- "$pa" "${follow[@]}"
  mount -o remount,size=64m fs
  run_ok follow_space_back "$pa" "${follow[@]}"
  check "diff -r follow_ref fs/fout > /dev/null" "follow: a full disk, then the same command once space is back"
'
check "[[ \$(cd demo_ok/demo_trajectory && cat \$(ls) | md5sum) == '$sum_before' ]]" \
  "follow: the trajectory it read is unchanged by the full disk"

fi
if [[ $mode == core ]]; then exit $fail; fi

# ------------------------------------------------------------------------------------------------ training
if [[ ! -d /usr/share/datasets/fashion-mnist ]]; then  # a dependency of the test command: missing, the test fails
  echo "FAIL: /usr/share/datasets/fashion-mnist is absent (Debian's dataset-fashion-mnist; scripts/install-deps.sh)"
  exit 1
fi
# fc3 on Fashion-MNIST: 114,000 parameters (456 KB a snapshot, a checkpoint as much), 2 steps per epoch.
args=(--model fc3 --dataset fashion-mnist --epochs 3 --batch_size 64 --limit-train 128 --limit-test 64 --noaug
      --momentum 0.9 --no-plots --quiet)
name="fc3_sgd_lr=0.1_bs=64_wd=0_mom=0.9_save_epoch=1"
run_ok straight "$bin/anodiff-train" "${args[@]}" --out straight
# 600 KB: snapshot 0's chunk (456 KB) and the checkpoints fit, epoch 1's chunk of 2 snapshots (912 KB) does not.
expect_io "runs/$name/trajectory/chunk_000001.npy: write failed.*File too large" -- \
  limited 600 "$bin/anodiff-train" "${args[@]}" --out runs
check "[[ -f runs/$name/checkpoints/model_epoch_0.pt && ! -f runs/$name/checkpoints/model_epoch_1.pt ]]" \
  "train: the limit stopped the run at epoch 1's commit"
run_ok resumed "$bin/anodiff-train" "${args[@]}" --out runs
same_run() {  # same_run DIR_A DIR_B: trajectories and metrics of the two runs are equal
  /usr/bin/python3 - "$1/$name" "$2/$name" <<'PY'
import sys, csv, glob
import numpy as np
a, b = sys.argv[1], sys.argv[2]
def load(root):
    return np.concatenate([np.load(f) for f in sorted(glob.glob(f"{root}/trajectory/chunk_*.npy"))])
x, y = load(a), load(b)
assert x.shape == y.shape and np.array_equal(x, y), (x.shape, y.shape)
ma = [r["test_loss"] for r in csv.DictReader(open(f"{a}/metrics.csv"))]
mb = [r["test_loss"] for r in csv.DictReader(open(f"{b}/metrics.csv"))]
assert ma == mb, (ma, mb)
assert not glob.glob(f"{b}/**/*.tmp", recursive=True), "temporary files left"
PY
}
check "same_run straight runs" "train: resumed with the same command after a file-size limit, it equals the uninterrupted run"
# A checkpoint (with its optimizer state) that does not fit: the record of the epoch is there, its checkpoint not.
expect_io "model_epoch_0.pt: write failed.*File too large" -- \
  limited 400 "$bin/anodiff-train" "${args[@]}" --no-weights --project 8 --out ckpt
run_ok resumed_project "$bin/anodiff-train" "${args[@]}" --no-weights --project 8 --out ckpt
check "[[ -f ckpt/$name/checkpoints/model_epoch_3.pt && \$(wc -l < ckpt/$name/metrics.csv) -eq 5 ]]" \
  "train: a checkpoint past the limit, then the same command completes the run"
expect_io "blocker/runs" -- "$bin/anodiff-train" "${args[@]}" --out blocker/runs

with_tmpfs 1500k '
  source '"$work"'/functions.sh
  args=('"${args[*]}"')
  expect_io "fs/runs/'"$name"'/.*No space left on device" -- "$bin/anodiff-train" "${args[@]}" --out fs/runs
  mount -o remount,size=64m fs
  run_ok resumed_tmpfs "$bin/anodiff-train" "${args[@]}" --out fs/runs
  '"$(declare -f same_run)"'
  name='"$name"'
  check "same_run straight fs/runs" "train: a full disk, then the same command once space is back: equals the uninterrupted run"
  mount -o remount,ro fs
  expect_io "fs/other" -- "$bin/anodiff-train" "${args[@]}" --out fs/other
'

# ------------------------------------------------------------------------------------------------ landscape shard
# A full disk under a shard's surface.csv (a tmpfs of one page: about 60 of the 144 lines; `ulimit -f` cannot be used
# here, MPI's start-up needs files of megabytes; tests/test_landscape.cpp limits the library's writes instead).
run="$work/straight/$name"
land=(--run "$run" --epoch 1 --x -1:1:12 --y -1:1:12 --samples 64 --no-plots)
run_ok land_ref "$bin/anodiff-landscape" "${land[@]}" --out land_ref
with_tmpfs 4k '
  source '"$work"'/functions.sh
  land=('"${land[*]}"')
  expect_io "fs/land/surface.csv: write failed: No space left on device" -- "$bin/anodiff-landscape" "${land[@]}" --out fs/land
  points=$(($(wc -l < fs/land/surface.csv) - 1))
  check "[[ $points -ge 20 && $points -lt 144 ]]" "landscape: the shard kept the $points points written before the disk was full"
  mount -o remount,size=64m fs
  run_ok land "$bin/anodiff-landscape" "${land[@]}" --out fs/land
  check "grep -q \"($((144 - points)) of 144 points)\" land.log" "landscape: the same command evaluates only the $((144 - points)) points missing"
  /usr/bin/python3 - <<"PY" || fail=1
import csv
def grid(d):
    return {(r["x"], r["y"]): (float(r["loss"]), float(r["accuracy"])) for r in csv.DictReader(open(f"{d}/grid.csv"))}
a, b = grid("land_ref"), grid("fs/land")
assert a.keys() == b.keys() and len(a) == 144, (len(a), len(b))
for k in a:
    assert abs(a[k][0] - b[k][0]) <= 1e-8 * abs(a[k][0]) and a[k][1] == b[k][1], (k, a[k], b[k])
lines = open("fs/land/surface.csv").read().splitlines()
assert all(len(l.split(",")) == 6 for l in lines), "a torn line is left in surface.csv"
print("ok: landscape: after a full disk the grid equals the uninterrupted one, surface.csv holds whole lines only")
PY
'

echo "cli_faults: $tmpfs_runs tmpfs sections ran, each with a full disk and a read-only folder"
exit $fail
