#!/usr/bin/env bash
# GPU check (docs/gpu.md): builds anodiff against the machine's PyTorch LibTorch (CUDA) with the Debian packages
# carried in .deps/debs, then times a ResNet-20 training step and a short Trainer run with recording, beside the
# same step in Python on the same GPU, and the top-20 Hessian eigenvalues of a ResNet-20 by Lanczos and by deflated
# power iteration at the same tolerance. Usage: gpu_check.sh [step] [trainer] [hessian] (default all three).
# Writes its log to $OUT/gpu_check.log.
set -u
out=${OUT:-/tmp}
log=$out/gpu_check.log
exec > >(tee "$log") 2>&1
set -x
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
g++ --version | head -n 1; cmake --version | head -n 1; nproc
python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available(), torch._C._GLIBCXX_USE_CXX11_ABI)'
root=$PWD/.deps/root
mkdir -p "$root"
for f in .deps/debs/*.deb; do dpkg -x "$f" "$root"; done
abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
torchlib=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
libdir=$root/usr/lib/x86_64-linux-gnu
headeronly=OFF; [[ $abi == 0 ]] && headeronly=ON
zlib=$libdir/libz.a; for z in /usr/lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1; do [[ -e $z ]] && zlib=$z && break; done
configure() {
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DANODIFF_BUILD_EXAMPLES=OFF -DANODIFF_BUILD_TESTS=OFF \
    -DANODIFF_BUILD_BENCHMARKS=ON -DANODIFF_FMT_HEADER_ONLY=$headeronly -DCMAKE_CXX_STANDARD=$1 \
    -DCMAKE_CXX_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=$abi" -DCMAKE_PREFIX_PATH="$prefix;$root/usr" \
    -DEigen3_DIR=$root/usr/share/eigen3/cmake -Dfmt_DIR=$libdir/cmake/fmt -DSpectra_DIR=$root/usr/share/spectra/cmake \
    -DBLAS_LIBRARIES=$libdir/blas/libblas.so.3 -DZLIB_INCLUDE_DIR=$root/usr/include -DZLIB_LIBRARY=$zlib
}
build() { cmake --build build-gpu -j 16 --target bench_train_step bench_trainer_run bench_hessian 2>&1 | grep -E 'error|Error|Built target' | head -n 40; }
{ configure 17 && build && [[ -x build-gpu/benchmarks/bench_train_step ]]; } || { rm -rf build-gpu; configure 20 && build; }
export LD_LIBRARY_PATH=$libdir:$libdir/blas:$torchlib:${LD_LIBRARY_PATH:-}
export ANODIFF_PYTHON=$(command -v python3)
cd build-gpu/benchmarks || exit 1
checks=${*:-step trainer hessian}
if [[ $checks == *step* ]]; then
  timeout 240 ./bench_train_step resnet20 128,1024 20 cuda
fi
if [[ $checks == *trainer* ]]; then
  timeout 120 ./bench_trainer_run resnet20 128 2 cuda 20480
  timeout 120 ./bench_trainer_run resnet20 1024 2 cuda 20480
fi
if [[ $checks == *hessian* ]]; then
  # Lanczos, then power iteration stopping on the same residual rule (at most 500 products per eigenvalue), then
  # the study's rule (relative change, 20 products per eigenvalue). The Python reference runs on the CPU: skipped.
  timeout 300 ./bench_hessian 20 1e-4 residual resnet20 128 cuda 500 0
  timeout 120 ./bench_hessian 20 1e-4 study resnet20 128 cuda 20 0
fi
