#!/usr/bin/env bash
# Installs the dependencies, builds anodiff with its tests, and runs every test (ctest). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DANODIFF_BUILD_TESTS=ON -DANODIFF_WITH_MPI=ON
cd build
ctest --output-on-failure -j2
