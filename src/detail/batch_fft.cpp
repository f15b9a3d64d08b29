#include "detail/batch_fft.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace anodiff::detail {

namespace {

constexpr std::size_t W = BatchFft::lanes;

// The first radix-2 decimation-in-frequency stage on zero-padded input: (a, 0) -> (a, a w^j), j < n / 2.
// Compiled for AVX-512, AVX2+FMA and the baseline; the loader picks the best the CPU has.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void first_stage(double* __restrict re, double* __restrict im, std::size_t n, const double* __restrict wc,
                 const double* __restrict ws) {
  const std::size_t h = n / 2;
  for (std::size_t j = 0; j < h; ++j) {
    const double c = wc[j], sn = ws[j];
    const double* ar = re + j * W;
    const double* ai = im + j * W;
    double* br = re + (j + h) * W;
    double* bi = im + (j + h) * W;
    for (std::size_t l = 0; l < W; ++l) {
      br[l] = ar[l] * c - ai[l] * sn;
      bi[l] = ar[l] * sn + ai[l] * c;
    }
  }
}

// Two radix-2 DIF stages fused (half-widths 2q and q) on the quadruples (s+j, s+j+q, s+j+2q, s+j+3q): half the
// passes over memory of two separate stages, the same output order. W4 = exp(-2 pi i j / 4q), W2 = W4^2.
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
void fused_stage(double* __restrict re, double* __restrict im, std::size_t n, std::size_t q,
                 const double* __restrict wc, const double* __restrict ws, std::size_t stride, bool upper_zero) {
  for (std::size_t s = 0; s < n; s += 4 * q) {
    for (std::size_t j = 0; j < q; ++j) {
      const double c4 = wc[j * stride], s4 = ws[j * stride];
      const double c2 = wc[2 * j * stride], s2 = ws[2 * j * stride];
      double* r0 = re + (s + j) * W;
      double* i0 = im + (s + j) * W;
      double* r1 = r0 + q * W;
      double* i1 = i0 + q * W;
      double* r2 = r1 + q * W;
      double* i2 = i1 + q * W;
      double* r3 = r2 + q * W;
      double* i3 = i2 + q * W;
      for (std::size_t l = 0; l < W; ++l) {
        const double a2r = upper_zero ? 0.0 : r2[l], a2i = upper_zero ? 0.0 : i2[l];
        const double a3r = upper_zero ? 0.0 : r3[l], a3i = upper_zero ? 0.0 : i3[l];
        const double b0r = r0[l] + a2r, b0i = i0[l] + a2i;
        const double b1r = r1[l] + a3r, b1i = i1[l] + a3i;
        const double d2r = r0[l] - a2r, d2i = i0[l] - a2i;
        const double d3r = r1[l] - a3r, d3i = i1[l] - a3i;
        // b2 = d2 W4, b3 = d3 W4 (-i).
        const double b2r = d2r * c4 - d2i * s4, b2i = d2r * s4 + d2i * c4;
        const double e3r = d3r * c4 - d3i * s4, e3i = d3r * s4 + d3i * c4;
        const double b3r = e3i, b3i = -e3r;
        r0[l] = b0r + b1r;
        i0[l] = b0i + b1i;
        const double f1r = b0r - b1r, f1i = b0i - b1i;
        r1[l] = f1r * c2 - f1i * s2;
        i1[l] = f1r * s2 + f1i * c2;
        r2[l] = b2r + b3r;
        i2[l] = b2i + b3i;
        const double f3r = b2r - b3r, f3i = b2i - b3i;
        r3[l] = f3r * c2 - f3i * s2;
        i3[l] = f3r * s2 + f3i * c2;
      }
    }
  }
}

}  // namespace

BatchFft::BatchFft(std::size_t n) : n_(n) {
  if (n < 2 || (n & (n - 1)) != 0) {
    throw std::invalid_argument("BatchFft: the length must be a power of two >= 2, got " + std::to_string(n));
  }
  cos_.resize(n / 2);
  sin_.resize(n / 2);
  for (std::size_t j = 0; j < n / 2; ++j) {
    // Twiddles from long double, rounded once: each within half an ulp.
    const long double a = -2.0L * 3.141592653589793238462643383279502884L * static_cast<long double>(j) /
                          static_cast<long double>(n);
    cos_[j] = static_cast<double>(std::cos(a));
    sin_[j] = static_cast<double>(std::sin(a));
  }
  while ((std::size_t{1} << bits_) < n) ++bits_;
  bit_reverse_.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t r = 0;
    for (std::size_t b = 0; b < bits_; ++b) r |= ((k >> b) & 1u) << (bits_ - 1 - b);
    bit_reverse_[k] = r;
  }
}

void BatchFft::forward_zero_padded(double* re, double* im) const {
  // When log2 n is odd, one radix-2 stage first, then fused pairs of stages; the first stage of either kind knows
  // that the upper half is zero.
  std::size_t h = n_ / 2, stride = 1;
  bool upper_zero = true;
  if (bits_ % 2 == 1) {
    first_stage(re, im, n_, cos_.data(), sin_.data());
    h /= 2, stride *= 2, upper_zero = false;
  }
  for (; h >= 2; h /= 4, stride *= 4, upper_zero = false) {
    fused_stage(re, im, n_, h / 2, cos_.data(), sin_.data(), stride, upper_zero);
  }
}

}  // namespace anodiff::detail
