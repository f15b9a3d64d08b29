#pragma once
/// \file simplified_model.hpp  The study's simplified model of SGD (paper section 6) run on a fractal landscape and its
/// two controls, with the MSD analysis of the walkers (docs/simplified_model.md). Computes only; output.hpp writes.
#include <array>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "anodiff/analysis/fit.hpp"
#include "anodiff/toy/fractal_surface.hpp"
#include "anodiff/analysis/msd.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/landscape/roughness.hpp"
#include "anodiff/toy/toy_sgd.hpp"

namespace anodiff {

/// The height fields the walkers run on.
enum class LandscapeKind {
  fractal,  ///< Diamond-square (diamond_square, roughness 3).
  convex,   ///< The cone (cone_surface) with as many points as the fractal.
  random    ///< The fractal's pixels shuffled and smoothed (shuffled_surface, sigma 8, power 0.7).
};

/// "fractal", "convex" or "random" (the landscape's folder and its name in the CSVs).
[[nodiscard]] const char* to_string(LandscapeKind kind);

/// Which fractal landscape each walker runs on (docs/simplified_model.md).
enum class LandscapeDraw {
  /// The study's (simplified_SGD_model.m: `land_ind(rd) = randperm(length(zz),1); z = zz{land_ind(rd)}`): a pool of
  /// pool_size diamond-square landscapes, each walker on one drawn uniformly from it; under "random" each walker
  /// shuffles its own draw with its own permutation.
  pool,
  /// anodiff's earlier rule: one fractal landscape (and one shuffle of it) for all walkers.
  shared
};

/// "pool" or "shared".
[[nodiscard]] const char* to_string(LandscapeDraw draw);

/// The per-walker exponents compared across landscapes (WalkerStatistics; the `measure` of walker_exponents.csv).
enum class WalkerMeasure {
  whole_path,       ///< WalkerStatistics::whole_exponent.
  before_trapping,  ///< WalkerStatistics::before_trap_exponent.
  from_start,       ///< WalkerStatistics::from_start_exponent.
  study_r1_segment  ///< WalkerStatistics::r1_exponent.
};

/// Every WalkerMeasure, in the order of walker_exponents.csv.
inline constexpr std::array<WalkerMeasure, 4> kWalkerMeasures = {
    WalkerMeasure::whole_path, WalkerMeasure::before_trapping, WalkerMeasure::from_start,
    WalkerMeasure::study_r1_segment};

/// "whole_path", "before_trapping", "from_start" or "study_r1_segment".
[[nodiscard]] const char* to_string(WalkerMeasure measure);

/// The exponent of `walker` that `measure` names (NaN where the walker has none).
[[nodiscard]] double walker_exponent(const WalkerStatistics& walker, WalkerMeasure measure);

/// Options of run_simplified_model; the defaults reproduce anodiff-simplified-model's numbers (its --repeats default
/// of 100 aside: sgd.repeats keeps ToySgdOptions' 5).
struct SimplifiedModelOptions {
  /// Landscapes to run, in this order, each at most once (at least one).
  std::vector<LandscapeKind> landscapes = {LandscapeKind::fractal, LandscapeKind::convex, LandscapeKind::random};
  ToySgdOptions sgd;                ///< The walkers (their seed also seeds the landscapes); repeats >= 2.
  WalkerAnalysisOptions analysis;   ///< How each walker is judged.
  int n = 10;                       ///< Diamond-square levels: (2^n + 1)^2 heights, 1..13 (the cone: as many).
  LandscapeDraw draw = LandscapeDraw::pool;  ///< One landscape per walker from a pool, or one for all.
  /// Landscapes in the pool (draw = pool), 1..100000. The study's pool (`zz` of bigger_fractal_landscape.mat) is not
  /// in its repository, so its size is unknown: 10 is anodiff's choice.
  std::size_t pool_size = 10;
  ShuffleRecipe shuffle = ShuffleRecipe::study;  ///< How the "random" control smooths the shuffled heights.
  std::size_t grid = 2001;          ///< Points per axis of the walkers' loss grid over [-1, 1]^2, >= 3.
  std::size_t window = 20;          ///< Lag window of each walker's local exponent, >= 1.
  std::size_t histogram_bins = 30;  ///< Log bins of the step-length histogram, >= 1.
  LogSink log;                      ///< Progress per landscape; none by default.

  /// Checks every value without building a landscape or running a walker; throws std::invalid_argument naming the
  /// option and its value (e.g. "SimplifiedModelOptions: n must lie in 1..13, got 20").
  void validate() const;
};

/// Histogram of step lengths |p(t) - p(t - 1)| over all walkers, in log bins between the smallest and the largest
/// positive length. Empty vectors when there are no two different positive lengths.
struct StepLengthHistogram {
  std::vector<double> lo, hi;      ///< Bin edges.
  std::vector<std::size_t> count;  ///< Steps per bin.
  std::vector<double> density;     ///< count / (steps * width), steps counting zero-length ones too.
  std::size_t steps = 0;           ///< Steps of all walkers (walkers x steps).
};

/// Everything computed on one landscape.
struct SimplifiedModelLandscape {
  LandscapeKind kind = LandscapeKind::fractal;  ///< Which landscape.
  Surface heights;                    ///< Walker 0's height field z (its own grid).
  Surface loss;                       ///< L = 10 - z of walker 0 on the walkers' grid over [-1, 1]^2.
  /// Per walker: its landscape's index in the pool (the study's land_ind - 1); 0 for every walker of the cone and
  /// under LandscapeDraw::shared.
  std::vector<std::size_t> landscape_index;
  ToySgdResult walks;                 ///< The walkers' paths, redraws and skipped steps.
  std::vector<MsdCurve> walker_msd;   ///< Per walker: time-averaged MSD of the whole path.
  std::vector<LocalExponentCurve> walker_beta;  ///< Per walker: its local exponent (options.window).
  std::vector<WalkerStatistics> walkers;        ///< Per walker: analyse_walkers.
  EnsembleCurve ensemble;             ///< Mean time-averaged MSD, ensemble MSD from the start, ergodicity breaking.
  CrossoverFit fit;                   ///< Two-regime fit of the mean time-averaged MSD.
  CrossoverFit from_start;            ///< Two-regime fit of the ensemble MSD from the start.
  PowerLawFit short_lags;             ///< Power law of the mean time-averaged MSD over lags 1-20.
  /// Tail index of the coordinate increments of all steps (NaN with too few).
  double tail_index = std::numeric_limits<double>::quiet_NaN();
  HurstEstimate hurst;                ///< Hurst exponent of `loss` (walker 0's), S_2 over lags 1-16 pixels.
  StepLengthHistogram step_lengths;   ///< Step-length histogram over all walkers.
  std::array<ExponentDistribution, kWalkerMeasures.size()> exponents;  ///< Per WalkerMeasure (index = its value).
  std::size_t pinned_walkers = 0;     ///< Walkers that end pinned against the boundary.
  std::size_t redraws = 0;            ///< Rejected noise draws, all walkers.
  std::size_t skipped_steps = 0;      ///< Steps skipped by the boundary rule, all walkers.
  double skipped_share = 0;           ///< skipped_steps / (walkers x steps).

  /// The distribution of one measure over the walkers.
  [[nodiscard]] const ExponentDistribution& exponent(WalkerMeasure measure) const {
    return exponents[std::size_t(measure)];
  }
};

/// The result of run_simplified_model.
struct SimplifiedModelResult {
  SimplifiedModelOptions options;                 ///< The options of the run (without the log).
  std::vector<SimplifiedModelLandscape> landscapes;  ///< One per options.landscapes, in that order.
};

/// Builds each landscape, runs the walkers on it and analyses them (validates the options first). Writes nothing;
/// progress goes to options.log.
[[nodiscard]] SimplifiedModelResult run_simplified_model(const SimplifiedModelOptions& options);

/// The study's land_ind: per walker (options.sgd.repeats), the index of its landscape in the pool, uniform in
/// 0..pool_size - 1 from a generator seeded by options.sgd.seed; all 0 under LandscapeDraw::shared.
[[nodiscard]] std::vector<std::size_t> pool_draw(const SimplifiedModelOptions& options);

/// Landscape `index` of the pool: diamond_square(n, 3, a seed derived from (options.sgd.seed, index)). Under
/// LandscapeDraw::shared the one fractal landscape, diamond_square(n, 3, options.sgd.seed), whatever the index.
[[nodiscard]] Surface pool_landscape(const SimplifiedModelOptions& options, std::size_t index);

/// The height field `walker` runs on when it drew pool landscape `index`: the cone; that pool landscape; or, for
/// "random", that landscape shuffled with the walker's own permutation (pool) or with one for all walkers (shared,
/// the seed options.sgd.seed + 1), smoothed by options.shuffle with sigma 8 and power 0.7.
[[nodiscard]] Surface walker_heights(LandscapeKind kind, const SimplifiedModelOptions& options, std::size_t index,
                                     std::size_t walker);

}  // namespace anodiff
