// A user of anodiff::anodiff: the flattened parameter vector of a LibTorch module.
#include <cstdio>

#include <anodiff/torch.hpp>
#include <torch/torch.h>

int main() {
  torch::nn::Linear layer(4, 3);
  const auto n = anodiff::parameter_count(*layer);
  std::printf("consumer_torch: %zu parameters (expected 15)\n", n);
  return n == 15 ? 0 : 1;
}
