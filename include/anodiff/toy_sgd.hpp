#pragma once
/// \file toy_sgd.hpp  The study's simplified model of SGD: a noisy gradient walker on a 2-D landscape.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "anodiff/landscape_2d.hpp"
#include "anodiff/weight_trajectory.hpp"

namespace anodiff {

/// What the walker does when a step would leave [-1, 1]^2.
enum class BoundaryRule {
  skip,   ///< Redraw the noise up to max_redraws times, then skip the step (the study's current script).
  redraw  ///< Redraw until inside (the 2020 script that made the study's figure): a truncated normal per coordinate.
};

/// Options of the walker; defaults are the study's.
struct ToySgdOptions {
  double eta = 0.02;             ///< Learning rate.
  double sigma = 0.01;           ///< Noise standard deviation per coordinate and step.
  std::size_t steps = 1000;      ///< Steps per walker.
  std::size_t repeats = 5;       ///< Independent walkers.
  bool fixed_start = false;      ///< Start every walker at (start_x, start_y) instead of uniformly in [-1, 1]^2.
  double start_x = 0, start_y = 0;  ///< The fixed start.
  std::size_t max_redraws = 500; ///< Noise redraws when a step would leave [-1, 1]^2; then the step is skipped.
  BoundaryRule boundary = BoundaryRule::skip;  ///< See BoundaryRule.
  std::uint64_t seed = 0;        ///< Walker k uses its own stream derived from (seed, k).
};

/// Paths of the walkers.
struct ToySgdResult {
  std::vector<WeightTrajectory> paths;   ///< One per walker: steps + 1 snapshots of D = 2, with the loss per step.
  std::vector<std::size_t> redraws;      ///< Rejected noise draws per walker (skip: pairs; redraw: per coordinate).
  std::vector<std::size_t> skipped;      ///< Steps skipped per walker (500 redraws failed).
};

/// Runs the walkers (in parallel; results depend on the seed, not on the thread count):
/// p <- p - eta grad L(p) + sigma xi, xi ~ N(0, I), noise redrawn while p leaves [-1, 1]^2.
/// Throws std::invalid_argument for eta < 0, sigma < 0, zero steps or repeats, or a start outside [-1, 1]^2.
[[nodiscard]] ToySgdResult run_toy_sgd(const Landscape2D& landscape, const ToySgdOptions& options = {});

/// How each walker is judged (docs/simplified_model.md).
struct WalkerAnalysisOptions {
  double band_lo = 1;          ///< Lag band of the exponents: a power law fitted to the MSD at lags [lo, hi].
  double band_hi = 20;         ///< Upper end of the band.
  double trap_radius = 0.05;   ///< Trapped from the first step after which the path stays this close to its end ...
  std::size_t trap_min_steps = 100;  ///< ... for at least this many steps.
  double pin_sigmas = 3;       ///< Pinned: most of the last 10% of the path within this many sigma of the edge.
  double r1_y = -0.3385;       ///< The study's R1 segment starts 200 steps after y first exceeds this ...
  std::size_t r1_delay = 200;  ///< ... (this many steps) ...
  double r1_x = -0.5;          ///< ... and ends when x first drops below this.
};

/// The statistics of one walker.
struct WalkerStatistics {
  double whole_exponent = 0;         ///< Time-averaged MSD of the whole path, exponent over the band.
  double before_trap_exponent = 0;   ///< The same on the path before trapping (NaN if shorter than 2 x band).
  double from_start_exponent = 0;    ///< |p(t) - p(0)|^2, exponent over the band.
  double r1_exponent = 0;            ///< The study's R1 segment's time-averaged exponent (NaN if it has none).
  std::size_t trap_step = 0;         ///< First step of the trapped stretch (the last step if never trapped).
  bool trapped = false;              ///< The walker was trapped (trap_min_steps or more at the end).
  std::size_t r1_start = 0, r1_end = 0;  ///< The R1 segment's steps [start, end) (0, 0 if none).
  bool pinned = false;               ///< Ends pinned against the boundary.
  std::size_t skipped = 0;           ///< Steps skipped by the boundary rule.
  std::size_t redraws = 0;           ///< Rejected noise draws (per coordinate under the redraw rule).
};

/// Statistics of each walker of `result` (run with `options`).
[[nodiscard]] std::vector<WalkerStatistics> analyse_walkers(const ToySgdResult& result, const ToySgdOptions& options,
                                                            const WalkerAnalysisOptions& analysis = {});

/// One exponent over many walkers: how it is distributed.
struct ExponentDistribution {
  std::size_t walkers = 0;   ///< Walkers with a finite value.
  double median = 0, q25 = 0, q75 = 0;  ///< Median and quartiles (NaN without walkers).
  double share_above_1 = 0;  ///< Fraction of those walkers with exponent > 1.
};

/// The distribution of the finite values of `exponents`.
[[nodiscard]] ExponentDistribution exponent_distribution(const std::vector<double>& exponents);

}  // namespace anodiff
