#pragma once
// A 2-D convolution whose second derivative avoids LibTorch's slow transposed-convolution path (internal).
#include <cstdint>

#include <torch/torch.h>

namespace anodiff::detail {

/// conv2d(x, weight) + bias with its own autograd formulas: the backward is one `convolution_backward` call (as
/// LibTorch's), and the backward of the backward - what a Hessian-vector product by double backward runs - uses
/// forward convolutions and `convolution_backward` (oneDNN on a CPU) where LibTorch 1.13 falls back to the
/// unvectorised `slow_conv_transpose2d`. Values are the same as torch::conv2d's.
torch::Tensor conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     std::int64_t stride, std::int64_t padding);

}  // namespace anodiff::detail
