#include "anodiff/analysis/msd.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <omp.h>

#include "anodiff/base/error.hpp"
#include "anodiff/analysis/pair_statistics.hpp"
#include "detail/batch_fft.hpp"
#include "detail/quantile.hpp"

namespace anodiff {

std::vector<Part> split_parts(std::size_t snapshots, std::size_t part_length) {
  const std::size_t p = part_length == 0 ? snapshots : part_length;
  if (p < 2 || snapshots < p) {
    throw std::invalid_argument(fmt::format(
        "an analysis needs parts of at least 2 snapshots: the trajectory has {} snapshots, the part length is {}",
        snapshots, part_length));
  }
  std::vector<Part> parts;
  for (std::size_t k = 0; (k + 1) * p <= snapshots; ++k) parts.push_back({k, k * p, p});
  return parts;
}

namespace {

std::size_t lag_limit(const MsdOptions& o, std::size_t count) {
  return o.max_lag == 0 ? count - 1 : std::min(o.max_lag, count - 1);
}

// Per-thread sums of the spectral pass, in long double so that adding D / 16 batches loses nothing measurable, and
// the thread's scratch for one block of columns.
struct SpectralSums {
  std::vector<long double> power;  // sum over coordinates of |FFT(x - mean)|^2, by frequency (both halves)
  std::vector<long double> norms;  // sum over coordinates of (x_t - mean)^2, by snapshot
  std::vector<double> re, im;      // one batch of 8 lanes, [nfft][8]
  std::vector<double> block_power, block_norms;  // one block's sums, by output slot / snapshot
  SpectralSums(std::size_t nfft, std::size_t count)
      : power(nfft, 0.0L),
        norms(count, 0.0L),
        re(nfft * detail::BatchFft::lanes),
        im(nfft * detail::BatchFft::lanes),
        block_power(nfft),
        block_norms(count) {}
};

// Runs `body(state, block, w)` over column blocks of the part [first, first + count), `width` columns at a time, on
// all threads; each thread gets its own state from `make`, and `merge` folds the states into the result in thread
// order, so that a run's sums do not depend on which thread finished first (the blocks go round-robin, 4 at a time).
template <class State, class Make, class Body, class Merge>
void for_column_blocks(const WeightTrajectory& trajectory, std::size_t first, std::size_t count, std::size_t width,
                       Make make, Body body, Merge merge) {
  const std::size_t D = trajectory.dimension();
  std::exception_ptr error;
  std::vector<std::optional<State>> states(static_cast<std::size_t>(omp_get_max_threads()));
#pragma omp parallel num_threads(static_cast<int>(states.size()))
  {
    State& state = states[static_cast<std::size_t>(omp_get_thread_num())].emplace(make());
    std::vector<double> block(count * width);
#pragma omp for schedule(static, 4)
    for (std::size_t col = 0; col < D; col += width) {
      const std::size_t w = std::min(width, D - col);
      try {
        trajectory.read(first, count, col, w, block.data());
        body(state, block.data(), w);
      } catch (...) {
#pragma omp critical
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
  for (const auto& state : states) {
    if (state) merge(*state);
  }
}

// Exact sums over i of |w_{i+tau} - w_i|^2 for the given lags, directly (float64 differences of float32 are exact).
std::vector<long double> direct_lag_sums(const WeightTrajectory& trajectory, std::size_t first, std::size_t count,
                                         const std::vector<std::size_t>& lags) {
  std::vector<long double> total(lags.size(), 0.0L);
  for_column_blocks<std::vector<long double>>(
      trajectory, first, count, 64, [&] { return std::vector<long double>(lags.size(), 0.0L); },
      [&](std::vector<long double>& sums, const double* block, std::size_t w) {
        for (std::size_t k = 0; k < lags.size(); ++k) {
          const std::size_t tau = lags[k];
          long double s = 0.0L;
          for (std::size_t i = 0; i + tau < count; ++i) {
            const double* a = block + i * w;
            const double* b = block + (i + tau) * w;
            double row = 0.0;
            for (std::size_t j = 0; j < w; ++j) row += (b[j] - a[j]) * (b[j] - a[j]);
            s += row;
          }
          sums[k] += s;
        }
      },
      [&](const std::vector<long double>& sums) {
        for (std::size_t k = 0; k < lags.size(); ++k) total[k] += sums[k];
      });
  return total;
}

// In-place inverse DFT with 1/N scaling, x_m = (1/N) sum_f X_f e^{2 pi i f m / N}, N a power of two, in long
// double (iterative radix-2, twiddles from long-double sine and cosine).
void inverse_fft_long_double(std::vector<std::complex<long double>>& x) {
  const std::size_t n = x.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(x[i], x[j]);
  }
  const long double pi = 3.141592653589793238462643383279502884L;
  for (std::size_t len = 2; len <= n; len <<= 1) {
    for (std::size_t k = 0; k < len / 2; ++k) {
      const long double a = 2.0L * pi * static_cast<long double>(k) / static_cast<long double>(len);
      const std::complex<long double> w(std::cos(a), std::sin(a));
      for (std::size_t s = 0; s < n; s += len) {
        const auto t = w * x[s + k + len / 2];
        x[s + k + len / 2] = x[s + k] - t;
        x[s + k] += t;
      }
    }
  }
  for (auto& v : x) v /= static_cast<long double>(n);
}

}  // namespace

std::vector<double> msd_fft(const WeightTrajectory& trajectory, std::size_t first, std::size_t count) {
  return msd_fft_certified(trajectory, first, count).msd;
}

MsdFftResult msd_fft_certified(const WeightTrajectory& trajectory, std::size_t first, std::size_t count) {
  if (count < 2 || first + count > trajectory.size()) {
    throw std::invalid_argument(fmt::format("msd_fft: part [{}, {}) of a trajectory of {} snapshots", first,
                                            first + count, trajectory.size()));
  }
  std::size_t nfft = 2;
  while (nfft < 2 * count) nfft *= 2;
  const detail::BatchFft fft(nfft);
  constexpr std::size_t L = detail::BatchFft::lanes;
  // Each batch transforms 2 L coordinates: coordinate 2l in the real part of lane l, 2l + 1 in the imaginary part.
  // The sum of the two real signals' power spectra at f is (|Z_f|^2 + |Z_{N-f}|^2) / 2, so summing |Z_f|^2 over
  // everything and symmetrising at the end gives the summed power spectrum.
  constexpr std::size_t block_columns = std::size_t{8} * L;  // read together; their norms and power are summed in double
  SpectralSums sums(nfft, count);
  for_column_blocks<SpectralSums>(
      trajectory, first, count, block_columns, [&] { return SpectralSums(nfft, count); },
      [&](SpectralSums& mine, const double* block, std::size_t w) {
        auto &re = mine.re, &im = mine.im, &power = mine.block_power, &norm = mine.block_norms;
        std::fill(power.begin(), power.end(), 0.0);
        std::fill(norm.begin(), norm.end(), 0.0);
        for (std::size_t c0 = 0; c0 < w; c0 += 2 * L) {
          const std::size_t cw = std::min(2 * L, w - c0);
          double mean[2 * L] = {};
          for (std::size_t t = 0; t < count; ++t)
            for (std::size_t c = 0; c < cw; ++c) mean[c] += block[t * w + c0 + c];
          for (std::size_t c = 0; c < cw; ++c) mean[c] /= static_cast<double>(count);
          for (std::size_t t = 0; t < count; ++t) {
            double nt = 0.0;
            for (std::size_t l = 0; l < L; ++l) {
              const std::size_t a = 2 * l, b = 2 * l + 1;
              const double ya = a < cw ? block[t * w + c0 + a] - mean[a] : 0.0;
              const double yb = b < cw ? block[t * w + c0 + b] - mean[b] : 0.0;
              re[t * L + l] = ya;
              im[t * L + l] = yb;
              nt += ya * ya + yb * yb;
            }
            norm[t] += nt;
          }
          // Rows count .. nfft/2 - 1 of the first half are zero padding; the second half is implied zero.
          std::fill(re.begin() + static_cast<std::ptrdiff_t>(count * L), re.begin() + static_cast<std::ptrdiff_t>(nfft / 2 * L), 0.0);
          std::fill(im.begin() + static_cast<std::ptrdiff_t>(count * L), im.begin() + static_cast<std::ptrdiff_t>(nfft / 2 * L), 0.0);
          fft.forward_zero_padded(re.data(), im.data());
          for (std::size_t k = 0; k < nfft; ++k) {
            double q = 0.0;
            for (std::size_t l = 0; l < L; ++l) q += re[k * L + l] * re[k * L + l] + im[k * L + l] * im[k * L + l];
            power[k] += q;
          }
        }
        for (std::size_t k = 0; k < nfft; ++k) mine.power[fft.frequency(k)] += power[k];
        for (std::size_t t = 0; t < count; ++t) mine.norms[t] += norm[t];
      },
      [&](const SpectralSums& mine) {
        for (std::size_t f = 0; f < nfft; ++f) sums.power[f] += mine.power[f];
        for (std::size_t t = 0; t < count; ++t) sums.norms[t] += mine.norms[t];
      });
  // S2(m) = sum_i y_i . y_{i+m} = (1/N) sum_f P_f e^{2 pi i f m / N}, P_f = (Q_f + Q_{N-f}) / 2: one inverse
  // transform in long double, whose error (5 u_ld log2 N relative in 2-norm, a bound on every value) joins the bound.
  std::vector<std::complex<long double>> spectrum(nfft);
  for (std::size_t f = 0; f < nfft; ++f) spectrum[f] = 0.5L * (sums.power[f] + sums.power[(nfft - f) % nfft]);
  inverse_fft_long_double(spectrum);
  std::vector<long double> s2(count);
  long double norm2 = 0.0L;
  for (std::size_t m = 0; m < nfft; ++m) norm2 += std::norm(spectrum[m]);
  for (std::size_t m = 0; m < count; ++m) s2[m] = spectrum[m].real();
  // Y = sum_t |y_t|^2 and prefix sums of the norms for S1(m) = sum_{i < P-m} n_i + sum_{i >= m} n_i.
  std::vector<long double> prefix(count + 1, 0.0L);
  for (std::size_t t = 0; t < count; ++t) prefix[t + 1] = prefix[t] + sums.norms[t];
  const long double Y = prefix[count];
  // Error bound of the spectral value at lag m (docs/msd.md, "The certified FFT"): forward FFT error
  // eta = 5 u log2 N relative in 2-norm, giving |dS2| <= (2 eta + eta^2) Y; norms and power summed in double over
  // a block's columns; centring costs at most 8 u sqrt(Y M).
  const double u = std::numeric_limits<double>::epsilon() / 2;
  const double log2n = std::log2(static_cast<double>(nfft));
  const double eta = 5.0 * u * log2n;
  const double inverse_error =
      5.0 * static_cast<double>(std::numeric_limits<long double>::epsilon()) * log2n * std::sqrt(static_cast<double>(norm2));
  const double tolerance = 1e-10;
  std::vector<double> out(count, 0.0);
  std::vector<std::size_t> redo;
  for (std::size_t m = 1; m < count; ++m) {
    const long double s1 = prefix[count - m] + (Y - prefix[m]);
    const double M = static_cast<double>(s1 - 2.0L * s2[m]);  // (P - m) MSD(m)
    const double Yd = static_cast<double>(Y);
    const double bound = 2.0 * (2.0 * eta + eta * eta) * Yd + 2.0 * (block_columns + 1) * u * Yd +
                         8.0 * u * std::sqrt(Yd * std::max(M, 0.0)) + 2.0 * inverse_error;
    if (!(M - bound > 0.0) || bound > tolerance * (M - bound)) redo.push_back(m);
    out[m] = M / static_cast<double>(count - m);
  }
  if (!redo.empty()) {
    const auto exact = direct_lag_sums(trajectory, first, count, redo);
    for (std::size_t k = 0; k < redo.size(); ++k)
      out[redo[k]] = static_cast<double>(exact[k]) / static_cast<double>(count - redo[k]);
  }
  MsdFftResult result;
  result.msd = std::move(out);
  result.fft_length = nfft;
  result.direct_lags = std::move(redo);
  return result;
}

MsdCurve msd_curve(const Part& part, const std::vector<double>& by_lag, std::size_t max_lag) {
  const std::size_t last = by_lag.empty() ? 0 : max_lag == 0 ? by_lag.size() - 1 : std::min(max_lag, by_lag.size() - 1);
  MsdCurve c;
  c.part = part.index;
  c.start = part.start;
  for (std::size_t tau = 1; tau <= last; ++tau) {
    c.lag.push_back(tau);
    c.msd.push_back(by_lag[tau]);
  }
  return c;
}

void MsdOptions::validate(const char* owner, const std::string& path) const {
  require(method == MsdMethod::automatic || method == MsdMethod::pairs || method == MsdMethod::fft, owner,
          fmt::format("{}method must be automatic, pairs or fft, got {}", path, int(method)));
}

std::vector<MsdCurve> msd(const WeightTrajectory& trajectory, const MsdOptions& options) {
  options.validate("msd: MsdOptions");
  std::vector<MsdCurve> curves;
  for (const Part& part : split_parts(trajectory.size(), options.part_length)) {
    const auto by_lag = options.method == MsdMethod::pairs
                            ? PairDistances::compute(trajectory, part.start, part.count).msd()
                            : msd_fft(trajectory, part.start, part.count);
    curves.push_back(msd_curve(part, by_lag, lag_limit(options, part.count)));
  }
  return curves;
}

LocalExponentCurve local_exponent(const MsdCurve& curve, std::size_t window) {
  if (window == 0) throw std::invalid_argument("local_exponent: the window must be at least 1 lag");
  LocalExponentCurve out;
  out.part = curve.part;
  out.start = curve.start;
  // curve.lag is 1..max_lag, so index = lag - 1.
  for (std::size_t i = 0; i + window < curve.msd.size(); ++i) {
    const double tau = static_cast<double>(curve.lag[i]);
    const double a = curve.msd[i];
    const double b = curve.msd[i + window];
    out.lag.push_back(curve.lag[i]);
    out.beta.push_back(a > 0 && b > 0 ? std::log(b / a) / std::log((tau + static_cast<double>(window)) / tau)
                                      : std::numeric_limits<double>::quiet_NaN());
  }
  return out;
}

BandExponent band_exponent(const LocalExponentCurve& beta, std::size_t window, double lag_lo, double lag_hi) {
  BandExponent b;
  b.lag_lo = lag_lo;
  b.lag_hi = lag_hi;
  std::vector<double> v;
  for (std::size_t i = 0; i < beta.lag.size(); ++i) {
    const double tau = static_cast<double>(beta.lag[i]);
    if (tau >= lag_lo && tau + static_cast<double>(window) <= lag_hi && std::isfinite(beta.beta[i])) {
      v.push_back(beta.beta[i]);
    }
  }
  b.lags = v.size();
  if (v.empty()) return b;
  std::sort(v.begin(), v.end());
  b.median = detail::quantile(v, 0.5);
  b.q25 = detail::quantile(v, 0.25);
  b.q75 = detail::quantile(v, 0.75);
  return b;
}

std::vector<MsdCurve> aging_msd(const WeightTrajectory& trajectory, const MsdOptions& options) {
  options.validate("aging_msd: MsdOptions");
  std::vector<MsdCurve> curves;
  const std::size_t D = trajectory.dimension();
  std::vector<double> origin(D), row(D);
  for (const Part& part : split_parts(trajectory.size(), options.part_length)) {
    const std::size_t max_lag = lag_limit(options, part.count);
    std::vector<double> by_lag(max_lag + 1, 0.0);
    trajectory.read(part.start, 1, 0, D, origin.data());
    for (std::size_t tau = 1; tau <= max_lag; ++tau) {
      trajectory.read(part.start + tau, 1, 0, D, row.data());
      double s = 0.0;
      for (std::size_t j = 0; j < D; ++j) s += (row[j] - origin[j]) * (row[j] - origin[j]);
      by_lag[tau] = s;
    }
    curves.push_back(msd_curve(part, by_lag, max_lag));
  }
  return curves;
}

std::vector<EnsembleCurve> ensemble_msd(const std::vector<WeightTrajectory>& trajectories,
                                        const MsdOptions& options) {
  if (trajectories.size() < 2) {
    throw std::invalid_argument(
        fmt::format("ensemble_msd: needs at least 2 trajectories, got {}", trajectories.size()));
  }
  for (const auto& t : trajectories) {
    if (t.size() != trajectories[0].size() || t.dimension() != trajectories[0].dimension()) {
      throw std::invalid_argument(fmt::format(
          "ensemble_msd: every trajectory must have the shape of the first ({} x {}); {} has {} x {}",
          trajectories[0].size(), trajectories[0].dimension(), t.source().string(), t.size(), t.dimension()));
    }
  }
  std::vector<std::vector<MsdCurve>> ta, ea;
  for (const auto& t : trajectories) {
    ta.push_back(msd(t, options));
    ea.push_back(aging_msd(t, options));
  }
  std::vector<EnsembleCurve> out;
  const double n = static_cast<double>(trajectories.size());
  for (std::size_t p = 0; p < ta[0].size(); ++p) {
    EnsembleCurve c;
    c.part = ta[0][p].part;
    c.start = ta[0][p].start;
    c.lag = ta[0][p].lag;
    c.trajectories = trajectories.size();
    for (std::size_t i = 0; i < c.lag.size(); ++i) {
      double e = 0, m1 = 0, m2 = 0;
      for (std::size_t k = 0; k < trajectories.size(); ++k) {
        e += ea[k][p].msd[i];
        m1 += ta[k][p].msd[i];
        m2 += ta[k][p].msd[i] * ta[k][p].msd[i];
      }
      e /= n, m1 /= n, m2 /= n;
      c.ensemble_msd.push_back(e);
      c.time_averaged_msd.push_back(m1);
      c.ergodicity_breaking.push_back(m1 > 0 ? m2 / (m1 * m1) - 1.0 : std::numeric_limits<double>::quiet_NaN());
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace anodiff
