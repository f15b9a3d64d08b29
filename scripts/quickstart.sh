#!/usr/bin/env bash
# The main job on its built-in default, from a fresh Debian 12 machine: installs the dependencies, builds, and runs
# the post-analysis of the built-in synthetic trajectory into runs/demo. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/examples/anodiff-post-analysis --demo --out runs/demo
echo "Results (CSV, PNG and the gnuplot scripts) are in $(pwd)/runs/demo"
