#!/usr/bin/env bash
# The experimental search behind the quick preset (docs/reproducing.md): trains each configuration with every step
# recorded, analyses it with parts of 500 and 1,000 steps, and appends one row per (configuration, part length) to
# $OUT/search.csv. Usage: bash scripts/preset_search.sh OUT [CONFIG ...], a CONFIG being
#   name:model:batch:lr:epochs:limit_train:aug   (aug 1 or 0; limit_train 0 = all 60,000 Fashion-MNIST images)
# Without CONFIGs it runs the grid listed below. Each row: time of the training, and over the parts after the first
# the number showing the study's pattern and the medians of the early and late exponents, tau0 and band exponents.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: preset_search.sh OUT [CONFIG ...]}
shift
configs=("$@")
if ((${#configs[@]} == 0)); then
  configs=(
    fc3_b128_lr0.1:fc3:128:0.1:13:0:0
    fc3_b128_lr0.1_aug:fc3:128:0.1:13:0:1
    fc3_b1024_lr0.1:fc3:1024:0.1:100:0:0
    fc3_b128_lr0.3:fc3:128:0.3:13:0:0
    fc3_b128_lr0.1_sub6k:fc3:128:0.1:128:6000:0
    resnet14_b128_lr0.1:resnet14:128:0.1:4:0:1
    resnet14_noshort_b128_lr0.1:resnet14_noshort:128:0.1:4:0:1
  )
fi
mkdir -p "$out"
table="$out/search.csv"
[[ -f $table ]] || echo "name,model,batch,lr,epochs,limit_train,augment,steps,train_seconds,part_length,parts_judged,parts_with_pattern,early_median,late_median,tau0_median,crossovers,short_band_median,long_band_median,final_train_loss" > "$table"
for c in "${configs[@]}"; do
  IFS=: read -r name model batch lr epochs limit aug <<<"$c"
  run="$out/$name"
  flags=(--model "$model" --dataset fashion-mnist --batch_size "$batch" --lr "$lr" --epochs "$epochs"
         --limit-train "$limit" --limit-test 1000 --run-name run --out "$run" --no-plots --quiet)
  [[ $aug == 1 ]] || flags+=(--noaug)
  start=$(date +%s.%N)
  ./build/examples/anodiff-train "${flags[@]}" > "$run.train.log"
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  steps=$(($(wc -l < "$run/run/trajectory/steps.csv") - 2))
  loss=$(tail -n 1 "$run/run/metrics.csv" | cut -d, -f2)
  for part in 500 1000; do
    ./build/examples/anodiff-post-analysis --trajectory "$run/run/trajectory" --part-length $part --no-plots \
        --out "$run/analysis_$part" > "$run/analysis_$part.log" 2>&1
    /usr/bin/python3 - "$run/analysis_$part/fit.csv" "$run/analysis_$part/claims_parts.csv" <<'PY' > "$run/row_$part"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
readings = list(csv.DictReader(open(sys.argv[2])))  # anodiff-post-analysis's claims (docs/reproducing.md)
judged = rows[1:] if len(rows) > 1 else rows
late = readings[1:] if len(readings) > 1 else readings
f = lambda r, k: float(r[k]) if r[k] else float('nan')
ok = sum(1 for r in late if r['pattern'] == '1')  # the late phase's whole pattern, as the report judges it
med = lambda k: statistics.median([f(r,k) for r in judged if r[k]]) if any(r[k] for r in judged) else float('nan')
print(f"{len(judged)},{ok},{med('early_exponent'):.3f},{med('late_exponent'):.3f},{med('tau0'):.1f},"
      f"{sum(r['crossover_found']=='1' for r in judged)},{med('short_band_median'):.3f},{med('long_band_median'):.3f}")
PY
    echo "$name,$model,$batch,$lr,$epochs,$limit,$aug,$steps,$seconds,$part,$(cat "$run/row_$part"),$loss" >> "$table"
  done
  rm -rf "$run/run/trajectory"/chunk_*.npy  # the trajectories are large; the analyses stay
  echo "preset_search: $name done ($seconds s)" >&2
done
column -s, -t < "$table"
