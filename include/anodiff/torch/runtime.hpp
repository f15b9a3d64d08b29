#pragma once
/// \file runtime.hpp  (anodiff::anodiff) Process-wide settings that LibTorch work on a CPU needs to run fast.

#include <string>

#include <torch/types.h>

namespace anodiff {

/// The device named "cpu", "cuda" or "auto" (CUDA when LibTorch sees a GPU, else the CPU). Throws
/// std::invalid_argument for another name, or for "cuda" when no CUDA device is there.
torch::Device choose_device(const std::string& name);

/// Sets LibTorch's intra-op threads to the number of cores unless OMP_NUM_THREADS is set (Debian's LibTorch
/// otherwise starts with one thread on some machines).
void use_all_cores();

/// Makes glibc keep freed memory for reuse instead of returning it to the kernel (no mmap for large blocks, a large
/// trim threshold): a training step otherwise spends much of its time in page faults on fresh activation buffers
/// (docs/performance.md). The process keeps its peak memory.
void keep_freed_memory();

}  // namespace anodiff
