#pragma once
// Private: the one layout of logarithmic bins, shared by every log-binned curve and histogram of anodiff
// (pair_helpers.cpp, pair_tiles.cpp, roughness.cpp, simplified_model.cpp).
#include <algorithm>
#include <cmath>
#include <cstddef>

namespace anodiff::detail {

/// `bins` (>= 1) logarithmic bins over [lo, hi], 0 < lo < hi: bin b spans [edge(b), edge(b + 1)).
struct LogBins {
  double lo = 1;         ///< Lower edge of the first bin.
  double hi = 2;         ///< Upper edge of the last bin.
  std::size_t bins = 1;  ///< Number of bins.

  /// Edge k = 0..bins: lo (hi / lo)^(k / bins).
  [[nodiscard]] double edge(std::size_t k) const { return lo * std::pow(hi / lo, double(k) / double(bins)); }

  /// The bin of v in [lo, hi]: floor(bins ln(v / lo) / ln(hi / lo)), hi in the last bin. Near an edge this may differ
  /// by one from a search over the computed edges (rounding); callers that need the edges' bin search them.
  [[nodiscard]] std::size_t index(double v) const {
    return std::min(bins - 1, std::size_t(std::floor(std::log(v / lo) / std::log(hi / lo) * double(bins))));
  }
};

}  // namespace anodiff::detail
