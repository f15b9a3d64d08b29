#!/usr/bin/env bash
# Installs the dependencies, builds anodiff with its tests, and runs every test (ctest). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DANODIFF_BUILD_TESTS=ON -DANODIFF_WITH_MPI=ON
cd build
# Two tests at a time, one thread each: two LibTorch/OpenMP processes with two threads each on two cores spin against
# each other and run many times slower.
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} ctest --output-on-failure -j2
cd ..
# anodiff::core and its tests again under AddressSanitizer + UndefinedBehaviorSanitizer, and a smoke run of each fuzz
# target (docs/robustness.md), in ./build-asan.
bash scripts/test_sanitizers.sh
