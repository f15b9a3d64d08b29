#include "detail/pair_helpers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "detail/log_bins.hpp"

namespace anodiff::detail {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

void require_part(const WeightTrajectory& t, std::size_t first, std::size_t count) {
  if (count < 2) {
    throw std::invalid_argument(fmt::format("pair statistics need at least 2 snapshots, got {}", count));
  }
  if (first + count > t.size()) {
    throw std::invalid_argument(
        fmt::format("part [{}, {}) lies outside the trajectory of {} snapshots", first, first + count, t.size()));
  }
}

// Columns per block: the block of count x width doubles stays near 32 MB.
std::size_t block_width(std::size_t count, std::size_t dimension) {
  const std::size_t target = (std::size_t{32} << 20) / (8 * count);
  return std::clamp<std::size_t>(target / 64 * 64, 64, std::max<std::size_t>(dimension, 64));
}

// Edges of `bins` bins over [lo, hi]; logarithmic bins need lo > 0.
std::vector<double> bin_edges(double lo, double hi, std::size_t bins, Binning binning) {
  std::vector<double> e(bins + 1);
  if (!(hi > lo)) hi = lo + (lo == 0 ? 1.0 : std::fabs(lo) * 1e-9);
  const detail::LogBins log_bins{lo, hi, bins};
  for (std::size_t b = 0; b <= bins; ++b) {
    const double f = static_cast<double>(b) / static_cast<double>(bins);
    e[b] = binning == Binning::linear ? lo + f * (hi - lo) : log_bins.edge(b);
  }
  e.back() = hi;
  return e;
}

std::size_t bin_of(const std::vector<double>& edges, double v) {
  auto it = std::upper_bound(edges.begin(), edges.end(), v);
  std::size_t b = static_cast<std::size_t>(it - edges.begin());
  b = b == 0 ? 0 : b - 1;
  return std::min(b, edges.size() - 2);
}

BinnedCurve make_binned(const std::vector<double>& edges) {
  BinnedCurve c;
  const std::size_t bins = edges.size() - 1;
  c.lo.assign(edges.begin(), edges.end() - 1);
  c.hi.assign(edges.begin() + 1, edges.end());
  c.x.assign(bins, 0.0);
  c.mean.assign(bins, 0.0);
  c.count.assign(bins, 0);
  return c;
}

void finish_binned(BinnedCurve& c) {
  for (std::size_t b = 0; b < c.count.size(); ++b) {
    if (c.count[b] == 0) {
      c.x[b] = c.mean[b] = kNaN;
    } else {
      c.x[b] /= static_cast<double>(c.count[b]);
      c.mean[b] /= static_cast<double>(c.count[b]);
    }
  }
}
// Histograms of sqrt(squared[k]) (the displacements at the k-th lag of `lags` in [1, n)), as
// displacement_histograms(): log bins common to all lags, with `rescale` divided by sqrt(msd[lag]).
std::vector<DisplacementHistogram> histograms_from_samples(const std::vector<std::vector<double>>& squared,
                                                           const std::vector<std::size_t>& lags, std::size_t n,
                                                           const std::vector<double>& msd, bool rescale,
                                                           std::size_t bins) {
  std::vector<DisplacementHistogram> out;
  double lo = std::numeric_limits<double>::infinity();
  double hi = 0.0;
  for (std::size_t lag : lags) {
    if (lag == 0 || lag >= n) continue;
    const auto& sq = squared[out.size()];
    DisplacementHistogram h;
    h.lag = lag;
    h.scale = rescale && msd[lag] > 0 ? std::sqrt(msd[lag]) : 1.0;
    for (std::size_t i = 0; i + lag < n; ++i) {
      const double r = std::sqrt(sq[i]) / h.scale;
      if (r > 0) lo = std::min(lo, r);
      hi = std::max(hi, r);
    }
    out.push_back(std::move(h));
  }
  if (out.empty() || !(hi > 0)) return out;
  const auto edges = bin_edges(lo, hi, bins, Binning::logarithmic);
  for (std::size_t k = 0; k < out.size(); ++k) {
    auto& h = out[k];
    h.lo.assign(edges.begin(), edges.end() - 1);
    h.hi.assign(edges.begin() + 1, edges.end());
    h.count.assign(bins, 0);
    h.density.assign(bins, 0.0);
    std::size_t used = 0;
    for (double sq : squared[k]) {
      const double r = std::sqrt(sq) / h.scale;  // the same value as above
      if (!(r > 0)) continue;
      ++h.count[bin_of(edges, r)];
      ++used;
    }
    for (std::size_t b = 0; b < bins; ++b) {
      h.density[b] = used ? static_cast<double>(h.count[b]) / (static_cast<double>(used) * (h.hi[b] - h.lo[b])) : 0;
    }
  }
  return out;
}

// The column-major n x n Gram matrix of the increments, C(k, c) = v_k . v_c at k + c n for 1 <= k <= c (its other
// entries unused), turned in place into the squared distances d(i, c) = |w_c - w_i|^2 at i + c n for i < c, zero
// elsewhere: S(i, c) = sum_{k=i+1}^{c-1} C(k, c) in place of C(i, c), then d(i, c) = d(i, c-1) + 2 S(i, c) + C(c, c)
// with d(c-1, c-1) = 0, column by column (accurate relative to each distance, docs/pair_statistics.md).
void increments_to_distances(double* g, std::size_t n) {
  for (std::size_t c = 1; c < n; ++c) {
    double* col = g + c * n;
    double running = 0.0;
    for (std::size_t i = c; i-- > 0;) {
      const double cic = i >= 1 ? col[i] : 0.0;
      col[i] = running;
      running += cic;
    }
  }
  for (std::size_t c = 1; c < n; ++c) {
    double* col = g + c * n;
    const double* prev = g + (c - 1) * n;
    const double ccc = col[c];
    for (std::size_t i = 0; i + 1 < c; ++i) col[i] = prev[i] + 2.0 * col[i] + ccc;
    col[c - 1] = ccc;
    col[c] = 0.0;
  }
  // The unused lower triangle and diagonal cleared: the matrix holds distances only.
  for (std::size_t c = 0; c < n; ++c) std::fill(g + c * n + c, g + (c + 1) * n, 0.0);
}

}  // namespace anodiff::detail
