#include "anodiff/pair_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "detail/blas.hpp"
#include "detail/log_bins.hpp"

namespace anodiff {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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

}  // namespace

PairDistances PairDistances::compute(const WeightTrajectory& trajectory, std::size_t first, std::size_t count) {
  require_part(trajectory, first, count);
  const std::size_t n = count;
  const std::size_t m = n - 1;  // increments
  const std::size_t D = trajectory.dimension();
  PairDistances out;
  out.n_ = n;
  out.d_.assign(n * n, 0.0);
  double* g = out.d_.data();
  const std::size_t width = block_width(n, D);
  std::vector<double> block(n * std::min(width, D));
  bool first_block = true;
  for (std::size_t col = 0; col < D; col += width) {
    const std::size_t w = std::min(width, D - col);
    std::exception_ptr error;
#pragma omp parallel for schedule(static)
    for (std::size_t r = 0; r < n; ++r) {
      try {
        trajectory.read(first + r, 1, col, w, block.data() + r * w);
      } catch (...) {
#pragma omp critical
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    // Increments v_r = w_r - w_{r-1}, exact in float64 for float32 data.
    // Columns are split among threads; rows run backwards so that each row still holds w_{r-1} when read.
#pragma omp parallel for schedule(static)
    for (std::size_t j0 = 0; j0 < w; j0 += 256) {
      const std::size_t j1 = std::min(w, j0 + 256);
      for (std::size_t r = n - 1; r >= 1; --r) {
        double* row = block.data() + r * w;
        const double* prev = row - w;
        for (std::size_t j = j0; j < j1; ++j) row[j] -= prev[j];
      }
    }
    // Gram of the increments, C(k, c) = v_k . v_c for 1 <= k <= c <= n-1, at k + c n.
    detail::syrk_upper_transposed(m, w, 1.0, block.data() + w, w, first_block ? 0.0 : 1.0, g + 1 + n, n);
    first_block = false;
  }
  // Step lengths from the diagonal.
  out.step_.assign(n, 0.0);
  for (std::size_t c = 1; c < n; ++c) out.step_[c] = std::sqrt(std::max(0.0, g[c + c * n]));
  // S(i, c) = sum_{k=i+1}^{c-1} C(k, c), in place of C(i, c) (i < c).
  for (std::size_t c = 1; c < n; ++c) {
    double* col = g + c * n;
    double running = 0.0;
    for (std::size_t i = c; i-- > 0;) {
      const double cic = i >= 1 ? col[i] : 0.0;
      col[i] = running;
      running += cic;
    }
  }
  // d(i, c) = d(i, c-1) + 2 S(i, c) + C(c, c), with d(c-1, c-1) = 0; column by column, contiguous.
  for (std::size_t c = 1; c < n; ++c) {
    double* col = g + c * n;
    const double* prev = g + (c - 1) * n;
    const double ccc = col[c];
    for (std::size_t i = 0; i + 1 < c; ++i) col[i] = prev[i] + 2.0 * col[i] + ccc;
    col[c - 1] = ccc;
    col[c] = 0.0;
  }
  // Clear the unused lower triangle and diagonal so that the matrix holds distances only.
  for (std::size_t c = 0; c < n; ++c) std::fill(g + c * n + c, g + (c + 1) * n, 0.0);
  return out;
}

PairDistances PairDistances::brute_force(const WeightTrajectory& trajectory, std::size_t first, std::size_t count) {
  require_part(trajectory, first, count);
  const std::size_t n = count;
  const std::size_t D = trajectory.dimension();
  std::vector<double> x(n * D);
  trajectory.read(first, n, 0, D, x.data());
  PairDistances out;
  out.n_ = n;
  out.d_.assign(n * n, 0.0);
  out.step_.assign(n, 0.0);
  for (std::size_t j = 1; j < n; ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      double s = 0.0;
      for (std::size_t k = 0; k < D; ++k) {
        const double d = x[j * D + k] - x[i * D + k];
        s += d * d;
      }
      out.d_[i + j * n] = s;
    }
    out.step_[j] = std::sqrt(out.d_[(j - 1) + j * n]);
  }
  return out;
}

PairDistances PairDistances::from_squared_distances(std::size_t n, std::vector<double> squared) {
  if (n < 2) throw std::invalid_argument(fmt::format("pair statistics need at least 2 snapshots, got {}", n));
  if (squared.size() != n * n) {
    throw std::invalid_argument(
        fmt::format("PairDistances::from_squared_distances: {} values for {} x {} snapshots", squared.size(), n, n));
  }
  PairDistances out;
  out.n_ = n;
  out.d_ = std::move(squared);
  for (std::size_t c = 0; c < n; ++c) std::fill(out.d_.data() + c * n + c, out.d_.data() + (c + 1) * n, 0.0);
  out.step_.assign(n, 0.0);
  for (std::size_t c = 1; c < n; ++c) out.step_[c] = std::sqrt(std::max(0.0, out.d_[(c - 1) + c * n]));
  return out;
}

PairDistances& PairDistances::operator+=(const PairDistances& other) {
  if (other.n_ != n_) {
    throw std::invalid_argument(fmt::format("PairDistances: cannot add the distances of {} snapshots to {}", other.n_, n_));
  }
  for (std::size_t k = 0; k < d_.size(); ++k) d_[k] += other.d_[k];
  for (std::size_t c = 1; c < n_; ++c) step_[c] = std::sqrt(std::max(0.0, d_[(c - 1) + c * n_]));
  return *this;
}

std::vector<double> PairDistances::msd() const {
  std::vector<double> sum(n_, 0.0);
  for (std::size_t c = 1; c < n_; ++c) {
    const double* col = d_.data() + c * n_;
    for (std::size_t i = 0; i < c; ++i) sum[c - i] += col[i];
  }
  for (std::size_t tau = 1; tau < n_; ++tau) sum[tau] /= static_cast<double>(n_ - tau);
  return sum;
}

std::vector<double> PairDistances::from_start() const {
  std::vector<double> d(n_, 0.0);
  for (std::size_t c = 1; c < n_; ++c) d[c] = d_[c * n_];
  return d;
}

std::vector<double> mean_contour_length(const PairDistances& distances) {
  const std::size_t n = distances.size();
  const auto& s = distances.step_lengths();
  std::vector<double> prefix(n, 0.0);  // P_t = sum_{k=1}^{t} s_k
  for (std::size_t t = 1; t < n; ++t) prefix[t] = prefix[t - 1] + s[t];
  std::vector<double> mean(n, 0.0);
  for (std::size_t tau = 1; tau < n; ++tau) {
    double acc = 0.0;
    for (std::size_t i = 0; i + tau < n; ++i) acc += prefix[i + tau] - prefix[i];
    mean[tau] = acc / static_cast<double>(n - tau);
  }
  return mean;
}

BinnedCurve msd_vs_contour(const PairDistances& distances, std::size_t bins) {
  const std::size_t n = distances.size();
  const auto& s = distances.step_lengths();
  std::vector<double> prefix(n, 0.0);
  for (std::size_t t = 1; t < n; ++t) prefix[t] = prefix[t - 1] + s[t];
  double lo = std::numeric_limits<double>::infinity();
  for (std::size_t t = 1; t < n; ++t) {
    if (s[t] > 0) lo = std::min(lo, s[t]);
  }
  const double hi = prefix[n - 1];
  if (!(lo < std::numeric_limits<double>::infinity()) || !(hi > 0)) {
    return make_binned(bin_edges(1.0, 2.0, bins, Binning::logarithmic));  // no motion: all bins empty
  }
  const auto edges = bin_edges(lo, hi, bins, Binning::logarithmic);
  BinnedCurve c = make_binned(edges);
  for (std::size_t j = 1; j < n; ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      const double contour = prefix[j] - prefix[i];
      if (!(contour > 0)) continue;
      const std::size_t b = bin_of(edges, contour);
      c.x[b] += contour;
      c.mean[b] += distances(i, j);
      ++c.count[b];
    }
  }
  finish_binned(c);
  return c;
}

BinnedCurve msl_vs_distance(const PairDistances& distances, const std::vector<double>& loss, Binning binning,
                            std::size_t bins) {
  const std::size_t n = distances.size();
  if (loss.size() != n) {
    throw std::invalid_argument(fmt::format("msl_vs_distance: {} loss values for {} snapshots", loss.size(), n));
  }
  // Every pair (i < j) with two losses (and a positive distance for log bins): f(distance, loss difference).
  auto for_each_pair = [&](auto&& f) {
    for (std::size_t j = 1; j < n; ++j) {
      if (std::isnan(loss[j])) continue;
      for (std::size_t i = 0; i < j; ++i) {
        if (std::isnan(loss[i])) continue;
        const double r = std::sqrt(distances(i, j));
        if (binning == Binning::logarithmic && !(r > 0)) continue;
        f(r, loss[j] - loss[i]);
      }
    }
  };
  double lo = std::numeric_limits<double>::infinity();
  double hi = 0.0;
  for_each_pair([&](double r, double) {
    lo = std::min(lo, r);
    hi = std::max(hi, r);
  });
  if (!(lo < std::numeric_limits<double>::infinity())) {
    return make_binned(bin_edges(1.0, 2.0, bins, binning));  // no pair with two losses
  }
  const auto edges = bin_edges(lo, hi, bins, binning);
  BinnedCurve c = make_binned(edges);
  for_each_pair([&](double r, double dl) {
    const std::size_t b = bin_of(edges, r);
    c.x[b] += r;
    c.mean[b] += dl * dl;
    ++c.count[b];
  });
  finish_binned(c);
  return c;
}

std::vector<DisplacementHistogram> displacement_histograms(const PairDistances& distances,
                                                           const std::vector<std::size_t>& lags, bool rescale,
                                                           std::size_t bins) {
  const std::size_t n = distances.size();
  const auto msd = distances.msd();
  std::vector<DisplacementHistogram> out;
  double lo = std::numeric_limits<double>::infinity();
  double hi = 0.0;
  std::vector<std::vector<double>> samples;
  for (std::size_t lag : lags) {
    if (lag == 0 || lag >= n) continue;
    DisplacementHistogram h;
    h.lag = lag;
    h.scale = rescale && msd[lag] > 0 ? std::sqrt(msd[lag]) : 1.0;
    std::vector<double> v;
    v.reserve(n - lag);
    for (std::size_t i = 0; i + lag < n; ++i) {
      const double r = std::sqrt(distances(i, i + lag)) / h.scale;
      v.push_back(r);
      if (r > 0) lo = std::min(lo, r);
      hi = std::max(hi, r);
    }
    samples.push_back(std::move(v));
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
    for (double r : samples[k]) {
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

std::vector<std::size_t> default_histogram_lags() { return {1, 2, 4, 8, 16, 32, 64, 128, 256}; }

}  // namespace anodiff
