#!/usr/bin/env bash
# Before/after behaviour comparison of the six example programs, for changes that must not change any output (a
# reorganisation of the source tree): run a fixed set of small, seeded, deterministic commands with the programs of
# one build, then compare two such output folders file by file.
#
# Usage:
#   tests/behaviour_compare.sh BINDIR OUTDIR          run the commands with BINDIR's programs, outputs under OUTDIR
#   tests/behaviour_compare.sh --diff DIR_A DIR_B     compare two OUTDIRs; exit 0 when equal, 1 when not
#
# BINDIR holds anodiff-train, anodiff-post-analysis, anodiff-hessian, anodiff-landscape, anodiff-simplified-model and
# anodiff-reproduce (build/examples, or an installed prefix's bin/). OUTDIR must be absent or empty. Every program runs
# on the CPU, single-threaded (OMP_NUM_THREADS=MKL_NUM_THREADS=OPENBLAS_NUM_THREADS=1, which is also what makes the
# outputs repeat to the bit run to run), under `nice`, from OUTDIR with relative paths (so no output names OUTDIR).
# The commands, in order (OUTDIR/<name>/ holds what each writes, OUTDIR/stdout/<name>.txt its stdout; its stderr,
# progress with ETAs, goes to OUTDIR/_meta/<name>.stderr.log, and OUTDIR/_meta/times.tsv has each one's wall time):
#   train             anodiff-train: ResNet-14 on 2,560 Fashion-MNIST images (Debian's /usr/share/datasets), batch 64,
#                     4 epochs = 160 recorded steps, with --save-gradients and --project 16 (as tests/cli_train.sh, a
#                     little longer); writes the trajectory and the checkpoints the next three use
#   post_analysis     anodiff-post-analysis on that trajectory, parts of 40, --per-layer (as tests/cli_post_analysis.sh)
#   post_analysis_demo  anodiff-post-analysis --demo (the built-in synthetic trajectory, 3 parts of 1,000)
#   hessian           anodiff-hessian on that run's 5 checkpoints: top 3 eigenvalues, Hutch++ trace, SLQ density
#                     (the flags of tests/cli_analysis.sh)
#   landscape         anodiff-landscape on that run's last checkpoint (epoch 4): 7 x 7 grid, 64 samples
#                     (as tests/cli_analysis.sh)
#   simplified_model  anodiff-simplified-model --seed 0, 20 walkers x 500 steps on each landscape (no shell test runs
#                     this program; docs/simplified_model.md's command with fewer walkers and steps)
#   reproduce         anodiff-reproduce --preset quick, in full (not the tiny settings of tests/cli_reproduce.sh): fc3
#                     for 24,388 steps, ResNet-14 for 384, Hessian, landscape, simplified model, the report. It records
#                     11.3 GB of trajectory at its peak (removed once analysed, 89 MB left). Measured 2026-12-05 on the
#                     2-core VM beside a build, single-threaded: reproduce 332-366 s, the six others 61-67 s together,
#                     the whole script 6.6-7.2 minutes; OUTDIR ends at 370 MB.
#
# --diff compares every file under DIR_A (except _meta/) with the same relative path under DIR_B: a file present on
# one side only is a difference. Compared by content: .csv, .npy, .json, .txt, .md (claims.md, report.md), .gp (the
# gnuplot scripts) and .pt (the checkpoints); by presence only: .png, .html, .h5 (HDF5 stamps object times) and
# anything else. Bit for bit, except:
#   - CSV columns that hold wall times, by their exact header names (TIME_COLUMNS below): `seconds` and
#     `images_per_second` of metrics.csv (anodiff-train, and the reproduction's runs), `seconds` of eigenvalues.csv
#     (anodiff-hessian: the time of each checkpoint's solve). No other CSV written by these commands has a time column
#     (time_averaged_msd of msd_mean.csv is an MSD, not a time, and is compared).
#   - report.md's section "## Wall time of each stage" (the reproduction's stage times), and the "total 6.1 min" that
#     ends anodiff-reproduce's stdout line.
#   - in every text file: dates with a clock time (YYYY-MM-DD HH:MM) and the two folders' own absolute paths (none
#     appears today; guards only).
# .npy and .pt files are compared byte for byte; a differing .npy reports its first differing element.
# Checked run to run with the same binaries (two runs, 2026-12-05): all 339 compared files identical under these
# exclusions; without them metrics.csv (3), eigenvalues.csv (2), report.md and stdout/reproduce.txt differ, in their
# wall times only. The two landscape .h5 files differ run to run (HDF5 object times), hence presence only.
set -euo pipefail

usage() {
  echo "usage: $0 BINDIR OUTDIR | $0 --diff DIR_A DIR_B" >&2
  exit 2
}

if [[ ${1:-} == --diff ]]; then
  [[ $# -eq 3 ]] || usage
  [[ -d $2 && -d $3 ]] || { echo "$0: --diff needs two existing folders" >&2; exit 2; }
  exec /usr/bin/python3 - "$2" "$3" <<'PY'
import csv
import io
import os
import re
import sys

ROOTS = [os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])]
SKIP_DIRS = {"_meta"}  # logs, wall times and the binaries' folder of each run: not compared
CONTENT = (".csv", ".npy", ".json", ".txt", ".md", ".gp", ".pt")
BINARY = (".npy", ".pt")
# Wall-time columns, by exact header name: metrics.csv (seconds, images_per_second), eigenvalues.csv (seconds).
TIME_COLUMNS = {"seconds", "images_per_second"}
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\b")


def files(root):
    found = set()
    for d, dirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel == ".":
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
        for n in names:
            found.add(os.path.normpath(os.path.join(rel, n)))
    return found


def bindir(root):
    try:
        return open(os.path.join(root, "_meta", "bindir.txt")).read().strip()
    except OSError:
        return None


def normalise_text(text, root, rel):
    """The file's text with the run's own paths and dates masked, and the known time-carrying lines removed."""
    for path, name in ((root, "<OUTDIR>"), (os.path.realpath(root), "<OUTDIR>"), (bindir(root), "<BINDIR>")):
        if path:
            text = text.replace(path, name)
    text = DATE.sub("<date>", text)
    base = os.path.basename(rel)
    if base == "report.md":  # the reproduction's wall time of each stage: from its heading to the next section
        text = re.sub(r"(?ms)^## Wall time of each stage\n.*?(?=^## |\Z)", "## Wall time of each stage (masked)\n", text)
    if rel == os.path.join("stdout", "reproduce.txt"):
        text = re.sub(r"total \d+(\.\d+)? (min|s)\b", "total <time>", text)
    return text


def first_text_difference(a, b):
    la, lb = a.split("\n"), b.split("\n")
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "<end of file>"
        y = lb[i] if i < len(lb) else "<end of file>"
        if x != y:
            return i + 1, x, y
    return None


def csv_rows(text):
    """(line number, row) of each CSV record, the time columns removed by their header names."""
    reader = csv.reader(io.StringIO(text))
    rows, drop = [], set()
    for k, row in enumerate(reader):
        if k == 0:
            drop = {i for i, name in enumerate(row) if name.strip() in TIME_COLUMNS}
            rows.append((reader.line_num, row))  # the header is compared whole
            continue
        rows.append((reader.line_num, [v if i not in drop else "<time>" for i, v in enumerate(row)]))
    return rows


def first_csv_difference(a, b):
    ra, rb = csv_rows(a), csv_rows(b)
    for i in range(max(len(ra), len(rb))):
        x = ra[i] if i < len(ra) else None
        y = rb[i] if i < len(rb) else None
        if x is None or y is None or x[1] != y[1]:
            line = (x or y)[0]
            show = lambda r: "<end of file>" if r is None else ",".join(r[1])
            return line, show(x), show(y)
    return None


def first_npy_difference(pa, pb):
    try:
        import numpy as np
        a, b = np.load(pa, allow_pickle=False), np.load(pb, allow_pickle=False)
    except Exception as e:  # not loadable: report the byte offset
        return None, f"({e})"
    if a.dtype != b.dtype or a.shape != b.shape:
        return "header", f"{a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}"
    fa, fb = a.reshape(-1), b.reshape(-1)
    va, vb = fa.view(np.uint8).reshape(fa.size, -1), fb.view(np.uint8).reshape(fb.size, -1)
    idx = np.nonzero((va != vb).any(axis=1))[0]
    if idx.size == 0:
        return "header", "the same values, different header bytes"
    i = int(idx[0])
    at = np.unravel_index(i, a.shape) if a.ndim else ()
    return "element", f"{idx.size} of {fa.size} elements differ; first at {list(map(int, at))}: {fa[i]!r} vs {fb[i]!r}"


def truncate(s, n=400):
    return s if len(s) <= n else s[:n] + f"... ({len(s)} characters)"


fa, fb = files(ROOTS[0]), files(ROOTS[1])
only_a, only_b = sorted(fa - fb), sorted(fb - fa)
common = sorted(fa & fb)
compared, differing = 0, 0
by_type = {}
for rel in common:
    ext = os.path.splitext(rel)[1].lower()
    if ext not in CONTENT:
        continue
    compared += 1
    by_type[ext] = by_type.get(ext, 0) + 1
    pa, pb = (os.path.join(r, rel) for r in ROOTS)
    da, db = open(pa, "rb").read(), open(pb, "rb").read()
    if ext in BINARY:
        if da == db:
            continue
        differing += 1
        if ext == ".npy":
            kind, what = first_npy_difference(pa, pb)
            if kind is not None:
                print(f"DIFF {rel}: {what}")
                continue
        off = next((i for i in range(min(len(da), len(db))) if da[i] != db[i]), min(len(da), len(db)))
        print(f"DIFF {rel}: first differing byte at offset {off} (sizes {len(da)} and {len(db)})")
        continue
    ta = normalise_text(da.decode("utf-8", "replace"), ROOTS[0], rel)
    tb = normalise_text(db.decode("utf-8", "replace"), ROOTS[1], rel)
    found = first_csv_difference(ta, tb) if ext == ".csv" else first_text_difference(ta, tb)
    if found:
        differing += 1
        line, x, y = found
        print(f"DIFF {rel}: line {line}\n  A: {truncate(x)}\n  B: {truncate(y)}")
for rel in only_a:
    print(f"ONLY IN A: {rel}")
for rel in only_b:
    print(f"ONLY IN B: {rel}")
types = ", ".join(f"{n} {e}" for e, n in sorted(by_type.items()))
print(f"behaviour_compare: {compared} files compared ({types}); {len(common) - compared} more present on both sides "
      f"(png/html/h5, by presence); {differing} differ; {len(only_a)} only in A, {len(only_b)} only in B")
if differing or only_a or only_b:
    print("behaviour_compare: DIFFERENT")
    sys.exit(1)
print("behaviour_compare: IDENTICAL")
PY
fi

[[ $# -eq 2 ]] || usage
bin=$(cd "$1" && pwd)
out=$2
for p in anodiff-train anodiff-post-analysis anodiff-hessian anodiff-landscape anodiff-simplified-model \
         anodiff-reproduce; do
  [[ -x $bin/$p ]] || { echo "$0: $bin/$p: no such program" >&2; exit 2; }
done
if [[ -e $out && -n $(ls -A "$out") ]]; then
  echo "$0: $out exists and is not empty: give a new folder" >&2
  exit 2
fi
[[ -d /usr/share/datasets/fashion-mnist ]] || {
  echo "$0: /usr/share/datasets/fashion-mnist is absent (Debian's dataset-fashion-mnist)" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$out"
mkdir -p _meta stdout

# One thread everywhere: LibTorch's intra-op pool, OpenMP, OpenBLAS, MKL. The C locale for any formatting.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 LC_ALL=C
unset ANODIFF_TEST_KILL_AT_STEP OMPI_COMM_WORLD_SIZE PMIX_RANK PMI_SIZE

echo "$bin" > _meta/bindir.txt
{
  echo "bindir: $bin"
  echo "started: $(date -Is)"
  echo "host: $(uname -a)"
  echo "cores: $(nproc --all)"  # --all: nproc alone obeys OMP_NUM_THREADS=1
  echo "libs: $(ldd "$bin/anodiff-train" | grep -E 'anodiff|torch_cpu' | tr -s ' \t' ' ' | tr '\n' ';')"
} > _meta/environment.txt
printf 'step\tseconds\tcommand\n' > _meta/times.tsv

# step NAME PROGRAM ARGS...: runs BINDIR/PROGRAM under nice; stdout to stdout/NAME.txt, stderr to _meta.
step() {
  local name=$1 program=$2
  shift 2
  local t0 t1 code=0
  t0=$(date +%s.%N)
  nice -n 10 "$bin/$program" "$@" > "stdout/$name.txt" 2> "_meta/$name.stderr.log" || code=$?
  t1=$(date +%s.%N)
  local seconds
  seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  printf '%s\t%s\t%s %s\n' "$name" "$seconds" "$program" "$*" >> _meta/times.tsv
  if [[ $code -ne 0 ]]; then
    echo "behaviour_compare: $name: $program $* -> exit $code" >&2
    tail -n 20 "_meta/$name.stderr.log" >&2
    exit 1
  fi
  echo "behaviour_compare: $name: ${seconds} s"
}

run=train/resnet14_sgd_lr=0.1_bs=64_wd=0_mom=0_save_epoch=1
step train anodiff-train --model resnet14 --dataset fashion-mnist --epochs 4 --batch_size 64 --limit-train 2560 \
  --limit-test 256 --save-gradients --project 16 --device cpu --out train
[[ -d $run/trajectory && -f $run/checkpoints/model_epoch_4.pt ]] || {
  echo "behaviour_compare: train: no $run with its trajectory and checkpoint of epoch 4" >&2; exit 1; }
step post_analysis anodiff-post-analysis --trajectory $run/trajectory --part-length 40 --per-layer --out post_analysis
step post_analysis_demo anodiff-post-analysis --demo --out post_analysis_demo
step hessian anodiff-hessian --run $run --every 1 --num_eigenthings 3 --batch_size 16 --trace 3 --density 1 \
  --density-steps 8 --device cpu --out hessian
step landscape anodiff-landscape --run $run --epoch 4 --x -1:1:7 --y -1:1:7 --samples 64 --device cpu --out landscape
step simplified_model anodiff-simplified-model --seed 0 --repeats 20 --steps 500 --out simplified_model
step reproduce anodiff-reproduce --preset quick --device cpu --out reproduce
echo "finished: $(date -Is)" >> _meta/environment.txt
awk -F'\t' 'NR > 1 { total += $2 } END { printf "behaviour_compare: all steps %.1f s; outputs in '"$out"'\n", total }' \
  _meta/times.tsv
