#include "anodiff/toy/simplified_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/landscape/landscape_2d.hpp"
#include "detail/log_bins.hpp"
#include "detail/random.hpp"

namespace anodiff {

const char* to_string(LandscapeKind kind) {
  switch (kind) {
    case LandscapeKind::fractal: return "fractal";
    case LandscapeKind::convex: return "convex";
    case LandscapeKind::random: return "random";
  }
  return "?";
}

const char* to_string(LandscapeDraw draw) {
  switch (draw) {
    case LandscapeDraw::pool: return "pool";
    case LandscapeDraw::shared: return "shared";
  }
  return "?";
}

const char* to_string(WalkerMeasure measure) {
  switch (measure) {
    case WalkerMeasure::whole_path: return "whole_path";
    case WalkerMeasure::before_trapping: return "before_trapping";
    case WalkerMeasure::from_start: return "from_start";
    case WalkerMeasure::study_r1_segment: return "study_r1_segment";
  }
  return "?";
}

double walker_exponent(const WalkerStatistics& walker, WalkerMeasure measure) {
  switch (measure) {
    case WalkerMeasure::whole_path: return walker.whole_exponent;
    case WalkerMeasure::before_trapping: return walker.before_trap_exponent;
    case WalkerMeasure::from_start: return walker.from_start_exponent;
    case WalkerMeasure::study_r1_segment: return walker.r1_exponent;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

namespace {


// Streams of the run's seed for the pool, its draw and the walkers' shuffles: tags far from the walkers' own streams
// (seed, k) of run_toy_sgd, so no landscape shares a random stream with a walker.
constexpr std::uint64_t kPoolStream = 0x706f6f6c;     // "pool"
constexpr std::uint64_t kDrawStream = 0x64726177;     // "draw"
constexpr std::uint64_t kShuffleStream = 0x73687566;  // "shuf"

// Log bins between the smallest and largest positive length; density per step of all walkers (zero steps too).
StepLengthHistogram histogram_of(const std::vector<double>& step_lengths, std::size_t bins) {
  StepLengthHistogram h;
  h.steps = step_lengths.size();
  double lo = 1e300, hi = 0;
  for (double v : step_lengths) {
    if (v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!(hi > lo)) return h;
  const detail::LogBins layout{lo, hi, bins};
  h.count.assign(bins, 0);
  for (double v : step_lengths) {
    if (v > 0) ++h.count[layout.index(v)];
  }
  for (std::size_t b = 0; b < bins; ++b) {
    h.lo.push_back(layout.edge(b));
    h.hi.push_back(layout.edge(b + 1));
    h.density.push_back(double(h.count[b]) / (double(h.steps) * (h.hi[b] - h.lo[b])));
  }
  return h;
}

// Runs the walkers of `kind` into r (walks, landscape_index, heights and loss of walker 0): walkers that share a
// landscape run together on one Landscape2D, built, used and freed in turn (one 2001^2 grid held at a time).
void run_walkers(LandscapeKind kind, const SimplifiedModelOptions& options, SimplifiedModelLandscape& r,
                 Progress& progress) {
  const ToySgdOptions& o = options.sgd;
  const std::size_t W = o.repeats;
  r.landscape_index = kind == LandscapeKind::convex ? std::vector<std::size_t>(W, 0) : pool_draw(options);
  std::vector<std::vector<std::size_t>> groups;  // walkers per landscape
  if (kind == LandscapeKind::random && options.draw == LandscapeDraw::pool) {
    for (std::size_t w = 0; w < W; ++w) groups.push_back({w});  // each walker shuffles its own draw
  } else {
    groups.resize(options.draw == LandscapeDraw::pool && kind != LandscapeKind::convex ? options.pool_size : 1);
    for (std::size_t w = 0; w < W; ++w) groups[r.landscape_index[w]].push_back(w);
  }
  r.walks.paths.resize(W);
  r.walks.redraws.assign(W, 0);
  r.walks.skipped.assign(W, 0);
  r.walks.ends_skipped.assign(W, 0);
  for (const auto& group : groups) {
    if (group.empty()) continue;
    const Surface heights = walker_heights(kind, options, r.landscape_index[group.front()], group.front());
    const auto landscape = Landscape2D::from_heights(heights, options.grid);
    auto walks = run_toy_sgd(landscape, o, group);
    for (std::size_t i = 0; i < group.size(); ++i) {
      const std::size_t w = group[i];
      r.walks.paths[w] = std::move(walks.paths[i]);
      r.walks.redraws[w] = walks.redraws[i];
      r.walks.skipped[w] = walks.skipped[i];
      r.walks.ends_skipped[w] = walks.ends_skipped[i];
    }
    if (group.front() == 0) {
      r.heights = heights;
      r.loss = landscape.surface();
      progress.update(1, "landscape built");
    }
  }
}

SimplifiedModelLandscape run_landscape(LandscapeKind kind, const SimplifiedModelOptions& options) {
  const ToySgdOptions& o = options.sgd;
  Progress progress(options.log, fmt::format("simplified model ({})", to_string(kind)), 3);
  SimplifiedModelLandscape r;
  r.kind = kind;
  run_walkers(kind, options, r, progress);
  progress.update(2, "walkers done");

  // Per walker: MSD and local exponent; over all walkers, in walker and step order: step lengths and the coordinate
  // increments (the tail index depends on their order).
  std::vector<double> step_lengths, increments;
  for (const auto& path : r.walks.paths) {
    std::vector<double> prev;
    for (std::size_t t = 0; t < path.size(); ++t) {
      const auto p = path.snapshot(t);
      if (!prev.empty()) {
        step_lengths.push_back(std::hypot(p[0] - prev[0], p[1] - prev[1]));
        increments.push_back(p[0] - prev[0]);
        increments.push_back(p[1] - prev[1]);
      }
      prev = p;
    }
    r.walker_msd.push_back(msd(path).front());
    r.walker_beta.push_back(local_exponent(r.walker_msd.back(), options.window));
  }
  r.walkers = analyse_walkers(r.walks, o, options.analysis);
  for (const auto& v : r.walkers) {
    r.pinned_walkers += v.pinned;
    r.skipped_steps += v.skipped;
  }
  for (auto k : r.walks.redraws) r.redraws += k;
  r.skipped_share = double(r.skipped_steps) / double(r.walkers.size() * o.steps);

  // The mean MSD over walkers and its fits.
  r.ensemble = ensemble_msd(r.walks.paths).front();
  const std::vector<double> lags(r.ensemble.lag.begin(), r.ensemble.lag.end());
  r.fit = fit_crossover(lags, r.ensemble.time_averaged_msd);
  r.from_start = fit_crossover(lags, r.ensemble.ensemble_msd);
  r.short_lags = fit_power_law(lags, r.ensemble.time_averaged_msd, 1, 20);
  r.tail_index = tail_index(increments);
  r.hurst = hurst_exponent(structure_function(r.loss, 2, 16), 1, 16);
  r.step_lengths = histogram_of(step_lengths, options.histogram_bins);
  for (const auto m : kWalkerMeasures) {
    std::vector<double> values;
    for (const auto& v : r.walkers) values.push_back(walker_exponent(v, m));
    r.exponents[std::size_t(m)] = exponent_distribution(values);
  }
  progress.finish();
  return r;
}

}  // namespace

void SimplifiedModelOptions::validate() const {
  constexpr const char* owner = "SimplifiedModelOptions";
  require(!landscapes.empty(), owner, "landscapes must name at least one landscape");
  for (std::size_t i = 0; i < landscapes.size(); ++i) {
    require(std::count(landscapes.begin(), landscapes.begin() + std::ptrdiff_t(i), landscapes[i]) == 0, owner,
            fmt::format("landscapes lists {} twice", to_string(landscapes[i])));
  }
  sgd.validate(owner, "sgd.");
  analysis.validate(owner, "analysis.");
  require(sgd.repeats >= 2, owner,
          fmt::format("sgd.repeats must be at least 2 (the ensemble MSD needs two walkers), got {}", sgd.repeats));
  require(n >= 1 && n <= 13, owner, fmt::format("n must lie in 1..13, got {}", n));
  require(draw == LandscapeDraw::pool || draw == LandscapeDraw::shared, owner,
          fmt::format("draw must be pool or shared, got {}", int(draw)));
  require(pool_size >= 1 && pool_size <= 100000, owner, fmt::format("pool_size must lie in 1..100000, got {}", pool_size));
  require(shuffle == ShuffleRecipe::study || shuffle == ShuffleRecipe::rescaled, owner,
          fmt::format("shuffle must be study or rescaled, got {}", int(shuffle)));
  require(grid >= 3, owner, fmt::format("grid must be at least 3, got {}", grid));
  require(window != 0, owner, "window must be at least 1, got 0");
  require(histogram_bins != 0, owner, "histogram_bins must be at least 1, got 0");
}

std::vector<std::size_t> pool_draw(const SimplifiedModelOptions& options) {
  std::vector<std::size_t> index(options.sgd.repeats, 0);
  if (options.draw == LandscapeDraw::shared) return index;
  // land_ind(rd) = randperm(length(zz), 1): one uniform draw per walker, in walker order.
  detail::Rng rng(detail::mix(options.sgd.seed, kDrawStream));
  for (auto& i : index) i = std::size_t(rng.below(options.pool_size));
  return index;
}

Surface pool_landscape(const SimplifiedModelOptions& options, std::size_t index) {
  const std::uint64_t seed = options.sgd.seed;
  if (options.draw == LandscapeDraw::shared) return diamond_square(options.n, 3.0, seed);
  return diamond_square(options.n, 3.0, detail::mix(detail::mix(seed, kPoolStream), index));
}

Surface walker_heights(LandscapeKind kind, const SimplifiedModelOptions& options, std::size_t index,
                       std::size_t walker) {
  if (kind == LandscapeKind::convex) return cone_surface((std::size_t{1} << options.n) + 1);
  const Surface fractal = pool_landscape(options, index);
  if (kind == LandscapeKind::fractal) return fractal;
  const std::uint64_t seed = options.draw == LandscapeDraw::shared
                                 ? options.sgd.seed + 1
                                 : detail::mix(detail::mix(options.sgd.seed, kShuffleStream), walker);
  return shuffled_surface(fractal, 8.0, 0.7, seed, options.shuffle);
}

SimplifiedModelResult run_simplified_model(const SimplifiedModelOptions& options) {
  options.validate();
  SimplifiedModelResult result;
  result.options = options;
  result.options.log = nullptr;
  for (const auto kind : options.landscapes) result.landscapes.push_back(run_landscape(kind, options));
  return result;
}

}  // namespace anodiff
