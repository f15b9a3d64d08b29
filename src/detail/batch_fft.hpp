#pragma once
// Batched complex FFT of power-of-two length over 8 lanes at once (internal to anodiff::core).
#include <cstddef>
#include <vector>

namespace anodiff::detail {

/// Complex FFT of length n (a power of two, at least 2) applied to `lanes` = 8 signals at once, in place, on split
/// real/imaginary arrays laid out [n][8]. Decimation in frequency: the output is in bit-reversed order
/// (output slot k holds frequency bit_reverse(k)).
class BatchFft {
 public:
  /// Number of signals transformed together.
  static constexpr std::size_t lanes = 8;
  /// Plans a transform of length n; throws std::invalid_argument unless n is a power of two >= 2.
  explicit BatchFft(std::size_t n);
  /// Forward transform (exponent -2 pi i k n / N) of re/im, each n * lanes doubles, of signals zero-padded to twice
  /// their length: only the first n / 2 rows are read (the rest are taken as zero and overwritten).
  void forward_zero_padded(double* re, double* im) const;
  /// Frequency held by output slot k.
  [[nodiscard]] std::size_t frequency(std::size_t k) const { return bit_reverse_[k]; }

 private:
  std::size_t n_, bits_ = 0;                // n = 2^bits
  std::vector<double> cos_, sin_;          // twiddles w^j = exp(-2 pi i j / n), j < n / 2
  std::vector<std::size_t> bit_reverse_;
};

}  // namespace anodiff::detail
