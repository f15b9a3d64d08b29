// The curves of the pair distances (pair_statistics.hpp): mean contour length, MSD against contour length, MSL
// against distance, displacement histograms.
#include "anodiff/analysis/pair_statistics.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "detail/log_bins.hpp"
#include "detail/pair_helpers.hpp"

namespace anodiff {
using namespace detail;
namespace {

// Mean over i of the contour length C_{i,i+tau} = P_{i+tau} - P_i (P_t = s_1 + ... + s_t), lags 0..n-1.
std::vector<double> mean_contour_from_steps(const std::vector<double>& s) {
  const std::size_t n = s.size();
  std::vector<double> prefix(n, 0.0);
  for (std::size_t t = 1; t < n; ++t) prefix[t] = prefix[t - 1] + s[t];
  std::vector<double> mean(n, 0.0);
  for (std::size_t tau = 1; tau < n; ++tau) {
    double acc = 0.0;
    for (std::size_t i = 0; i + tau < n; ++i) acc += prefix[i + tau] - prefix[i];
    mean[tau] = acc / static_cast<double>(n - tau);
  }
  return mean;
}

}  // namespace

std::vector<double> mean_contour_length(const PairDistances& distances) {
  return mean_contour_from_steps(distances.step_lengths());
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
  std::vector<std::vector<double>> squared;
  for (std::size_t lag : lags) {
    if (lag == 0 || lag >= n) continue;
    std::vector<double> v(n - lag);
    for (std::size_t i = 0; i + lag < n; ++i) v[i] = distances(i, i + lag);
    squared.push_back(std::move(v));
  }
  return histograms_from_samples(squared, lags, n, distances.msd(), rescale, bins);
}

std::vector<std::size_t> default_histogram_lags() { return {1, 2, 4, 8, 16, 32, 64, 128, 256}; }

void PairStatisticsOptions::validate(const char* owner, const std::string& path) const {
  require(contour_bins >= 1, owner, fmt::format("{}contour_bins must be at least 1, got 0", path));
  require(msl_bins >= 1, owner, fmt::format("{}msl_bins must be at least 1, got 0", path));
  require(histogram_bins >= 1, owner, fmt::format("{}histogram_bins must be at least 1, got 0", path));
}

}  // namespace anodiff
