#include "anodiff/torch/runtime.hpp"

#include <malloc.h>

#include <cstdlib>
#include <thread>

#include <stdexcept>

#include <fmt/format.h>
#include <torch/torch.h>

namespace anodiff {

torch::Device choose_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda" || name == "auto") {
    if (torch::cuda::is_available()) return torch::kCUDA;
    if (name == "cuda") {
      throw std::invalid_argument("device 'cuda': this LibTorch sees no CUDA device (Debian's libtorch is CPU-only)");
    }
    return torch::kCPU;
  }
  throw std::invalid_argument(fmt::format("device must be cpu, cuda or auto, got '{}'", name));
}

void use_all_cores() {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return;
  const unsigned cores = std::thread::hardware_concurrency();
  if (cores > 0 && torch::get_num_threads() < int(cores)) torch::set_num_threads(int(cores));
}

void keep_freed_memory() {
  mallopt(M_MMAP_MAX, 0);                // large blocks from the heap too, so that they can be reused
  mallopt(M_TRIM_THRESHOLD, 1 << 30);    // return memory to the kernel only above 1 GiB of free heap top
  mallopt(M_TOP_PAD, 256 << 20);         // grow the heap in large steps
}

}  // namespace anodiff
