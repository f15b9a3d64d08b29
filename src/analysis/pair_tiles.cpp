// The tiled sweep of the pair statistics (pair_statistics.hpp; docs/pair_statistics.md, "Tiles"): the curves of a
// part without its n x n matrix, and pair_summary over a matrix held whole.
#include "anodiff/analysis/pair_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "detail/blas.hpp"
#include "detail/log_bins.hpp"
#include "detail/pair_helpers.hpp"
#include "detail/parallel_rows.hpp"

namespace anodiff {
using namespace detail;

// ---------------------------------------------------------------------------------------------------------------
// Tiles (docs/pair_statistics.md, "Tiles").

namespace {

// Coordinates per data chunk of the tiled path (the bound of tiled_pair_memory holds for any dimension).
constexpr std::size_t kChunk = 512;

std::size_t lags_below(const std::vector<std::size_t>& lags, std::size_t n) {
  std::size_t k = 0;
  for (std::size_t lag : lags) k += lag >= 1 && lag < n ? 1 : 0;
  return k;
}

// Reads rows [r0, r0 + rows) of the part, coordinates [col, col + w), into out (row-major rows x w), rows in parallel.
void read_rows(const WeightTrajectory& t, std::size_t first, std::size_t r0, std::size_t rows, std::size_t col,
               std::size_t w, double* out) {
  detail::parallel_rows(rows, [&](std::size_t r) { t.read(first + r0 + r, 1, col, w, out + r * w); });
}

// The upper triangle of the squared distances of one part in square tiles of b snapshots, row block by row block
// from the last; each distance by the recursion of PairDistances::compute, d(i, c) = d(i, c-1) + 2 S(i, c) + |v_c|^2
// with S(i, c) = (w_{c-1} - w_i).v_c, carried from tile to tile along each row.
class TileSweep {
 public:
  TileSweep(const WeightTrajectory& t, std::size_t first, std::size_t n, std::size_t b, const ShardSum& sum)
      : t_(t), first_(first), n_(n), b_(b), sum_(sum), D_(t.dimension()) {
    kw_ = std::max<std::size_t>(1, std::min(kChunk, D_));
    tile_.resize(b_ * b_);
    data_.resize((2 * b_ + 1) * kw_);
    carry_.resize(b_);
    y_.resize(b_);
    g_.assign(n_, 0.0);
    vv_.assign(n_, 0.0);
  }

  [[nodiscard]] std::size_t bytes() const {
    return 8 * (tile_.capacity() + data_.capacity() + carry_.capacity() + y_.capacity() + g_.capacity() + vv_.capacity());
  }
  [[nodiscard]] std::size_t tiles() const {
    const std::size_t nb = (n_ + b_ - 1) / b_;
    return nb * (nb + 1) / 2;
  }

  // Squared step lengths |w_k - w_{k-1}|^2, k = 1..n-1 (summed over shards), by a pass over the data.
  std::vector<double> squared_steps() {
    std::vector<double> out(n_, 0.0);
    const std::size_t rows = 2 * b_ + 1;
    for (std::size_t k0 = 1; k0 < n_; k0 += rows - 1) {
      const std::size_t k1 = std::min(n_, k0 + rows - 1);
      for (std::size_t col = 0; col < D_; col += kw_) {
        const std::size_t w = std::min(kw_, D_ - col);
        read_rows(t_, first_, k0 - 1, k1 - k0 + 1, col, w, data_.data());
        for (std::size_t k = k0; k < k1; ++k) {
          const double* a = data_.data() + (k - k0) * w;
          const double* c = a + w;
          double s = 0.0;
          for (std::size_t j = 0; j < w; ++j) s += (c[j] - a[j]) * (c[j] - a[j]);
          out[k] += s;
        }
      }
    }
    if (sum_) sum_(out.data(), out.size());
    return out;
  }

  // The last tile of a run(), rows of block 0 and columns of the last block, still held after it: visit it.
  template <class Visit>
  void revisit_last(Visit&& visit) {
    const std::size_t nb = (n_ + b_ - 1) / b_;
    const std::size_t j0 = (nb - 1) * b_;
    visit(std::size_t{0}, std::min(n_, b_), j0, n_, static_cast<const double*>(tile_.data()));
  }

  // Calls visit(i0, i1, j0, j1, tile) for every tile (d(i, c) at (i - i0) + (c - j0) (i1 - i0), for i < c); with
  // skip_last, not for the last one (block 0 with the last block), which revisit_last() gave.
  template <class Visit>
  void run(Visit&& visit, bool skip_last = false) {
    const std::size_t nb = (n_ + b_ - 1) / b_;
    for (std::size_t R = nb; R-- > 0;) {
      const std::size_t i0 = R * b_, i1 = std::min(n_, i0 + b_);
      if (skip_last && R == 0 && nb == 1) return;
      diagonal(i0, i1);
      visit(i0, i1, i0, i1, static_cast<const double*>(tile_.data()));
      for (std::size_t B = R + 1; B < nb; ++B) {
        if (skip_last && R == 0 && B + 1 == nb) return;
        const std::size_t j0 = B * b_, j1 = std::min(n_, j0 + b_);
        off_diagonal(i0, i1, j0, j1);
        visit(i0, i1, j0, j1, static_cast<const double*>(tile_.data()));
      }
    }
  }

 private:
  // The tile of block [i0, i1) with itself, as PairDistances::compute on the block; also G(c) = sum_{k=i0}^{c-1}
  // v_k.v_c and |v_c|^2 for the block's columns, which the tiles of earlier row blocks use.
  void diagonal(std::size_t i0, std::size_t i1) {
    const std::size_t m = i1 - i0;
    double* g = tile_.data();
    const std::size_t lo = i0 == 0 ? 0 : i0 - 1;
    bool first_chunk = true;
    for (std::size_t col = 0; col < D_; col += kw_) {
      const std::size_t w = std::min(kw_, D_ - col);
      double* x = data_.data();
      read_rows(t_, first_, lo, i1 - lo, col, w, x);
      // Increments v_k, k = i0..i1-1, at rows x + (k - i0) w (v_0 = 0); rows backwards, columns in parallel.
      const std::size_t rows = i1 - lo;
#pragma omp parallel for schedule(static)
      for (std::size_t j0 = 0; j0 < w; j0 += 256) {
        const std::size_t j1 = std::min(w, j0 + 256);
        for (std::size_t r = rows - 1; r >= 1; --r) {
          double* row = x + r * w;
          const double* prev = row - w;
          for (std::size_t j = j0; j < j1; ++j) row[j] -= prev[j];
        }
      }
      double* v = x;
      if (i0 == 0) {
        std::fill(x, x + w, 0.0);
      } else {
        v = x + w;
      }
      detail::syrk_upper_transposed(m, w, 1.0, v, w, first_chunk ? 0.0 : 1.0, g, m);
      first_chunk = false;
    }
    if (first_chunk) std::fill(g, g + m * m, 0.0);  // a shard without coordinates
    for (std::size_t c = 0; c < m; ++c) {
      const double* col = g + c * m;
      vv_[i0 + c] = col[c];
      double s = 0.0;
      for (std::size_t a = 0; a < c; ++a) s += col[a];
      g_[i0 + c] = s;
    }
    increments_to_distances(g, m);  // as PairDistances::compute
    for (std::size_t a = 0; a < m; ++a) carry_[a] = g[a + (m - 1) * m];  // d(i, i1 - 1), 0 for the last row
    if (sum_) sum_(g, m * m);
  }

  // The tile of rows [i0, i1) and columns [j0, j1), i1 <= j0: S(i, c) = G(c) + (w_{j0-1} - w_e).v_c + (w_e - w_i).v_c
  // with e = i1 - 1, the last term a matrix product of float64 differences.
  void off_diagonal(std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1) {
    const std::size_t r = i1 - i0, w = j1 - j0;
    double* x = tile_.data();
    std::fill(y_.begin(), y_.begin() + std::ptrdiff_t(w), 0.0);
    bool first_chunk = true;
    for (std::size_t col = 0; col < D_; col += kw_) {
      const std::size_t k = std::min(kw_, D_ - col);
      double* u = data_.data();      // r rows: w_i, then w_e - w_i
      double* v = u + r * k;         // w + 1 rows: w_{j0-1}, w_{j0}, ..., then m = w_{j0-1} - w_e, v_{j0}, ...
      read_rows(t_, first_, i0, r, col, k, u);
      read_rows(t_, first_, j0 - 1, w + 1, col, k, v);
      const double* we = u + (r - 1) * k;
#pragma omp parallel for schedule(static)
      for (std::size_t q0 = 0; q0 < k; q0 += 256) {
        const std::size_t q1 = std::min(k, q0 + 256);
        for (std::size_t c = w; c >= 1; --c) {
          double* row = v + c * k;
          const double* prev = row - k;
          for (std::size_t q = q0; q < q1; ++q) row[q] -= prev[q];
        }
        for (std::size_t q = q0; q < q1; ++q) v[q] -= we[q];
        for (std::size_t a = 0; a + 1 < r; ++a) {
          double* row = u + a * k;
          for (std::size_t q = q0; q < q1; ++q) row[q] = we[q] - row[q];
        }
      }
      std::fill(u + (r - 1) * k, u + r * k, 0.0);
#pragma omp parallel for schedule(static)
      for (std::size_t c = 0; c < w; ++c) {
        const double* vc = v + (c + 1) * k;
        double s = 0.0;
        for (std::size_t q = 0; q < k; ++q) s += v[q] * vc[q];
        y_[c] += s;
      }
      detail::gemm_rows(r, w, k, u, v + k, first_chunk ? 0.0 : 1.0, x);
      first_chunk = false;
    }
    if (first_chunk) std::fill(x, x + r * w, 0.0);  // a shard without coordinates
    // Row by row along the columns, from the carried d(i, j0 - 1).
#pragma omp parallel for schedule(static)
    for (std::size_t a0 = 0; a0 < r; a0 += 64) {
      const std::size_t a1 = std::min(r, a0 + 64);
      for (std::size_t c = 0; c < w; ++c) {
        const double base = g_[j0 + c] + y_[c];
        const double vv = vv_[j0 + c];
        double* col = x + c * r;
        const double* prev = c == 0 ? carry_.data() : x + (c - 1) * r;
        for (std::size_t a = a0; a < a1; ++a) col[a] = prev[a] + 2.0 * (base + col[a]) + vv;
      }
    }
    for (std::size_t a = 0; a < r; ++a) carry_[a] = x[a + (w - 1) * r];
    if (sum_) sum_(x, r * w);
  }

  const WeightTrajectory& t_;
  std::size_t first_, n_, b_;
  const ShardSum& sum_;
  std::size_t D_, kw_ = 1;
  std::vector<double> tile_, data_, carry_, y_, g_, vv_;
};

// The first of rows [i0, i1) that `share` bins (i % count == index); rows then go in steps of share.count.
std::size_t first_owned_row(std::size_t i0, const Shard& share) {
  return i0 + (share.index + share.count - i0 % share.count) % share.count;
}

// BinnedCurve sums (x, mean, count) appended to / read back from a buffer of doubles for a reduction; counts are
// below 2^53, so exact as doubles.
void pack(const BinnedCurve& c, std::vector<double>& buffer) {
  buffer.insert(buffer.end(), c.x.begin(), c.x.end());
  buffer.insert(buffer.end(), c.mean.begin(), c.mean.end());
  for (std::size_t k : c.count) buffer.push_back(static_cast<double>(k));
}
std::size_t unpack(BinnedCurve& c, const std::vector<double>& buffer, std::size_t at) {
  const std::size_t bins = c.count.size();
  std::copy(buffer.begin() + std::ptrdiff_t(at), buffer.begin() + std::ptrdiff_t(at + bins), c.x.begin());
  std::copy(buffer.begin() + std::ptrdiff_t(at + bins), buffer.begin() + std::ptrdiff_t(at + 2 * bins), c.mean.begin());
  for (std::size_t b = 0; b < bins; ++b) c.count[b] = static_cast<std::size_t>(buffer[at + 2 * bins + b]);
  return at + 3 * bins;
}

// The additive accumulators of the all-pairs statistics of one part, fed tile by tile (the untiled matrix is one
// tile; docs/pair_statistics.md, "Splitting the binning over shards"). Each process bins the pairs (i, c), i < c,
// of the rows its Shard owns: the MSD sums by lag, the contour bins, the MSL range and bins, the mean contour
// length. With several shards the finish_* steps sum these over the shards (ShardSum); a minimum or maximum travels
// in one slot per shard (the others add zeros, exactly), so every shard gets the same bin edges and sums. The
// aging MSD and the histogram samples (P values per lag) are taken by every shard from every tile.
class PairBinning {
 public:
  PairBinning(std::size_t n, const std::vector<double>& loss, const PairStatisticsOptions& options, Shard share,
              const ShardSum& sum)
      : n_(n), loss_(loss), options_(options), share_(share), sum_(sum), with_loss_(!loss.empty()) {
    options_.validate("pair statistics: PairStatisticsOptions");
    share_.validate("pair statistics");
    if (share_.count > 1 && !sum_) {
      throw std::invalid_argument(
          fmt::format("pair statistics: binning split over {} shards needs a ShardSum", share_.count));
    }
    msd_sum_.assign(n_, 0.0);
    from_start_.assign(n_, 0.0);
    for (std::size_t lag : options_.histogram_lags) {
      if (lag >= 1 && lag < n_) lag_list_.push_back(lag);
    }
    samples_.resize(lag_list_.size());
    for (std::size_t k = 0; k < lag_list_.size(); ++k) samples_[k].assign(n_ - lag_list_[k], 0.0);
  }

  // The step lengths s_k (element 0 is 0), summed over shards: the contour prefix sums and bin range.
  void set_step_lengths(std::vector<double> steps) {
    steps_ = std::move(steps);
    prefix_.assign(n_, 0.0);
    for (std::size_t t = 1; t < n_; ++t) prefix_[t] = prefix_[t - 1] + steps_[t];
    double lo = std::numeric_limits<double>::infinity();
    for (std::size_t t = 1; t < n_; ++t) {
      if (steps_[t] > 0) lo = std::min(lo, steps_[t]);
    }
    moves_ = lo < std::numeric_limits<double>::infinity() && prefix_[n_ - 1] > 0;
    contour_edges_ = moves_ ? bin_edges(lo, prefix_[n_ - 1], options_.contour_bins, Binning::logarithmic)
                            : bin_edges(1.0, 2.0, options_.contour_bins, Binning::logarithmic);
    msd_contour_ = make_binned(contour_edges_);
  }

  // Bytes of the P-vectors held (step lengths, prefix sums, MSD sums, aging MSD, histogram samples).
  [[nodiscard]] std::size_t bytes() const {
    std::size_t b = 8 * (steps_.capacity() + prefix_.capacity() + msd_sum_.capacity() + from_start_.capacity());
    for (const auto& v : samples_) b += 8 * v.capacity();
    return b;
  }

  // Pass 1 over a tile (d(i, c) at (i - i0) + (c - j0) (i1 - i0) for i < c): MSD sums, contour bins, MSL range of
  // the owned rows; aging MSD and histogram samples of every row.
  void first_pass(std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, const double* tile) {
    const std::size_t r = i1 - i0, step = share_.count, begin = first_owned_row(i0, share_);
    for (std::size_t c = j0; c < j1; ++c) {
      const double* col = tile + (c - j0) * r;
      const std::size_t iend = std::min(i1, c);
      for (std::size_t i = begin; i < iend; i += step) {
        const double d2 = col[i - i0];
        msd_sum_[c - i] += d2;
        if (moves_) {
          const double contour = prefix_[c] - prefix_[i];
          if (contour > 0) {
            const std::size_t bin = bin_of(contour_edges_, contour);
            msd_contour_.x[bin] += contour;
            msd_contour_.mean[bin] += d2;
            ++msd_contour_.count[bin];
          }
        }
        if (with_loss_ && !std::isnan(loss_[i]) && !std::isnan(loss_[c])) {
          const double dr = std::sqrt(d2);
          lin_lo_ = std::min(lin_lo_, dr);
          lin_hi_ = std::max(lin_hi_, dr);
          if (dr > 0) {
            log_lo_ = std::min(log_lo_, dr);
            log_hi_ = std::max(log_hi_, dr);
          }
        }
      }
      if (i0 == 0 && c > 0) from_start_[c] = col[0];
    }
    for (std::size_t k = 0; k < lag_list_.size(); ++k) {
      const std::size_t lag = lag_list_[k];
      const std::size_t ib = std::max(i0, j0 > lag ? j0 - lag : 0), ie = std::min(i1, j1 > lag ? j1 - lag : 0);
      for (std::size_t i = ib; i < ie; ++i) samples_[k][i] = tile[(i - i0) + (i + lag - j0) * r];
    }
  }

  // After pass 1: sums the accumulators over shards; MSD, aging MSD, step and mean contour lengths, MSD against
  // contour and the histograms into `out`, and the MSL bin edges.
  void finish_first_pass(PairSummary& out) {
    const std::size_t S = share_.count;
    // Mean contour length C_{i,i+tau} = P_{i+tau} - P_i over the owned i (in the order of mean_contour_length()).
    out.mean_contour.assign(n_, 0.0);
    for (std::size_t tau = 1; tau < n_; ++tau) {
      double acc = 0.0;
      for (std::size_t i = first_owned_row(0, share_); i + tau < n_; i += S) acc += prefix_[i + tau] - prefix_[i];
      out.mean_contour[tau] = acc;
    }
    if (S > 1) {
      sum_(msd_sum_.data(), n_);
      sum_(out.mean_contour.data(), n_);
      std::vector<double> buffer;
      pack(msd_contour_, buffer);
      const std::size_t ranges = buffer.size();
      buffer.resize(ranges + 4 * S, 0.0);
      const double mine[4] = {lin_lo_, lin_hi_, log_lo_, log_hi_};
      for (std::size_t k = 0; k < 4; ++k) buffer[ranges + k * S + share_.index] = mine[k];
      sum_(buffer.data(), buffer.size());
      unpack(msd_contour_, buffer, 0);
      lin_lo_ = log_lo_ = std::numeric_limits<double>::infinity();
      lin_hi_ = log_hi_ = 0.0;
      for (std::size_t s = 0; s < S; ++s) {
        lin_lo_ = std::min(lin_lo_, buffer[ranges + s]);
        lin_hi_ = std::max(lin_hi_, buffer[ranges + S + s]);
        log_lo_ = std::min(log_lo_, buffer[ranges + 2 * S + s]);
        log_hi_ = std::max(log_hi_, buffer[ranges + 3 * S + s]);
      }
    }
    for (std::size_t tau = 1; tau < n_; ++tau) out.mean_contour[tau] /= static_cast<double>(n_ - tau);
    out.msd.assign(n_, 0.0);
    for (std::size_t tau = 1; tau < n_; ++tau) out.msd[tau] = msd_sum_[tau] / static_cast<double>(n_ - tau);
    out.from_start = from_start_;
    out.step_lengths = steps_;
    if (moves_) finish_binned(msd_contour_);
    out.msd_contour = msd_contour_;
    out.histograms = histograms_from_samples(samples_, options_.histogram_lags, n_, out.msd, false,
                                             options_.histogram_bins);
    out.rescaled = histograms_from_samples(samples_, options_.histogram_lags, n_, out.msd, true,
                                           options_.histogram_bins);
    if (with_loss_) {
      lin_any_ = lin_lo_ < std::numeric_limits<double>::infinity();
      log_any_ = log_lo_ < std::numeric_limits<double>::infinity();
      lin_edges_ = lin_any_ ? bin_edges(lin_lo_, lin_hi_, options_.msl_bins, Binning::linear)
                            : bin_edges(1.0, 2.0, options_.msl_bins, Binning::linear);
      log_edges_ = log_any_ ? bin_edges(log_lo_, log_hi_, options_.msl_bins, Binning::logarithmic)
                            : bin_edges(1.0, 2.0, options_.msl_bins, Binning::logarithmic);
      msl_linear_ = make_binned(lin_edges_);
      msl_log_ = make_binned(log_edges_);
    }
  }

  // Whether the MSL bins need pass 2 (a loss series and a pair with two losses).
  [[nodiscard]] bool msl_needed() const { return with_loss_ && lin_any_; }

  // Pass 2 over a tile: the MSL bins (linear and logarithmic) of the owned rows.
  void second_pass(std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, const double* tile) {
    const std::size_t r = i1 - i0, step = share_.count, begin = first_owned_row(i0, share_);
    for (std::size_t c = j0; c < j1; ++c) {
      if (std::isnan(loss_[c])) continue;
      const double* col = tile + (c - j0) * r;
      const std::size_t iend = std::min(i1, c);
      for (std::size_t i = begin; i < iend; i += step) {
        if (std::isnan(loss_[i])) continue;
        const double dr = std::sqrt(col[i - i0]);
        const double dl = loss_[c] - loss_[i];
        std::size_t bin = bin_of(lin_edges_, dr);
        msl_linear_.x[bin] += dr;
        msl_linear_.mean[bin] += dl * dl;
        ++msl_linear_.count[bin];
        if (dr > 0) {
          bin = bin_of(log_edges_, dr);
          msl_log_.x[bin] += dr;
          msl_log_.mean[bin] += dl * dl;
          ++msl_log_.count[bin];
        }
      }
    }
  }

  // After pass 2: the MSL bins summed over shards into `out` (empty without a loss series).
  void finish_second_pass(PairSummary& out) {
    if (!with_loss_) return;
    if (lin_any_) {
      if (share_.count > 1) {
        std::vector<double> buffer;
        pack(msl_linear_, buffer);
        pack(msl_log_, buffer);
        sum_(buffer.data(), buffer.size());
        unpack(msl_log_, buffer, unpack(msl_linear_, buffer, 0));
      }
      finish_binned(msl_linear_);
      if (log_any_) finish_binned(msl_log_);
    }
    out.msl_linear = msl_linear_;
    out.msl_log = msl_log_;
  }

 private:
  std::size_t n_;
  const std::vector<double>& loss_;
  const PairStatisticsOptions& options_;
  Shard share_;
  const ShardSum& sum_;
  bool with_loss_;
  std::vector<double> steps_, prefix_, msd_sum_, from_start_;
  std::vector<std::size_t> lag_list_;
  std::vector<std::vector<double>> samples_;
  bool moves_ = false, lin_any_ = false, log_any_ = false;
  std::vector<double> contour_edges_, lin_edges_, log_edges_;
  BinnedCurve msd_contour_, msl_linear_, msl_log_;
  double lin_lo_ = std::numeric_limits<double>::infinity(), lin_hi_ = 0.0;
  double log_lo_ = std::numeric_limits<double>::infinity(), log_hi_ = 0.0;
};

}  // namespace

std::size_t untiled_pair_memory(std::size_t n, std::size_t lags) {
  const std::size_t block = std::max<std::size_t>(std::size_t{32} << 20, std::size_t{512} * n);  // block_width's column block
  return 8 * n * n + block + 8 * n * (8 + lags);
}

std::size_t tiled_pair_memory(std::size_t n, std::size_t rows, std::size_t lags) {
  return 8 * (rows * rows + 2 * rows + (2 * rows + 1) * kChunk + n * (10 + lags));
}

std::size_t tile_rows_within(std::size_t n, std::size_t lags, std::size_t budget) {
  if (n == 0 || tiled_pair_memory(n, 1, lags) > budget) return 0;
  std::size_t lo = 1, hi = n;  // tiled_pair_memory(n, lo) fits
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo + 1) / 2;
    if (tiled_pair_memory(n, mid, lags) <= budget) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

void for_each_distance_tile(const WeightTrajectory& trajectory, std::size_t first, std::size_t count, std::size_t rows,
                            const std::function<void(std::size_t, std::size_t, std::size_t, std::size_t,
                                                     const double*)>& visit,
                            const ShardSum& sum) {
  require_part(trajectory, first, count);
  if (rows == 0) throw std::invalid_argument("for_each_distance_tile: tiles need at least 1 row, got 0");
  TileSweep sweep(trajectory, first, count, std::min(rows, count), sum);
  sweep.run(visit);
}

PairSummary tiled_pair_statistics(const WeightTrajectory& trajectory, std::size_t first, std::size_t count,
                                  const std::vector<double>& loss, const PairStatisticsOptions& options,
                                  std::size_t memory_budget, const ShardSum& sum, Shard share) {
  require_part(trajectory, first, count);
  const std::size_t n = count;
  if (!loss.empty() && loss.size() != n) {
    throw std::invalid_argument(fmt::format("tiled_pair_statistics: {} loss values for {} snapshots", loss.size(), n));
  }
  const std::size_t lags = lags_below(options.histogram_lags, n);
  const std::size_t b = tile_rows_within(n, lags, memory_budget);
  if (b == 0) {
    throw std::invalid_argument(fmt::format(
        "tiled_pair_statistics: a memory budget of {} bytes is below the {} bytes of tiles of one row for {} snapshots",
        memory_budget, tiled_pair_memory(n, 1, lags), n));
  }
  TileSweep sweep(trajectory, first, n, b, sum);
  PairSummary out;
  out.tile_rows = b;
  out.tiles = sweep.tiles();

  // Step lengths first: the bins of MSD against contour length need their range.
  out.step_lengths = sweep.squared_steps();
  for (double& v : out.step_lengths) v = std::sqrt(std::max(0.0, v));
  out.step_lengths[0] = 0.0;
  PairBinning binning(n, loss, options, share, sum);
  binning.set_step_lengths(std::move(out.step_lengths));
  // Held from here on: the sweep's buffers and the binning's vectors (the outputs msd and mean_contour come after
  // the sweep's buffers could be released).
  const std::size_t held = sweep.bytes() + binning.bytes() + std::size_t{32} * n;

  // Pass 1: MSD, aging MSD, MSD against contour, histogram samples, and the range of the MSL distances.
  sweep.run([&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, const double* tile) {
    binning.first_pass(i0, i1, j0, j1, tile);
  });
  out.passes = 1;
  binning.finish_first_pass(out);

  // Pass 2 (with a loss series): MSL against distance in bins over the range of pass 1.
  if (binning.msl_needed()) {
    auto msl = [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, const double* tile) {
      binning.second_pass(i0, i1, j0, j1, tile);
    };
    // The last tile of pass 1 is still held: binned first, then not computed again.
    sweep.revisit_last(msl);
    if (out.tiles > 1) {
      sweep.run(msl, true);
      out.passes = 2;
    }
  }
  binning.finish_second_pass(out);
  out.working_bytes = held;
  return out;
}

PairSummary pair_summary(const PairDistances& distances, const std::vector<double>& loss,
                         const PairStatisticsOptions& options, const ShardSum& sum, Shard share) {
  const std::size_t n = distances.size();
  if (!loss.empty() && loss.size() != n) {
    throw std::invalid_argument(fmt::format("pair_summary: {} loss values for {} snapshots", loss.size(), n));
  }
  PairBinning binning(n, loss, options, share, sum);
  binning.set_step_lengths(distances.step_lengths());
  PairSummary out;
  // The whole matrix is one tile: d(i, c) at i + c n.
  const double* matrix = distances.squared_distances().data();
  binning.first_pass(0, n, 0, n, matrix);
  out.passes = 1;
  binning.finish_first_pass(out);
  if (binning.msl_needed()) binning.second_pass(0, n, 0, n, matrix);
  binning.finish_second_pass(out);
  return out;
}

}  // namespace anodiff
