#include "anodiff/runtime.hpp"

#include <malloc.h>

#include <cstdlib>
#include <thread>

#include <torch/torch.h>

namespace anodiff {

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
