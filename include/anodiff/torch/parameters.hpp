#pragma once
/// \file parameters.hpp  (anodiff::anodiff) The flattened parameter vector theta of a LibTorch module.
#include <cstddef>
#include <vector>

#include <torch/nn/module.h>

namespace anodiff {

/// Number of values in all parameters() of `module` (BN affine included, running statistics excluded).
std::size_t parameter_count(const torch::nn::Module& module);

/// All parameters() of `module`, in registration order, as one new float32 tensor on their device: a copy, which
/// later updates of the parameters do not reach. Queued, not waited for, on a GPU.
torch::Tensor parameter_snapshot(const torch::nn::Module& module);

/// Copies all parameters() of `module`, in registration order, into `out` (resized to parameter_count) as float32.
void flatten_parameters(const torch::nn::Module& module, std::vector<float>& out);

/// Writes `theta` (parameter_count values, the order of flatten_parameters) back into the parameters of `module`.
/// Throws std::invalid_argument if the size differs.
void assign_parameters(torch::nn::Module& module, const std::vector<float>& theta);

}  // namespace anodiff
