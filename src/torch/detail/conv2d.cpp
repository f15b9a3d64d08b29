#include "torch/detail/conv2d.hpp"

#include <vector>

namespace anodiff::detail {

namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Geometry {
  std::int64_t stride, padding;
};

Geometry geometry_of(AutogradContext* ctx) {
  return {ctx->saved_data["stride"].toInt(), ctx->saved_data["padding"].toInt()};
}

void save_geometry(AutogradContext* ctx, Geometry g) {
  ctx->saved_data["stride"] = g.stride;
  ctx->saved_data["padding"] = g.padding;
}

Tensor convolve(const Tensor& x, const Tensor& w, Geometry g) {
  return at::convolution(x, w, c10::nullopt, {g.stride, g.stride}, {g.padding, g.padding}, {1, 1}, false, {0, 0}, 1);
}

// (d/dx, d/dw) of <gO, conv(x, w)>, only those asked for (the others undefined).
std::tuple<Tensor, Tensor, Tensor> convolution_grads(const Tensor& gO, const Tensor& x, const Tensor& w, Geometry g,
                                                     bool want_x, bool want_w) {
  return at::convolution_backward(gO, x, w, c10::nullopt, {g.stride, g.stride}, {g.padding, g.padding}, {1, 1},
                                  false, {0, 0}, 1, {want_x, want_w, false});
}

// The backward of a convolution as a differentiable function: (gO, x, w) -> (dx, dw).
struct ConvolutionBackward : torch::autograd::Function<ConvolutionBackward> {
  static variable_list forward(AutogradContext* ctx, const Tensor& gO, const Tensor& x, const Tensor& w,
                               std::int64_t stride, std::int64_t padding, bool want_x, bool want_w) {
    const Geometry g{stride, padding};
    save_geometry(ctx, g);
    ctx->save_for_backward({gO, x, w});
    auto [dx, dw, unused] = convolution_grads(gO, x, w, g, want_x, want_w);
    (void)unused;
    // A custom function's outputs must be defined: an empty tensor stands for one not asked for.
    return {dx.defined() ? dx : torch::empty({0}, gO.options()), dw.defined() ? dw : torch::empty({0}, w.options())};
  }

  // Given ggx = d/d(dx) and ggw = d/d(dw) of the outer scalar:
  //   d/d(gO) = conv(ggx, w) + conv(x, ggw),
  //   d/dx    = grad_input of <gO, conv(x, ggw)>,  d/dw = grad_weight of <gO, conv(ggx, w)>.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &gO = saved[0], &x = saved[1], &w = saved[2];
    const Geometry g = geometry_of(ctx);
    const Tensor ggx = grads[0].defined() && grads[0].numel() > 0 ? grads[0] : Tensor();
    const Tensor ggw = grads[1].defined() && grads[1].numel() > 0 ? grads[1] : Tensor();
    Tensor d_gO, d_x, d_w;
    if (ggx.defined()) d_gO = convolve(ggx, w, g);
    if (ggw.defined()) {
      const Tensor t = convolve(x, ggw, g);
      d_gO = d_gO.defined() ? d_gO + t : t;
      if (ctx->needs_input_grad(1)) d_x = std::get<0>(convolution_grads(gO, x, ggw, g, true, false));
    }
    if (ggx.defined() && ctx->needs_input_grad(2)) d_w = std::get<1>(convolution_grads(gO, ggx, w, g, false, true));
    return {d_gO, d_x, d_w, Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

struct Convolution : torch::autograd::Function<Convolution> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& w, std::int64_t stride,
                        std::int64_t padding) {
    save_geometry(ctx, {stride, padding});
    ctx->save_for_backward({x, w});
    return convolve(x, w, {stride, padding});
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Geometry g = geometry_of(ctx);
    const auto d = ConvolutionBackward::apply(grads[0], saved[0], saved[1], g.stride, g.padding,
                                              ctx->needs_input_grad(0), ctx->needs_input_grad(1));
    return {d[0].numel() > 0 ? d[0] : Tensor(), d[1].numel() > 0 ? d[1] : Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

torch::Tensor conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     std::int64_t stride, std::int64_t padding) {
  auto y = Convolution::apply(x, weight, stride, padding);
  if (bias.defined()) y = y + bias.view({1, -1, 1, 1});
  return y;
}

}  // namespace anodiff::detail
