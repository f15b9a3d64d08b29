#include "anodiff/landscape/roughness.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "detail/log_bins.hpp"
#include "detail/random.hpp"

namespace anodiff {

namespace {
double power(double d, double q) { return q == 2 ? d * d : (q == 1 ? std::fabs(d) : std::pow(std::fabs(d), q)); }
}  // namespace

StructureFunction structure_function(const Surface& s, double q, std::size_t max_lag) {
  if (!(q > 0)) throw std::invalid_argument(fmt::format("structure_function: q must be > 0, got {}", q));
  if (s.rows < 2 || s.cols < 2) throw std::invalid_argument("structure_function: the surface needs 2 x 2 points");
  max_lag = std::min(max_lag, std::min(s.rows, s.cols) - 1);
  StructureFunction out;
  out.q = q;
  for (std::size_t r = 1; r <= max_lag; ++r) {
    double acc = 0;
    std::size_t n = 0;
#pragma omp parallel for reduction(+ : acc, n) schedule(static)
    for (std::size_t i = 0; i < s.rows; ++i) {
      for (std::size_t j = 0; j + r < s.cols; ++j) acc += power(s.at(i, j + r) - s.at(i, j), q), ++n;
      if (i + r < s.rows) {
        for (std::size_t j = 0; j < s.cols; ++j) acc += power(s.at(i + r, j) - s.at(i, j), q), ++n;
      }
    }
    out.lag.push_back(double(r));
    out.value.push_back(acc / double(n));
  }
  return out;
}

StructureFunction structure_function(const std::vector<double>& p, double q, std::size_t max_lag) {
  if (!(q > 0)) throw std::invalid_argument(fmt::format("structure_function: q must be > 0, got {}", q));
  if (p.size() < 2) throw std::invalid_argument("structure_function: the profile needs 2 points");
  max_lag = std::min(max_lag, p.size() - 1);
  StructureFunction out;
  out.q = q;
  for (std::size_t r = 1; r <= max_lag; ++r) {
    double acc = 0;
    for (std::size_t i = 0; i + r < p.size(); ++i) acc += power(p[i + r] - p[i], q);
    out.lag.push_back(double(r));
    out.value.push_back(acc / double(p.size() - r));
  }
  return out;
}

HurstEstimate hurst_exponent(const StructureFunction& s, double lag_min, double lag_max) {
  const auto f = fit_power_law(s.lag, s.value, lag_min, lag_max);
  HurstEstimate h;
  h.hurst = f.exponent / s.q;
  h.error = f.exponent_error / s.q;
  h.lag_min = f.x_min;
  h.lag_max = f.x_max;
  h.points = f.points;
  return h;
}

BoxCounting box_counting(const Surface& s) {
  const std::size_t m = std::min(s.rows, s.cols);
  if (m < 8) throw std::invalid_argument("box_counting: the surface needs at least 8 x 8 points");
  const auto [lo, hi] = std::minmax_element(s.z.begin(), s.z.end());
  const double zmin = *lo, span = *hi - *lo;
  const double scale = span > 0 ? double(m - 1) / span : 0.0;  // heights in pixel units
  BoxCounting out;
  for (std::size_t b = 2; b <= std::max<std::size_t>((m - 1) / 4, 4); b *= 2) {  // at least two box sizes
    double count = 0;
    for (std::size_t i0 = 0; i0 + b < m; i0 += b) {
      for (std::size_t j0 = 0; j0 + b < m; j0 += b) {
        double zl = std::numeric_limits<double>::infinity(), zh = -zl;
        for (std::size_t i = i0; i <= i0 + b; ++i) {
          for (std::size_t j = j0; j <= j0 + b; ++j) {
            const double v = (s.at(i, j) - zmin) * scale;
            zl = std::min(zl, v);
            zh = std::max(zh, v);
          }
        }
        count += std::floor(zh / double(b)) - std::floor(zl / double(b)) + 1;
      }
    }
    out.box.push_back(double(b));
    out.count.push_back(count);
  }
  out.fit = fit_power_law(out.box, out.count, 0, std::numeric_limits<double>::infinity());
  out.dimension = -out.fit.exponent;
  return out;
}

PairRoughness mean_abs_difference(const Surface& s, std::size_t pairs, std::size_t bins, std::uint64_t seed) {
  if (pairs == 0 || bins == 0) throw std::invalid_argument("mean_abs_difference: pairs and bins must be positive");
  detail::Rng rng(seed);
  std::vector<double> dist(pairs), dz(pairs);
  double dmin = std::numeric_limits<double>::infinity(), dmax = 0;
  for (std::size_t k = 0; k < pairs; ++k) {
    const std::size_t i1 = rng.below(s.rows), j1 = rng.below(s.cols), i2 = rng.below(s.rows), j2 = rng.below(s.cols);
    dist[k] = std::hypot(s.x(j2) - s.x(j1), s.y(i2) - s.y(i1));
    dz[k] = std::fabs(s.at(i2, j2) - s.at(i1, j1));
    if (dist[k] > 0) dmin = std::min(dmin, dist[k]), dmax = std::max(dmax, dist[k]);
  }
  PairRoughness out;
  auto& c = out.curve;
  c.lo.resize(bins), c.hi.resize(bins), c.x.assign(bins, 0), c.mean.assign(bins, 0), c.count.assign(bins, 0);
  const detail::LogBins layout{dmin, dmax, bins};
  for (std::size_t b = 0; b < bins; ++b) c.lo[b] = layout.edge(b), c.hi[b] = layout.edge(b + 1);
  for (std::size_t k = 0; k < pairs; ++k) {
    if (!(dist[k] > 0)) continue;
    const std::size_t b = layout.index(dist[k]);
    c.x[b] += dist[k], c.mean[b] += dz[k], ++c.count[b];
  }
  for (std::size_t b = 0; b < bins; ++b) {
    if (c.count[b]) {
      c.x[b] /= double(c.count[b]), c.mean[b] /= double(c.count[b]);
    } else {
      c.x[b] = c.mean[b] = std::numeric_limits<double>::quiet_NaN();
    }
  }
  out.fit = fit_power_law(c.x, c.mean, 0, std::numeric_limits<double>::infinity());
  return out;
}

}  // namespace anodiff
