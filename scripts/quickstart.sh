#!/usr/bin/env bash
# The main job on its built-in default, from a fresh Debian 12 machine: installs the dependencies, builds, and runs
# the quick reproduction of the study (anodiff-reproduce --preset quick) into runs/quick. Idempotent: a second run
# resumes or redoes only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/examples/anodiff-reproduce --preset quick --out runs/quick
echo "The report is $(pwd)/runs/quick/report.html (also report.md), beside every CSV and PNG it shows."
