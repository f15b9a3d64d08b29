#pragma once
/// \file toy_sgd.hpp  The study's simplified model of SGD: a noisy gradient walker on a 2-D landscape.
#include <cstddef>
#include <limits>
#include <cstdint>
#include <string>
#include <vector>

#include "anodiff/landscape/landscape_2d.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {

/// What the walker does when a step would leave [-1, 1]^2 (docs/simplified_model.md).
enum class BoundaryRule {
  /// Draw the noise up to max_redraws times; if every draw leaves the box, the walker stays where it is and the path
  /// records that position again (anodiff's reading of the study's script; not what the script records).
  skip,
  /// Redraw until inside (the 2020 script that made the study's figure): a truncated normal per coordinate.
  redraw,
  /// The study's script literally (simplified_SGD_model.m): 1 + max_redraws draws (`counter > 500`); if all leave
  /// the box, `continue` leaves X{rd}(i+1), Y{rd}(i+1) at their preallocated 0: the walker stays where it is but the
  /// path records the origin (0, 0) for that step; a walker whose last step was skipped gets no exponents (the script
  /// skips its analysis).
  study_origin
};

/// "skip", "redraw" or "study_origin".
[[nodiscard]] const char* to_string(BoundaryRule rule);

/// Options of the walker; defaults are the study's.
struct ToySgdOptions {
  double eta = 0.02;             ///< Learning rate.
  double sigma = 0.01;           ///< Noise standard deviation per coordinate and step.
  std::size_t steps = 1000;      ///< Steps per walker.
  std::size_t repeats = 5;       ///< Independent walkers.
  bool fixed_start = false;      ///< Start every walker at (start_x, start_y) instead of uniformly in [-1, 1]^2.
  double start_x = 0, start_y = 0;  ///< The fixed start.
  std::size_t max_redraws = 500; ///< Noise draws (study_origin: 1 + this many) before a step is skipped.
  BoundaryRule boundary = BoundaryRule::skip;  ///< See BoundaryRule.
  std::uint64_t seed = 0;        ///< Walker k uses its own stream derived from (seed, k).
  /// Checks the values (eta, sigma finite and >= 0, steps and repeats positive, a fixed start inside [-1, 1]^2, a
  /// known boundary rule); throws std::invalid_argument "OWNER: PATHeta must be ..." naming the option and value
  /// (a parent passes its own name and the path to this struct, e.g. "SimplifiedModelOptions", "sgd.").
  void validate(const char* owner = "ToySgdOptions", const std::string& path = "") const;
};

/// Paths of the walkers.
struct ToySgdResult {
  std::vector<WeightTrajectory> paths;   ///< One per walker: steps + 1 snapshots of D = 2, with the loss per step.
  std::vector<std::size_t> redraws;      ///< Rejected noise draws per walker (skip: pairs; redraw: per coordinate).
  std::vector<std::size_t> skipped;      ///< Steps skipped per walker (every draw left the box).
  /// Per walker: 1 where its last step was skipped (empty or 0: not skipped).
  std::vector<unsigned char> ends_skipped;
};

/// Runs the walkers (in parallel; results depend on the seed, not on the thread count):
/// p <- p - eta grad L(p) + sigma xi, xi ~ N(0, I), noise redrawn while p leaves [-1, 1]^2.
/// Throws std::invalid_argument for eta < 0, sigma < 0, zero steps or repeats, a start outside [-1, 1]^2 or an
/// unknown boundary rule.
[[nodiscard]] ToySgdResult run_toy_sgd(const Landscape2D& landscape, const ToySgdOptions& options = {});

/// Runs only the walkers numbered `walkers` (each < options.repeats), in that order: walker k draws from the stream
/// of (options.seed, k), so it follows the same path as walker k of run_toy_sgd on the same landscape. The simplified
/// model runs each landscape of its pool with the walkers that drew it.
[[nodiscard]] ToySgdResult run_toy_sgd(const Landscape2D& landscape, const ToySgdOptions& options,
                                       const std::vector<std::size_t>& walkers);

/// Where the study's R1 segment (plot_fig4.m) ends (docs/simplified_model.md).
enum class R1Rule {
  /// The study's: `aa = find(X < -0.5, 1)` over the whole path and R1 = bb:aa with its end aa included; none when
  /// aa < bb (MATLAB's colon gives an empty range).
  whole_path,
  /// anodiff's earlier rule: the first x below r1_x at or after the segment's start, that snapshot excluded.
  after_start
};

/// "whole_path" or "after_start".
[[nodiscard]] const char* to_string(R1Rule rule);

/// How each walker is judged (docs/simplified_model.md).
struct WalkerAnalysisOptions {
  double band_lo = 1;          ///< Lag band of the exponents: a power law fitted to the MSD at lags [lo, hi].
  double band_hi = 20;         ///< Upper end of the band.
  double trap_radius = 0.05;   ///< Trapped from the first step after which the path stays this close to its end ...
  std::size_t trap_min_steps = 100;  ///< ... for at least this many steps.
  double pin_sigmas = 3;       ///< Pinned: most of the last 10% of the path within this many sigma of the edge.
  double r1_y = -0.3385;       ///< The study's R1 segment starts 200 steps after y first exceeds this ...
  std::size_t r1_delay = 200;  ///< ... (this many steps) ...
  double r1_x = -0.5;          ///< ... and ends when x first drops below this ...
  R1Rule r1_rule = R1Rule::whole_path;  ///< ... as this rule says.
  /// Checks the values (1 <= band_lo < band_hi, trap_radius positive, pin_sigmas >= 0, r1_x and r1_y finite, a
  /// known r1_rule); throws std::invalid_argument naming the option and value (`owner` and `path` as
  /// ToySgdOptions::validate).
  void validate(const char* owner = "WalkerAnalysisOptions", const std::string& path = "") const;
};

/// The statistics of one walker.
struct WalkerStatistics {
  static constexpr double none = std::numeric_limits<double>::quiet_NaN();  ///< An unmeasured exponent.
  double whole_exponent = none;        ///< Time-averaged MSD of the whole path, exponent over the band.
  double before_trap_exponent = none;  ///< The same on the path before trapping (NaN if shorter than 2 x band).
  double from_start_exponent = none;   ///< |p(t) - p(0)|^2, exponent over the band.
  double r1_exponent = none;           ///< The study's R1 segment's time-averaged exponent (NaN if it has none).
  /// Under BoundaryRule::study_origin, the walker's last step was skipped: every exponent is NaN (the study's script
  /// skips the analysis of such a walker).
  bool unanalysed = false;
  std::size_t trap_step = 0;         ///< First step of the trapped stretch (the last step if never trapped).
  bool trapped = false;              ///< The walker was trapped (trap_min_steps or more at the end).
  /// The R1 segment's snapshots [start, end) (0, 0 if none; under R1Rule::whole_path end = aa + 1, the study's
  /// bb:aa including aa).
  std::size_t r1_start = 0, r1_end = 0;
  bool pinned = false;               ///< Ends pinned against the boundary.
  std::size_t skipped = 0;           ///< Steps skipped by the boundary rule.
  std::size_t redraws = 0;           ///< Rejected noise draws (per coordinate under the redraw rule).
};

/// Statistics of each walker of `result` (run with `options`). Throws std::invalid_argument for an unknown
/// analysis.r1_rule.
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
