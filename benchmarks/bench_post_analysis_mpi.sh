#!/usr/bin/env bash
# anodiff-post-analysis of one part under `mpirun -np 2` (coordinate shards, one thread per rank) against one process
# with 2 threads: the MPI overhead (start-up, MPI_Init, the reductions, MPI_Finalize) relative to the one-process time
# (issue 16's target: at most 10%). Best of REPEATS wall-clock runs of the whole program each, interleaved; the
# launcher's own start-up (`mpirun -np 2 /bin/true`) printed beside them; every CSV of the two runs compared.
# Usage: benchmarks/bench_post_analysis_mpi.sh [BUILD_DIR [P [D [REPEATS]]]]
#   defaults: build, P = 1000 snapshots, D = 272474 (ResNet-20's parameters: the study's part), 3 repeats.
# Needs an MPI build (-DANODIFF_WITH_MPI=ON) and /usr/bin/python3 with numpy; the part (P x D float32, 1.09 GB by
# default) is written to a temporary directory and removed at the end.
set -eu
build=${1:-build}
P=${2:-1000}
D=${3:-272474}
repeats=${4:-3}
bin=$(cd "$build" && pwd)/examples/anodiff-post-analysis
[ -x "$bin" ] || { echo "no $bin: build first" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d /tmp/anodiff_bench_mpi.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work" "$P" "$D" <<'PY'
import sys
import numpy as np
work, P, D = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(16)
x = np.lib.format.open_memmap(f"{work}/part.npy", mode="w+", dtype=np.float32, shape=(P, D))
row = np.zeros(D, np.float32)
scale = (rng.random(D) ** 2).astype(np.float32)  # coordinates with different step sizes
for t in range(P):
    row += rng.standard_normal(D, dtype=np.float32) * scale
    x[t] = row
x.flush()
np.save(f"{work}/loss.npy", 2.0 / (1.0 + 0.01 * np.arange(P)) + 0.01 * rng.random(P))
PY
args=(--trajectory "$work/part.npy" --loss "$work/loss.npy" --no-plots)
seconds() {  # seconds RUN...: the wall time of one run (its output discarded)
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  e=$(date +%s.%N)
  echo "$e - $s" | bc
}
best() { sort -g | head -1; }
: >"$work/one" ; : >"$work/mpi"; : >"$work/launch"
cat "$work/part.npy" >/dev/null  # in the page cache for every run
for ((k = 0; k < repeats; ++k)); do
  OMP_NUM_THREADS=2 seconds "$bin" "${args[@]}" --out "$work/one_out" >>"$work/one"
  OMP_NUM_THREADS=1 seconds mpirun -np 2 "$bin" "${args[@]}" --out "$work/mpi_out" >>"$work/mpi"
  seconds mpirun -np 2 /bin/true >>"$work/launch"
done
one=$(best <"$work/one"); mpi=$(best <"$work/mpi"); launch=$(best <"$work/launch")
/usr/bin/python3 - "$work/one_out" "$work/mpi_out" <<'PY'
import csv, math, os, sys
a, b = sys.argv[1], sys.argv[2]
worst, where = 0.0, "none"
for f in sorted(x for x in os.listdir(a) if x.endswith(".csv")):
    ra, rb = list(csv.reader(open(os.path.join(a, f)))), list(csv.reader(open(os.path.join(b, f))))
    assert len(ra) == len(rb), f
    for x, y in zip(ra, rb):
        for col, u, v in zip(ra[0], x, y):
            try:
                u, v = float(u), float(v)
            except ValueError:
                assert u == v, (f, u, v)
                continue
            if math.isnan(u) != math.isnan(v) or (math.isinf(u) or math.isinf(v)) and u != v:
                sys.exit(f"{f}, column {col}: {u} against {v}")
            if math.isfinite(u) and u != v and abs(u - v) / max(abs(u), abs(v)) > worst:
                worst, where = abs(u - v) / max(abs(u), abs(v)), f"{f}, column {col}"
if worst > 1e-6:  # the two-regime fit's error columns come from an iterative optimiser: 1e-7 here
    sys.exit(f"the two runs differ: {worst:.1e} relative ({where})")
print(f"every CSV of the two runs agrees: largest relative difference {worst:.1e} ({where})")
PY
echo "part: $P snapshots x $D parameters (float32), best of $repeats, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), AVX-512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)"
printf "one process, 2 threads:        %.3f s\n" "$one"
printf "mpirun -np 2, 1 thread a rank: %.3f s\n" "$mpi"
printf "mpirun -np 2 /bin/true:        %.3f s (the launcher alone)\n" "$launch"
printf "MPI overhead: %+.1f%% of the one-process time (target at most 10%%)\n" "$(echo "100 * ($mpi - $one) / $one" | bc -l)"
