#include "anodiff/torch/parameters.hpp"

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <torch/torch.h>

namespace anodiff {

std::size_t parameter_count(const torch::nn::Module& module) {
  std::size_t n = 0;
  for (const auto& p : module.parameters()) n += static_cast<std::size_t>(p.numel());
  return n;
}

torch::Tensor parameter_snapshot(const torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat;
  for (const auto& p : module.parameters()) flat.push_back(p.detach().reshape({-1}).to(torch::kFloat32));
  return torch::cat(flat);
}

void flatten_parameters(const torch::nn::Module& module, std::vector<float>& out) {
  out.resize(parameter_count(module));
  torch::NoGradGuard no_grad;
  const auto params = module.parameters();
  if (!params.empty() && !params.front().device().is_cpu()) {
    // One concatenation on the device and one copy to the host, instead of a transfer per tensor.
    const auto host = parameter_snapshot(module).to(torch::kCPU);
    std::memcpy(out.data(), host.data_ptr<float>(), out.size() * sizeof(float));
    return;
  }
  std::size_t offset = 0;
  for (const auto& p : params) {
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
