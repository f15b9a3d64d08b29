#!/usr/bin/env bash
# The sanitizer part of scripts/test.sh (docs/robustness.md): anodiff::core and its tests built with AddressSanitizer
# and UndefinedBehaviorSanitizer (any finding aborts) in ./build-asan with clang, together with the fuzz targets of
# fuzz/; then the core tests and a smoke run of each fuzz target (a fixed number of executions). Idempotent: a second
# run rebuilds what changed. Without clang: gcc, the sanitizers alone, no fuzz targets.
# Bounded: about 6 minutes to build from scratch on 2 cores, 4 to test. The statistical tests below (thousands of
# samples through the same loops, minutes each under ASan) run in ./build only.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v clang++ >/dev/null; then
  compiler=(-DCMAKE_CXX_COMPILER=clang++ -DANODIFF_BUILD_FUZZERS=ON) lines=-gline-tables-only
else
  echo "test_sanitizers.sh: no clang++ (Debian: apt-get install clang libclang-rt-dev libomp-dev): gcc, no fuzz targets"
  compiler=(-DCMAKE_CXX_COMPILER=g++ -DANODIFF_SANITIZE=ON -DANODIFF_BUILD_FUZZERS=OFF) lines=-g1
fi
# -O2 with line tables (no full debug information: a third of the build time), assertions on.
cmake -S . -B build-asan "${compiler[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $lines" -DANODIFF_WITH_TORCH=OFF -DANODIFF_BUILD_EXAMPLES=OFF \
  -DANODIFF_WITH_PYTHON=OFF -DANODIFF_INSTALL=OFF -DANODIFF_WITH_MPI=OFF >/dev/null
cmake --build build-asan -j2
slow='^(roughness: spectral surfaces|fit: a known two-regime MSD under per-snapshot jitter|pair distances: the Gram fast path'
slow+='|msd: fractional Brownian motion|random projection: the MSD of a sketched trajectory)'
cd build-asan
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} ctest --output-on-failure -j2 -L 'core|fuzz' -E "$slow" --timeout 600
