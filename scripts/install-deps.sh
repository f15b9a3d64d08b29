#!/usr/bin/env bash
# Installs every Debian 12 package anodiff needs to build, test, run its examples and benchmarks.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libtorch-dev libeigen3-dev libspectra-dev libfmt-dev catch2 libboost-program-options-dev
  libopenblas0-openmp gnuplot-nox dataset-fashion-mnist
  python3-numpy python3-torch python3-scipy zlib1g-dev
  python3-dev pybind11-dev python3-pybind11 python3-pytest python3-matplotlib
  python3-nbclient python3-nbformat python3-ipykernel python3-venv python3-setuptools python3-wheel python3-pip
  libopenmpi-dev openmpi-bin
  libhdf5-dev libmatio-dev python3-h5py
  clang clang-tidy libclang-rt-dev libomp-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# libopenblas0-openmp must provide libblas.so.3 (the -pthread variant or reference BLAS slow LibTorch down 3x).
for lib in libblas.so.3 liblapack.so.3; do
  alt=$(update-alternatives --list "${lib}-x86_64-linux-gnu" 2>/dev/null | grep openblas-openmp | head -n 1 || true)
  if [[ -n "$alt" ]]; then update-alternatives --set "${lib}-x86_64-linux-gnu" "$alt" >/dev/null; fi
done
