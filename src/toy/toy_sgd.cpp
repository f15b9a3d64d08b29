#include "anodiff/toy/toy_sgd.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/analysis/fit.hpp"
#include "anodiff/analysis/msd.hpp"
#include "detail/quantile.hpp"
#include "detail/random.hpp"

namespace anodiff {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A draw of N(mean, sigma^2) conditioned on [-1, 1]: plain rejection while the interval holds a fair share of the
// mass, else Robert's (1995) exponential rejection sampler for the tail beyond the nearer bound (the interval is
// 2 / sigma standard deviations wide, so the far bound only rejects).
double truncated_normal(detail::Rng& rng, double mean, double sigma, std::size_t& redraws) {
  if (!std::isfinite(mean)) {
    throw std::invalid_argument(fmt::format("toy SGD: the gradient step gave a non-finite position ({})", mean));
  }
  if (sigma == 0) return std::clamp(mean, -1.0, 1.0);
  const double a = (-1 - mean) / sigma, b = (1 - mean) / sigma;  // standardised bounds
  if (b - a < 1) {  // an interval narrow against sigma: uniform proposals, accepted with the density's ratio
    const double m = std::clamp(0.0, a, b);  // the point of [a, b] where the density is largest
    while (true) {
      const double z = a + (b - a) * rng.uniform();
      if (rng.uniform() <= std::exp((m * m - z * z) / 2)) return mean + sigma * z;
      ++redraws;
    }
  }
  if (a < 2 && b > -2) {  // at least ~2% of the mass inside (the interval is at least one sigma wide)
    while (true) {
      const double z = rng.normal();
      if (z >= a && z <= b) return mean + sigma * z;
      ++redraws;
    }
  }
  const bool upper = a >= 2;  // the interval lies above the mean
  const double lo = upper ? a : -b, hi = upper ? b : -a;
  const double lambda = (lo + std::sqrt(lo * lo + 4)) / 2;
  while (true) {
    double u = rng.uniform();
    while (u <= 0) u = rng.uniform();
    const double z = lo - std::log(u) / lambda;
    if (z <= hi && rng.uniform() <= std::exp(-(z - lambda) * (z - lambda) / 2)) {
      return mean + sigma * (upper ? z : -z);
    }
    ++redraws;
  }
}

PowerLawFit band_fit(const MsdCurve& c, const WalkerAnalysisOptions& a) {
  return fit_power_law(std::vector<double>(c.lag.begin(), c.lag.end()), c.msd, a.band_lo, a.band_hi);
}

// Exponent of the time-averaged MSD of snapshots [first, first + count) of a path, or NaN if too short.
double segment_exponent(const WeightTrajectory& path, std::size_t first, std::size_t count,
                        const WalkerAnalysisOptions& a) {
  if (double(count) < 2 * a.band_hi) return kNaN;
  return band_fit(msd(path.slice(first, count)).front(), a).exponent;
}

}  // namespace

const char* to_string(BoundaryRule rule) {
  switch (rule) {
    case BoundaryRule::skip: return "skip";
    case BoundaryRule::redraw: return "redraw";
    case BoundaryRule::study_origin: return "study_origin";
  }
  return "?";
}

const char* to_string(R1Rule rule) {
  switch (rule) {
    case R1Rule::whole_path: return "whole_path";
    case R1Rule::after_start: return "after_start";
  }
  return "?";
}

namespace {

// One walker's run: snapshots (x, y) per step, the loss per step, its redraws and skipped steps.
struct WalkerRun {
  std::vector<double> path, loss;
  std::size_t redraws = 0, skipped = 0;
  bool ends_skipped = false;
};

// Walker w of the options, from its own stream (seed, w).
WalkerRun walk(const Landscape2D& landscape, const ToySgdOptions& o, std::size_t w) {
  detail::Rng rng(detail::mix(o.seed, w));
  double x = o.fixed_start ? o.start_x : 2 * rng.uniform() - 1;
  double y = o.fixed_start ? o.start_y : 2 * rng.uniform() - 1;
  WalkerRun run;
  auto& path = run.path;
  auto& loss = run.loss;
  path.resize(2 * (o.steps + 1));
  loss.resize(o.steps + 1);
  path[0] = x, path[1] = y;
  loss[0] = std::numeric_limits<double>::quiet_NaN();
  // The study's script tries once and redraws while counter <= 500: 501 draws.
  const std::size_t draws = o.boundary == BoundaryRule::study_origin ? o.max_redraws + 1 : o.max_redraws;
  for (std::size_t t = 1; t <= o.steps; ++t) {
    const auto g = landscape.gradient(x, y);
    loss[t] = landscape.loss(x, y);  // the loss of step t is computed at snapshot t - 1, before the update
    const double bx = x - o.eta * g[0], by = y - o.eta * g[1];
    if (o.boundary == BoundaryRule::redraw) {
      x = truncated_normal(rng, bx, o.sigma, run.redraws);
      y = truncated_normal(rng, by, o.sigma, run.redraws);
      path[2 * t] = x, path[2 * t + 1] = y;
      continue;
    }
    bool moved = false;
    for (std::size_t k = 0; k < draws; ++k) {
      const double nx = bx + o.sigma * rng.normal(), ny = by + o.sigma * rng.normal();
      if (std::fabs(nx) <= 1 && std::fabs(ny) <= 1) {
        x = nx, y = ny, moved = true;
        break;
      }
      ++run.redraws;
    }
    if (!moved) ++run.skipped;
    run.ends_skipped = !moved;
    // study_origin: the script's `continue` leaves X{rd}(i+1), Y{rd}(i+1) at their preallocated 0.
    const bool origin = !moved && o.boundary == BoundaryRule::study_origin;
    path[2 * t] = origin ? 0.0 : x, path[2 * t + 1] = origin ? 0.0 : y;
  }
  return run;
}

ToySgdResult run_walkers(const Landscape2D& landscape, const ToySgdOptions& o, const std::vector<std::size_t>& ids) {
  o.validate();
  for (auto w : ids) {
    if (w >= o.repeats) {
      throw std::invalid_argument(fmt::format("toy SGD: walker {} is not below repeats = {}", w, o.repeats));
    }
  }
  const std::size_t W = ids.size();
  std::vector<WalkerRun> runs(W);
#pragma omp parallel for schedule(dynamic, 1)
  for (std::size_t i = 0; i < W; ++i) runs[i] = walk(landscape, o, ids[i]);
  ToySgdResult r;
  for (auto& run : runs) {
    StepTable steps;
    steps.names = {"step", "loss"};
    steps.columns.resize(2);
    for (std::size_t t = 0; t <= o.steps; ++t) steps.columns[0].push_back(double(t));
    steps.columns[1] = std::move(run.loss);
    r.paths.push_back(WeightTrajectory::from_rows(std::move(run.path), 2, std::move(steps)));
    r.redraws.push_back(run.redraws);
    r.skipped.push_back(run.skipped);
    r.ends_skipped.push_back(run.ends_skipped ? 1 : 0);
  }
  return r;
}

}  // namespace

ToySgdResult run_toy_sgd(const Landscape2D& landscape, const ToySgdOptions& o) {
  std::vector<std::size_t> ids(o.repeats);
  for (std::size_t w = 0; w < ids.size(); ++w) ids[w] = w;
  return run_walkers(landscape, o, ids);
}

ToySgdResult run_toy_sgd(const Landscape2D& landscape, const ToySgdOptions& o, const std::vector<std::size_t>& walkers) {
  return run_walkers(landscape, o, walkers);
}

}  // namespace anodiff

namespace anodiff {

namespace {

// The study's R1 segment (plot_fig4.m): bb = find(Y > r1_y, 1) + r1_delay; aa = find(X < r1_x, 1); R1 = bb:aa
// (whole_path), or from bb to the first x below r1_x at or after bb, that snapshot excluded (after_start).
void r1_segment(const WeightTrajectory& path, const std::vector<double>& xy, const WalkerAnalysisOptions& a,
                WalkerStatistics& s) {
  const std::size_t T = xy.size() / 2;
  s.r1_exponent = kNaN;
  std::size_t t = 0;
  while (t < T && !(xy[2 * t + 1] > a.r1_y)) ++t;
  if (t == T) return;  // find(Y > r1_y, 1) is empty
  const std::size_t start = t + a.r1_delay;
  if (a.r1_rule == R1Rule::whole_path) {
    std::size_t aa = 0;
    while (aa < T && !(xy[2 * aa] < a.r1_x)) ++aa;
    if (aa == T || aa < start) return;  // find(X < r1_x, 1) empty, or bb:aa empty
    s.r1_start = start, s.r1_end = aa + 1;
    s.r1_exponent = segment_exponent(path, start, s.r1_end - start, a);
    return;
  }
  if (start >= T) return;
  std::size_t end = start;
  while (end < T && !(xy[2 * end] < a.r1_x)) ++end;
  if (end < T) {
    s.r1_start = start, s.r1_end = end;
    s.r1_exponent = segment_exponent(path, start, end - start, a);
  }
}

}  // namespace

void ToySgdOptions::validate(const char* owner, const std::string& path) const {
  require(std::isfinite(eta) && eta >= 0, owner, fmt::format("{}eta must be finite and >= 0, got {}", path, eta));
  require(std::isfinite(sigma) && sigma >= 0, owner, fmt::format("{}sigma must be finite and >= 0, got {}", path, sigma));
  require(steps > 0, owner, fmt::format("{}steps must be at least 1, got 0", path));
  require(repeats > 0, owner, fmt::format("{}repeats must be at least 1, got 0", path));
  require(!fixed_start || (std::fabs(start_x) <= 1 && std::fabs(start_y) <= 1), owner,
          fmt::format("the fixed start ({0}start_x, {0}start_y) must lie in [-1, 1]^2, got ({1}, {2})", path, start_x,
                      start_y));
  require(boundary == BoundaryRule::skip || boundary == BoundaryRule::redraw || boundary == BoundaryRule::study_origin,
          owner, fmt::format("{}boundary must be skip, redraw or study_origin, got {}", path, int(boundary)));
}

void WalkerAnalysisOptions::validate(const char* owner, const std::string& path) const {
  require(band_lo >= 1 && band_hi > band_lo && std::isfinite(band_hi), owner,
          fmt::format("the band ({0}band_lo, {0}band_hi) needs 1 <= lo < hi, got {1}:{2}", path, band_lo, band_hi));
  require(std::isfinite(trap_radius) && trap_radius > 0, owner,
          fmt::format("{}trap_radius must be positive, got {}", path, trap_radius));
  require(std::isfinite(pin_sigmas) && pin_sigmas >= 0, owner,
          fmt::format("{}pin_sigmas must be finite and >= 0, got {}", path, pin_sigmas));
  require(std::isfinite(r1_x) && std::isfinite(r1_y), owner,
          fmt::format("{0}r1_x and {0}r1_y must be finite, got {1} and {2}", path, r1_x, r1_y));
  require(r1_rule == R1Rule::whole_path || r1_rule == R1Rule::after_start, owner,
          fmt::format("{}r1_rule must be whole_path or after_start, got {}", path, int(r1_rule)));
}

std::vector<WalkerStatistics> analyse_walkers(const ToySgdResult& result, const ToySgdOptions& o,
                                              const WalkerAnalysisOptions& a) {
  a.validate();
  std::vector<WalkerStatistics> out(result.paths.size());
  for (std::size_t w = 0; w < result.paths.size(); ++w) {
    const auto& path = result.paths[w];
    auto& s = out[w];
    const std::size_t T = path.size();
    s.skipped = result.skipped[w];
    s.redraws = result.redraws[w];
    s.whole_exponent = band_fit(msd(path).front(), a).exponent;
    s.from_start_exponent = band_fit(aging_msd(path).front(), a).exponent;
    std::vector<double> xy(2 * T);
    path.read(0, T, 0, 2, xy.data());
    // Trapped from the first snapshot after which the path stays within trap_radius of its end, if it stays there for
    // at least trap_min_steps steps (any path's last few steps are close to its end).
    const double ex = xy[2 * (T - 1)], ey = xy[2 * (T - 1) + 1];
    std::size_t trap = T - 1;
    while (trap > 0 && std::hypot(xy[2 * (trap - 1)] - ex, xy[2 * (trap - 1) + 1] - ey) <= a.trap_radius) --trap;
    s.trapped = T - 1 - trap >= a.trap_min_steps;
    if (!s.trapped) trap = T - 1;
    s.trap_step = trap;
    s.before_trap_exponent = segment_exponent(path, 0, trap + 1, a);
    // Pinned: most of the last 10% of the snapshots within pin_sigmas sigma of the edge of [-1, 1]^2.
    const std::size_t tail = std::max<std::size_t>(1, T / 10);
    std::size_t near_edge = 0;
    for (std::size_t t = T - tail; t < T; ++t) {
      const double m = std::max(std::fabs(xy[2 * t]), std::fabs(xy[2 * t + 1]));
      near_edge += 1 - m <= a.pin_sigmas * o.sigma;
    }
    s.pinned = 2 * near_edge > tail;
    r1_segment(path, xy, a, s);
    // The study's script skips the analysis of a walker whose last step was skipped (`if initial_con_flag continue`).
    if (o.boundary == BoundaryRule::study_origin && w < result.ends_skipped.size() && result.ends_skipped[w]) {
      s.unanalysed = true;
      s.whole_exponent = s.before_trap_exponent = s.from_start_exponent = s.r1_exponent = kNaN;
    }
  }
  return out;
}

ExponentDistribution exponent_distribution(const std::vector<double>& exponents) {
  std::vector<double> v;
  for (double e : exponents) {
    if (std::isfinite(e)) v.push_back(e);
  }
  ExponentDistribution d;
  d.walkers = v.size();
  if (v.empty()) {
    d.median = d.q25 = d.q75 = d.share_above_1 = kNaN;
    return d;
  }
  std::sort(v.begin(), v.end());
  d.median = detail::quantile(v, 0.5), d.q25 = detail::quantile(v, 0.25), d.q75 = detail::quantile(v, 0.75);
  std::size_t above = 0;
  for (double e : v) above += e > 1;
  d.share_above_1 = double(above) / double(v.size());
  return d;
}

}  // namespace anodiff
