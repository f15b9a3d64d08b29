#!/usr/bin/env bash
# Prepares, on a Debian 12 machine, what scripts/gpu_study.sh carries to the GPU machine in the working tree's ignored
# .deps/: Fashion-MNIST's training files (from Debian's dataset-fashion-mnist) in .deps/fashion-mnist, and the Debian
# packages that anodiff::core, its Python module and anodiff-post-analysis build against in .deps/debs (Eigen, fmt,
# Spectra, reference BLAS, zlib, Boost.Program_options, pybind11), unpacked there only where the machine lacks them.
# Prints the size to carry (the device tool carries at most 64 MiB). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
data=/usr/share/datasets/fashion-mnist
if [[ ! -e $data/train-images-idx3-ubyte.gz ]]; then
  echo "gpu_study_prepare.sh: $data: no Fashion-MNIST (apt-get install dataset-fashion-mnist)" >&2
  exit 2
fi
mkdir -p .deps/fashion-mnist .deps/debs
cp -u "$data"/train-images-idx3-ubyte.gz "$data"/train-labels-idx1-ubyte.gz .deps/fashion-mnist/
packages=(libeigen3-dev libfmt-dev libfmt9 libspectra-dev libblas-dev libblas3 zlib1g-dev libboost1.74-dev
          libboost-program-options1.74-dev libboost-program-options1.74.0 pybind11-dev)
(cd .deps/debs && for p in "${packages[@]}"; do ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -q "$p"; done)
echo "gpu_study_prepare.sh: .deps holds $(du -sh .deps/fashion-mnist | cut -f1) of data and $(du -sh .deps/debs | cut -f1) of packages;" \
     "carry .deps/fashion-mnist and .deps/debs (scripts/gpu_study.sh; docs/gpu.md)"
