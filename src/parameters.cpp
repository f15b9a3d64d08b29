#include "anodiff/parameters.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <torch/torch.h>

namespace anodiff {

std::size_t parameter_count(const torch::nn::Module& module) {
  std::size_t n = 0;
  for (const auto& p : module.parameters()) n += static_cast<std::size_t>(p.numel());
  return n;
}

void flatten_parameters(const torch::nn::Module& module, std::vector<float>& out) {
  out.resize(parameter_count(module));
  std::size_t offset = 0;
  torch::NoGradGuard no_grad;
  for (const auto& p : module.parameters()) {
    const auto n = p.numel();
    auto dst = torch::from_blob(out.data() + offset, {n}, torch::kFloat32);
    dst.copy_(p.detach().reshape({n}));
    offset += static_cast<std::size_t>(n);
  }
}

void assign_parameters(torch::nn::Module& module, const std::vector<float>& theta) {
  const std::size_t n = parameter_count(module);
  if (theta.size() != n) {
    throw std::invalid_argument(
        fmt::format("assign_parameters: the module has {} parameters, the vector {}", n, theta.size()));
  }
  std::size_t offset = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    const auto count = p.numel();
    auto src = torch::from_blob(const_cast<float*>(theta.data()) + offset, {count}, torch::kFloat32);
    p.copy_(src.reshape(p.sizes()).to(p.dtype()));
    offset += static_cast<std::size_t>(count);
  }
}

}  // namespace anodiff
