#!/usr/bin/env bash
# anodiff-reproduce with tiny settings: the quick pipeline and its report, the sweep's table and plots, the paper
# preset on a small CIFAR-10 written here in its binary format, and its refusal without CIFAR-10.
# Usage: cli_reproduce.sh BIN_DIR WORKDIR
set -euo pipefail
bin=$(cd "$1" && pwd)
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work"
source "$here/cli_common.sh"
tiny=(--epochs 2 --limit-train 1024 --part-length 2 --landscape-points 3 --landscape-samples 32 --toy-steps 60
      --eigenvalues 2 --long-epochs 1)
run_ok quick "$bin/anodiff-reproduce" --out quick "${tiny[@]}"
check "grep -q 'the study.s pattern' quick/report.md && grep -q '<img' quick/report.html" "report.md and report.html"
# The headline the program prints agrees with the claims table: "shows" exactly when every run's late-phase pattern
# is shown.
runs=$(grep -c ',pattern,late,' quick/claims.csv || true)
shown=$(grep ',pattern,late,' quick/claims.csv | grep -c ',shown,' || true)
if [[ $runs -eq $shown ]]; then headline="every run shows"; else headline="not every run shows"; fi
check "[[ $runs -eq 2 ]] && grep -q 'anodiff-reproduce: $headline the study.s pattern' quick.log" "the headline ($headline) agrees with claims.csv ($shown of $runs runs)"
check "grep -q 'anodiff-reproduce: disk: the trajectories take .* removed once analysed' quick.log" "the disk need said first"
check "[[ ! -e \$(echo quick/long_run/*/trajectory) && -s \$(echo quick/long_run/*/trajectory_removed.txt) ]]" \
  "the quick preset removes the trajectories after the analysis"
check "grep -q 'Wall time of each stage' quick/report.md && grep -q '| hessian |' quick/report.md" "stage times"
check "grep -q 'The study.s claims, judged per run and phase' quick/report.md && grep -q '| Subdiffusion at long lags' quick/report.md" \
  "the claims table opens the report"
check "[[ \$(grep -c '^### .*, batch .*, lr ' quick/report.md) -eq 2 && -s quick/claims_parts.csv ]]" "a claims table per run"
check "[[ -s quick/long_analysis/fit.csv ]] && grep -q 'fc3, batch 128, lr 0.1, 8 steps' quick/report.md" "the long run (fc3) is analysed and reported"
check "grep -q 'Radial and angular motion' quick/report.md" \
  "ResNet-14's radial and angular motion"
for p in analysis/msd.png hessian/eigenvalues.png landscape_epoch_2/contour.png simplified_model/msd_landscapes.png \
         simplified_model/walker_exponents.png long_analysis/msd.png; do
  png_ok quick/$p
  check "grep -q '$p' quick/report.md" "the report embeds $p"
done
# The claims table in the report is the one in claims.csv: every run's late-phase pattern verdict appears in claims.md.
check "[[ \$(grep -c '^| The whole pattern' quick/claims.md) -eq 4 ]]" "claims.md: the whole-pattern rows of both runs, initial and late"
# --keep-trajectory on the same folder: the removed run is trained again and its trajectory kept, with the same
# analysis (fit.csv) as the first time.
cp quick/long_analysis/fit.csv first_fit.csv
run_ok keep "$bin/anodiff-reproduce" --out quick "${tiny[@]}" --keep-trajectory
check "[[ -n \$(ls quick/long_run/*/trajectory/chunk_*.npy 2> /dev/null) && ! -e \$(echo quick/long_run/*/trajectory_removed.txt) ]]" \
  "--keep-trajectory keeps the trajectory"
check "cmp -s first_fit.csv quick/long_analysis/fit.csv" "the run trained again gives the same fit.csv"
run_ok sweep "$bin/anodiff-reproduce" --preset sweep --out sweep --epochs 1 --limit-train 64 --part-length 2
check "[[ \$(wc -l < sweep/sweep.csv) -eq 17 ]]" "sweep.csv: 16 runs (depth 6, learning rate 7, batch 3)"
# With 1-step runs the fits have no points: the plots are drawn (their scripts written), the study's values shown.
png_ok sweep/sweep_lr.png sweep/sweep_batch.png sweep/sweep_depth.png sweep/sweep_tau0.png
check "grep -q '<img' sweep/report.html" "the sweep's report"
check "! grep -q 'gnuplot failed' sweep.log" "every sweep plot drawn without a gnuplot error"
check "[[ \$(head -1 sweep/sweep.csv | cut -d, -f15,16) == depth,shortcuts && \$(grep -c ',56,0\$' sweep/sweep.csv) -eq 1 ]]" \
  "sweep.csv: depth and shortcut columns"
# CIFAR-10's binary format: 5 training files and a test file of 10,000 records each, a record being 1 label byte
# and 3,072 pixel bytes (here pseudo-random pixels, the label i mod 10).
mkdir -p cifar
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
  perl -e 'srand(7); my $b = join("", map { chr(int(rand(256))) } 1 .. 6144);
           binmode STDOUT; for my $i (0 .. 9999) { print chr($i % 10), substr($b, ($i * 131) % 3072, 3072) }' \
    > "cifar/$f.bin"
done
run_ok paper "$bin/anodiff-reproduce" --preset paper --data-dir cifar --out paper-run --epochs 2 --limit-train 128 \
  --part-length 2 --landscape-points 3 --landscape-samples 32 --toy-steps 60 --eigenvalues 2
check "grep -q 'per epoch on this machine' paper.log" "paper: a time estimate after the first epoch"
check "grep -q 'on cifar10, resnet14 (preset paper)' paper-run/report.md" "paper: the report names model, data and preset"
check "[[ \$(grep -c '^0,\\|^2,' paper-run/hessian/eigenvalues.csv) -eq 4 ]]" "paper: Hessian at epochs 0 and 2"
rm -rf cifar  # 184 MB
# The runs' options (RunSpec): each refused with the field it names, before any data are read.
code=0
err=$("$bin/anodiff-reproduce" --preset paper --data-dir no-cifar --out paper --long-epochs 3 2>&1 >/dev/null) || code=$?
check "[[ $code -eq 2 ]] && grep -q 'long-epochs: the preset paper has no long run' <<<\"\$err\"" "--long-epochs without a long run: exit 2"
code=0
err=$("$bin/anodiff-reproduce" --out bad --lr -1 2>&1 >/dev/null) || code=$?
check "[[ $code -eq 2 ]] && grep -q 'ReproductionOptions: main_run.lr must be positive, got -1' <<<\"\$err\"" "--lr -1: exit 2 naming main_run.lr"
code=0
err=$("$bin/anodiff-reproduce" --out bad --long-epochs -2 2>&1 >/dev/null) || code=$?
check "[[ $code -eq 2 ]] && grep -q 'ReproductionOptions: long_run.epochs must be at least 1, got -2' <<<\"\$err\"" "--long-epochs -2: exit 2 naming long_run.epochs"
check "[[ ! -e bad ]]" "nothing written for refused options"
code=0
err=$("$bin/anodiff-reproduce" --preset paper --data-dir no-cifar --out paper 2>&1 >/dev/null) || code=$?
check "[[ $code -eq 2 ]] && grep -q 'no-cifar: no such directory' <<<\"\$err\"" "paper without CIFAR-10: exit 2, one line"
exit $fail
