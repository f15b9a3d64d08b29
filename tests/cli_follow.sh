#!/usr/bin/env bash
# anodiff-post-analysis --follow beside a writer that appends chunks as anodiff.Recorder does (a temporary name,
# fsync, rename, fsync of the directory; steps.csv before each chunk): the follower's CSVs equal, byte for byte, a
# post-analysis of the finished trajectory (unsharded and sharded, ending at --until-epoch, --until-snapshots and
# --idle-seconds), and SIGINT mid-way leaves every finished part written and nothing else. Prints the follower's lag
# (seconds from the rename of the chunk that completes a part to the write of that part's rows).
# With TRAIN (anodiff-train), instead: a follower beside anodiff-train on gauss data, unsharded and sharded.
# Usage: cli_follow.sh BINARY WORKDIR [TRAIN]
set -euo pipefail
bin=$1
work=$2
train=${3:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work"
source "$here/cli_common.sh"
export OMP_NUM_THREADS=1

if [[ -n $train ]]; then
  # anodiff-train (fc3 on 1,024 gauss images, batch 128: 8 steps an epoch, 8 epochs, 65 snapshots of 318,200
  # coordinates), the follower started first and ended by --until-epoch 8; sharded, its shards from config.txt.
  for shards in 1 2; do
    "$bin" --trajectory "train$shards/r/trajectory" --part-length 16 --follow --until-epoch 8 --poll-seconds 5 \
      --no-plots --out "ftrain$shards" > "ftrain$shards.out" 2> "ftrain$shards.log" & fpid=$!
    run_ok "train$shards" "$train" --model fc3 --dataset gauss --epochs 8 --batch_size 128 --limit-train 1024 \
      --limit-test 256 --noaug --lr 0.05 --record-shards "$shards" --run-name r --out "train$shards" --no-plots --quiet
    got=0; wait "$fpid" || got=$?
    check "[[ $got -eq 0 ]]" "the follower of anodiff-train (record_shards $shards) exits 0 (got $got)"
    check "grep -q 'follow ended (finished): 4 parts of 65 snapshots' ftrain$shards.log" \
      "it ended at epoch 8 with 4 parts"
    got=0; "$bin" --trajectory "train$shards/r/trajectory" --part-length 16 --no-plots --out "btrain$shards" \
      > "btrain$shards.out" 2> "btrain$shards.log" || got=$?
    check "[[ $got -eq 0 ]]" "the batch post-analysis of the training exits 0 (got $got)"
    n=0
    for f in "btrain$shards"/*.csv; do
      n=$((n + 1))
      cmp -s "$f" "ftrain$shards/$(basename "$f")" || { echo "FAIL: ftrain$shards/$(basename "$f") differs"; fail=1; }
    done
    check "[[ $n -ge 11 ]] && cmp -s ftrain$shards.out btrain$shards.out" "$n CSVs and the summary equal the batch's"
  done
  exit $fail
fi

# writer.py DIR EPOCHS STEPS PAUSE SEED [SHARD SHARDS]: a random walk of 240 coordinates (two tensors, the first a
# scale-invariant group) recorded in durable chunks, chunk 0 the initial weights, then one per epoch of STEPS
# steps, PAUSE seconds apart; a shard writes chunk E once every shard has written chunk E - 1. Logs "chunk rows_so_far unix_time" after each rename to DIR.renames (DIR/shard_k).
cat > writer.py <<'PY'
import os, sys, time
import numpy as np
out, epochs, steps, pause, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
shard, shards = (int(sys.argv[6]), int(sys.argv[7])) if len(sys.argv) > 7 else (0, 1)
D = 240
cols = slice(shard * D // shards, (shard + 1) * D // shards)
d = os.path.join(out, f"shard_{shard:03d}") if shards > 1 else out
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(seed)  # the same walk in every shard process: each keeps its columns
def durable(path, data):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(os.path.dirname(path), os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
def npy(rows):
    import io
    b = io.BytesIO()
    np.save(b, np.ascontiguousarray(rows, dtype=np.float32))
    return b.getvalue()
def number(v):
    return "" if v != v else (str(int(v)) if v == int(v) else repr(v))
n = cols.stop - cols.start
layout = "name,offset,size,shape,group\n"
if shards == 1:
    layout += "conv.weight,0,160,10x16,0\nfc.weight,160,80,80,-1\n"
else:
    layout += f"part{shard}.weight,0,{n},{n},{0 if shard == 0 else -1}\n"
durable(os.path.join(d, "layout.csv"), layout.encode())
w = rng.normal(size=D)
rows, table, log = [w.copy()], [(0, 0, float("nan"))], open(d + ".renames", "w")
def commit(index):
    while shards > 1 and index > 0 and not all(  # the shards in step, as ranks of one model are (a collective)
            os.path.exists(os.path.join(out, f"shard_{k:03d}", f"chunk_{index - 1:06d}.npy")) for k in range(shards)):
        time.sleep(0.01)
    text = "step,epoch,loss\n" + "".join(f"{s},{e},{number(l)}\n" for s, e, l in table)
    durable(os.path.join(d, "steps.csv"), text.encode())
    durable(os.path.join(d, f"chunk_{index:06d}.npy"), npy(np.array(rows)[:, cols]))
    log.write(f"{index} {len(table)} {time.time():.6f}\n")
    log.flush()
    rows.clear()
commit(0)
for epoch in range(1, epochs + 1):
    time.sleep(pause)
    for s in range(steps):
        w = w + rng.normal(size=D) * (0.01 + 0.02 * rng.random())  # a drift of changing speed: fits find some shape
        rows.append(w.copy())
        table.append((len(table), epoch, float(1 / (1 + 0.01 * len(table)) + 0.001 * rng.random())))
    commit(epoch)
PY

# same A B PARTS: every CSV of A equals B's (cmp); PARTS (optional): B's rows of the parts below PARTS only.
same() {
  local a=$1 b=$2 parts=${3:-} f n=0
  for f in "$b"/*.csv; do
    local name
    name=$(basename "$f")
    [[ $name == claims*.csv ]] && [[ -n $parts ]] && continue
    n=$((n + 1))
    if [[ -z $parts ]]; then
      cmp -s "$a/$name" "$f" || { echo "FAIL: $a/$name differs from $f"; fail=1; }
    else
      awk -F, -v k="$parts" 'NR == 1 || $1 < k' "$f" > "$name.prefix"
      cmp -s "$a/$name" "$name.prefix" || { echo "FAIL: $a/$name is not $f's parts below $parts"; fail=1; }
    fi
  done
  check "[[ $n -ge 11 ]]" "$a: $n CSVs compared with $b"
}

# 1. Unsharded, the follower started before the writer: 12 epochs of 50 steps (601 snapshots), parts of 100,
#    ends at --until-epoch 12; pictures drawn.
"$bin" --trajectory run1 --part-length 100 --follow --until-epoch 12 --poll-seconds 5 --out follow1 \
  > follow1.out 2> follow1.log & fpid=$!
/usr/bin/python3 writer.py run1 12 50 0.5 1
got=0; wait "$fpid" || got=$?
check "[[ $got -eq 0 ]]" "follower 1 exits 0 (got $got)"
check "grep -q 'follow ended (finished): 6 parts of 601 snapshots' follow1.log" "follower 1 ended at epoch 12"
check "grep -q 'the last 1 snapshots (fewer than a part of 100) are not analysed' follow1.log" "the rest is noted"
got=0; "$bin" --trajectory run1 --part-length 100 --out batch1 > batch1.out 2> batch1.log || got=$?
check "[[ $got -eq 0 ]]" "the batch post-analysis of run 1 exits 0 (got $got)"
same follow1 batch1
check "cmp -s follow1/claims.md batch1/claims.md" "follow1/claims.md equals the batch's"
check "[[ -s follow1.out ]] && cmp -s follow1.out batch1.out" "the summary table equals the batch's"
png_ok follow1/msd.png follow1/local_exponent.png follow1/band_exponents.png follow1/motion_msd.png
check "[[ $(grep -c 'parts written at unix time' follow1.log) -ge 2 ]]" "follower 1 wrote while the run went on"

# The lag: for each part, from the rename of the chunk that completed it to the first write that held it.
# lag.py LOG P RENAMES...: per part, the seconds from the rename that completed it (the last shard's) to the end of
# the first write that held it; every part is written, none before its chunk.
cat > lag.py <<'PY'
import re, sys
log, P, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
renames = [[tuple(map(float, l.split())) for l in open(f)] for f in files]
writes = [(int(m.group(1)), float(m.group(2))) for m in
          re.finditer(r"follow: (\d+) parts written at unix time ([0-9.]+)", open(log).read())]
lags = []
for k in range(int(renames[0][-1][1]) // P):
    t_chunk = max(next(t for _, rows, t in r if rows >= (k + 1) * P) for r in renames)
    t_write = next(t for n, t in writes if n >= k + 1)
    lags.append(t_write - t_chunk)
assert lags and all(0 <= l < 60 for l in lags), lags
print(" ".join(f"{l:.3f}" for l in lags) + f" (median {sorted(lags)[len(lags) // 2]:.3f}, max {max(lags):.3f})")
PY
got=0; /usr/bin/python3 lag.py follow1.log 100 run1.renames > lag1.txt || got=$?
check "[[ $got -eq 0 ]]" "lag (s) per part, with pictures: $(cat lag1.txt)"

# 2. Sharded (two shard processes, the second begun 1 s late; the follower waits for it: --shards 2), ends at
#    --until-snapshots 601.
"$bin" --trajectory run2 --part-length 120 --follow --until-snapshots 601 --shards 2 --poll-seconds 5 --no-plots \
  --out follow2 \
  > follow2.out 2> follow2.log & fpid=$!
/usr/bin/python3 writer.py run2 12 50 0.3 2 0 2 & w0=$!
(sleep 1; exec /usr/bin/python3 writer.py run2 12 50 0.3 2 1 2) & w1=$!  # shard 1 begins late
wait "$w0"; wait "$w1"
got=0; wait "$fpid" || got=$?
check "[[ $got -eq 0 ]]" "follower 2 (shards) exits 0 (got $got)"
check "grep -q 'follow ended (finished): 5 parts of 601 snapshots' follow2.log" "follower 2 ended at 601 snapshots"
run_ok batch2 "$bin" --trajectory run2 --part-length 120 --no-plots --out batch2
same follow2 batch2
got=0; /usr/bin/python3 lag.py follow2.log 120 run2/shard_000.renames run2/shard_001.renames > lag2.txt || got=$?
check "[[ $got -eq 0 ]]" "lag (s) per part, shards, no pictures: $(cat lag2.txt)"
lines=$(cat follow2/motion_fit.csv 2>/dev/null | wc -l)
check "[[ $lines -eq 16 ]]" "the shards' layouts joined: radial and angular motion per part"

# 3. SIGINT mid-way: a slower writer; the follower is stopped once it has written a part; every part it wrote is
#    whole and equals the batch's, and no other part is there. Then --idle-seconds on the finished run catches up.
"$bin" --trajectory run3 --part-length 100 --follow --poll-seconds 5 --no-plots --out follow3 \
  > follow3.out 2> follow3.log & fpid=$!
/usr/bin/python3 writer.py run3 12 50 0.6 3 & wpid=$!
for _ in $(seq 600); do grep -q 'parts written at unix time' follow3.log && break; sleep 0.1; done
kill -INT "$fpid"
got=0; wait "$fpid" || got=$?
wait "$wpid"
check "[[ $got -eq 0 ]]" "follower 3 exits 0 on SIGINT (got $got)"
check "grep -q 'follow ended (stopped)' follow3.log" "follower 3 says it was stopped"
parts=$(($(cat follow3/fit.csv 2>/dev/null | wc -l) - 1))
check "[[ $parts -ge 1 && $parts -lt 6 ]]" "follower 3 wrote $parts of 6 parts before SIGINT"
check "grep -q \"follow: $parts parts written\" follow3.log" "its last write holds the $parts parts"
run_ok batch3 "$bin" --trajectory run3 --part-length 100 --no-plots --out batch3
same follow3 batch3 "$parts"
run_ok idle3 "$bin" --trajectory run3 --part-length 100 --follow --idle-seconds 1 --poll-seconds 0.5 --no-plots \
  --out idle3
check "grep -q 'follow ended (idle): 6 parts of 601 snapshots' idle3.log" "an idle follower ends after 1 s"
same idle3 batch3

# 4. The flags.
expect2 "needs --part-length" -- "$bin" --trajectory run1 --follow --out bad
expect2 "needs --follow" -- "$bin" --trajectory run1 --until-epoch 3 --out bad
expect2 "not --loss" -- "$bin" --trajectory run1 --part-length 100 --follow --loss x.npy --out bad
expect2 "poll-seconds must be positive" -- "$bin" --trajectory run1 --part-length 100 --follow --poll-seconds 0 --out bad
expect2 "fewer than a part of 1000" -- "$bin" --trajectory run1 --part-length 1000 --follow --until-epoch 12 --out bad

exit $fail
