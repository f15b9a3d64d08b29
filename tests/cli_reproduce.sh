#!/usr/bin/env bash
# anodiff-reproduce with tiny settings: the quick pipeline and its report, the sweep's table and plots, and the
# paper preset's refusal without CIFAR-10. Usage: cli_reproduce.sh BIN_DIR WORKDIR
set -u
bin=$1
work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
source "$(dirname "${BASH_SOURCE[0]}")/cli_common.sh"
tiny=(--epochs 2 --limit-train 1024 --part-length 2 --landscape-points 3 --landscape-samples 32 --toy-steps 60
      --eigenvalues 2)
"$bin/anodiff-reproduce" --out quick "${tiny[@]}" > quick.log 2>&1 || { echo "FAIL: quick"; tail -20 quick.log; fail=1; }
check "grep -q 'the study.s pattern' quick/report.md && grep -q '<img' quick/report.html" "report.md and report.html"
check "grep -q 'Wall time of each stage' quick/report.md && grep -q '| hessian |' quick/report.md" "stage times"
for p in analysis/msd.png hessian/eigenvalues.png landscape_epoch_2/contour.png simplified_model/msd_landscapes.png; do
  check "[[ -s quick/$p ]] && grep -q '$p' quick/report.md" "the report embeds $p"
done
"$bin/anodiff-reproduce" --preset sweep --out sweep --epochs 1 --limit-train 64 --part-length 2 > sweep.log 2>&1 \
  || { echo "FAIL: sweep"; tail -20 sweep.log; fail=1; }
check "[[ \$(wc -l < sweep/sweep.csv) -eq 17 ]]" "sweep.csv: 16 runs (depth 6, learning rate 7, batch 3)"
# With 1-step runs the fits have no points: the plots are drawn (their scripts written), the study's values shown.
check "[[ -s sweep/sweep_lr.png && -s sweep/sweep_batch.gp && -s sweep/sweep_depth.gp && -s sweep/report.html ]]" \
  "the sweep's plots and report"
err=$("$bin/anodiff-reproduce" --preset paper --data-dir no-cifar --out paper 2>&1 >/dev/null)
code=$?
check "[[ $code -eq 2 ]] && grep -q 'no-cifar: no such directory' <<<\"\$err\"" "paper without CIFAR-10: exit 2, one line"
exit $fail
