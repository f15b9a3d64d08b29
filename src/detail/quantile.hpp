#pragma once
// Private: quantiles of sorted samples.
#include <cstddef>
#include <vector>

namespace anodiff::detail {

/// The q-quantile (0 <= q <= 1) of non-empty `sorted` values, interpolating linearly between order statistics.
inline double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const std::size_t k = static_cast<std::size_t>(pos);
  return k + 1 < sorted.size() ? sorted[k] + (pos - static_cast<double>(k)) * (sorted[k + 1] - sorted[k]) : sorted[k];
}

}  // namespace anodiff::detail
