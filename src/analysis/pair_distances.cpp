// PairDistances: the squared distances between the snapshots of a part (pair_statistics.hpp); their curves are
// pair_curves.cpp, the tiled sweep that never holds the matrix pair_tiles.cpp.
#include "anodiff/analysis/pair_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "detail/blas.hpp"
#include "detail/log_bins.hpp"
#include "detail/pair_helpers.hpp"
#include "detail/parallel_rows.hpp"

namespace anodiff {
using namespace detail;

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
    detail::parallel_rows(n, [&](std::size_t r) { trajectory.read(first + r, 1, col, w, block.data() + r * w); });
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
  increments_to_distances(g, n);
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
  out.step_lengths_from_distances();
  return out;
}

PairDistances& PairDistances::operator+=(const PairDistances& other) {
  if (other.n_ != n_) {
    throw std::invalid_argument(fmt::format("PairDistances: cannot add the distances of {} snapshots to {}", other.n_, n_));
  }
  for (std::size_t k = 0; k < d_.size(); ++k) d_[k] += other.d_[k];
  step_lengths_from_distances();
  return *this;
}

void PairDistances::step_lengths_from_distances() {
  step_.assign(n_, 0.0);
  for (std::size_t c = 1; c < n_; ++c) step_[c] = std::sqrt(std::max(0.0, d_[(c - 1) + c * n_]));
}

void PairDistances::sum_over_shards(const ShardSum& sum) {
  std::vector<double> packed;
  packed.reserve(n_ * (n_ - 1) / 2);
  for (std::size_t c = 1; c < n_; ++c) packed.insert(packed.end(), d_.begin() + std::ptrdiff_t(c * n_),
                                                     d_.begin() + std::ptrdiff_t(c * n_ + c));
  sum(packed.data(), packed.size());
  const double* from = packed.data();
  for (std::size_t c = 1; c < n_; from += c, ++c) std::copy(from, from + c, d_.begin() + std::ptrdiff_t(c * n_));
  step_lengths_from_distances();
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
}  // namespace anodiff
