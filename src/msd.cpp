#include "anodiff/msd.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <exception>
#include <stdexcept>

#include <fmt/format.h>
#include <unsupported/Eigen/FFT>

#include "anodiff/pair_statistics.hpp"

namespace anodiff {

std::vector<Part> split_parts(std::size_t snapshots, std::size_t part_length, bool report) {
  const std::size_t p = part_length == 0 ? snapshots : part_length;
  if (p < 2 || snapshots < p) {
    throw std::invalid_argument(fmt::format(
        "an analysis needs parts of at least 2 snapshots: the trajectory has {} snapshots, the part length is {}",
        snapshots, part_length));
  }
  std::vector<Part> parts;
  for (std::size_t k = 0; (k + 1) * p <= snapshots; ++k) parts.push_back({k, k * p, p});
  const std::size_t rest = snapshots - parts.size() * p;
  if (rest > 0 && report) {
    std::fprintf(stderr, "anodiff: the last %zu snapshots (fewer than a part of %zu) are not analysed\n", rest, p);
  }
  return parts;
}

namespace {

std::size_t lag_limit(const MsdOptions& o, std::size_t count) {
  return o.max_lag == 0 ? count - 1 : std::min(o.max_lag, count - 1);
}

MsdCurve make_curve(const Part& part, const std::vector<double>& by_lag, std::size_t max_lag) {
  MsdCurve c;
  c.part = part.index;
  c.start = part.start;
  for (std::size_t tau = 1; tau <= max_lag; ++tau) {
    c.lag.push_back(tau);
    c.msd.push_back(by_lag[tau]);
  }
  return c;
}

bool use_pairs(const MsdOptions& o, std::size_t count) {
  return o.method == MsdMethod::pairs || (o.method == MsdMethod::automatic && count <= o.exact_limit);
}

}  // namespace

std::vector<double> msd_fft(const WeightTrajectory& trajectory, std::size_t first, std::size_t count) {
  if (count < 2 || first + count > trajectory.size()) {
    throw std::invalid_argument(fmt::format("msd_fft: part [{}, {}) of a trajectory of {} snapshots", first,
                                            first + count, trajectory.size()));
  }
  const std::size_t D = trajectory.dimension();
  std::size_t nfft = 1;
  while (nfft < 2 * count) nfft *= 2;
  const std::size_t half = nfft / 2 + 1;
  const std::size_t width = 32;
  std::vector<double> power(half, 0.0);
  std::vector<double> norms(count, 0.0);  // |x_t - mean|^2 summed over coordinates
  std::exception_ptr error;
#pragma omp parallel
  {
    Eigen::FFT<double> fft;
    fft.SetFlag(Eigen::FFT<double>::HalfSpectrum);
    std::vector<double> block(count * width);
    std::vector<double> signal(nfft, 0.0);
    std::vector<std::complex<double>> spectrum;
    std::vector<double> my_power(half, 0.0), my_norms(count, 0.0);
#pragma omp for schedule(dynamic, 4)
    for (std::size_t col = 0; col < D; col += width) {
      const std::size_t w = std::min(width, D - col);
      try {
        trajectory.read(first, count, col, w, block.data());
      } catch (...) {
#pragma omp critical
        if (!error) error = std::current_exception();
        continue;
      }
      for (std::size_t j = 0; j < w; ++j) {
        double mean = 0.0;
        for (std::size_t t = 0; t < count; ++t) mean += block[t * w + j];
        mean /= static_cast<double>(count);
        for (std::size_t t = 0; t < count; ++t) {
          const double v = block[t * w + j] - mean;
          signal[t] = v;
          my_norms[t] += v * v;
        }
        std::fill(signal.begin() + static_cast<std::ptrdiff_t>(count), signal.end(), 0.0);
        fft.fwd(spectrum, signal);
        for (std::size_t f = 0; f < half; ++f) my_power[f] += std::norm(spectrum[f]);
      }
    }
#pragma omp critical
    {
      for (std::size_t f = 0; f < half; ++f) power[f] += my_power[f];
      for (std::size_t t = 0; t < count; ++t) norms[t] += my_norms[t];
    }
  }
  if (error) std::rethrow_exception(error);
  // S2(m) = sum_i x_i . x_{i+m}: inverse transform of the summed power spectrum.
  Eigen::FFT<double> fft;
  fft.SetFlag(Eigen::FFT<double>::HalfSpectrum);
  std::vector<std::complex<double>> spectrum(half);
  for (std::size_t f = 0; f < half; ++f) spectrum[f] = power[f];
  std::vector<double> s2;
  fft.inv(s2, spectrum, static_cast<Eigen::Index>(nfft));
  // S1(m) = sum_{i=0}^{n-1-m} (|x_i|^2 + |x_{i+m}|^2), by the tidynamics recursion.
  std::vector<double> out(count, 0.0);
  double q = 0.0;
  for (double v : norms) q += 2.0 * v;
  for (std::size_t m = 0; m < count; ++m) {
    if (m > 0) q -= norms[m - 1] + norms[count - m];
    out[m] = (q - 2.0 * s2[m]) / static_cast<double>(count - m);
  }
  out[0] = 0.0;
  return out;
}

std::vector<MsdCurve> msd(const WeightTrajectory& trajectory, const MsdOptions& options) {
  std::vector<MsdCurve> curves;
  for (const Part& part : split_parts(trajectory.size(), options.part_length)) {
    const auto by_lag = use_pairs(options, part.count)
                            ? PairDistances::compute(trajectory, part.start, part.count).msd()
                            : msd_fft(trajectory, part.start, part.count);
    curves.push_back(make_curve(part, by_lag, lag_limit(options, part.count)));
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

std::vector<MsdCurve> aging_msd(const WeightTrajectory& trajectory, const MsdOptions& options) {
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
    curves.push_back(make_curve(part, by_lag, max_lag));
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
