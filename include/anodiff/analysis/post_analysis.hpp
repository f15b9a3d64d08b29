#pragma once
/// \file post_analysis.hpp  Every analysis of the study's section 2-3 for each part of a trajectory, as data (its files:
/// write_post_analysis, output/output.hpp).
#include <cstddef>
#include <limits>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anodiff/analysis/fit.hpp"
#include "anodiff/analysis/msd.hpp"
#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/analysis/pair_statistics.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/trajectory/shard_reduction.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {

/// Options of the post-analysis; defaults are the study's.
struct PostAnalysisOptions {
  std::size_t part_length = 0;     ///< Snapshots per part; 0 = the whole trajectory.
  std::size_t window = 20;         ///< Lag window of the local exponent beta(tau).
  std::size_t exact_limit = 20000; ///< Pair statistics for parts up to this length; longer parts get the MSD by FFT
                                   ///< only (no all-pairs statistics: O(P^2 D) time).
  std::size_t pair_memory_budget = std::size_t{1} << 30;  ///< Bytes the pair statistics of a part may hold: a part
                                   ///< whose P x P matrix (untiled_pair_memory) does not fit is done in tiles
                                   ///< (tiled_pair_statistics), the same results. Default 1 GiB (untiled up to
                                   ///< about 11,000 snapshots).
  std::size_t contour_bins = 40;   ///< Log bins of MSD against contour length.
  std::size_t msl_bins = 50;       ///< Bins of MSL against distance (linear and logarithmic).
  std::size_t histogram_bins = 40; ///< Log bins of the displacement histograms.
  std::vector<std::size_t> histogram_lags = default_histogram_lags();  ///< Lags of the histograms.
  std::size_t tail_block = 0;      ///< Block size of the tail-index estimator; 0 = floor(sqrt(samples)).
  CrossoverOptions fit;            ///< Two-regime fit of the MSD.
  double short_band_lo = 4;        ///< Short band of the band exponents: MSD lags [lo, hi] (beta windows inside).
  double short_band_hi = 40;       ///< Upper end of the short band.
  double long_band_lo = 0;         ///< Long band: MSD lags [lo, hi]; 0 = 0.3 x the part length.
  double long_band_hi = 0;         ///< 0 = 0.9 x the part length.
  std::optional<ParameterLayout> layout;  ///< With scale-invariant groups: radial and angular MSD per part.
  LogSink log;                     ///< Progress with ETA, and a note on snapshots left out; none by default.

  /// Checks the options against a trajectory of `snapshots` snapshots without analysing anything; throws
  /// std::invalid_argument naming the option and its value (a part that does not fit, window 0, an empty band, a
  /// pair_memory_budget below tiles of one row for parts that get the pair statistics).
  void validate(std::size_t snapshots) const;
};

/// One kind of motion of a part: its MSD, two-regime fit and band exponents.
struct MotionResult {
  std::string component;     ///< "all" (the weights), "radial" (norms of the scale-invariant groups) or "angular"
                             ///< (their directions w / |w|).
  std::size_t dimension = 0; ///< Coordinates of this component.
  MsdCurve msd;              ///< Its time-averaged MSD.
  CrossoverFit fit;          ///< Two-regime fit.
  BandExponent short_band;   ///< beta over the short band.
  BandExponent long_band;    ///< beta over the long band.
};

/// Everything computed for one part.
struct PartResult {
  Part part;                         ///< Which snapshots.
  bool all_pairs = false;            ///< False when the part exceeded exact_limit (MSD by FFT; no pair statistics).
  std::size_t pair_tile_rows = 0;    ///< Rows of the tiles of the pair statistics; 0 = untiled (or no pairs).
  MsdCurve msd;                      ///< Time-averaged MSD.
  LocalExponentCurve beta;           ///< Local exponent.
  MsdCurve aging;                    ///< |w(start + tau) - w(start)|^2.
  CrossoverFit fit;                  ///< Early / late exponents and tau0.
  BandExponent short_band;           ///< Model-free: beta over the short band of lags.
  BandExponent long_band;            ///< Model-free: beta over the long band of lags.
  std::vector<MotionResult> motion;  ///< all, radial, angular (the last two only with a layout that has groups).
  std::vector<double> step_length;   ///< s_k, k = 1..count-1 (index 0 unused).
  std::vector<double> mean_contour;  ///< Mean contour length per lag (index = lag).
  BinnedCurve msd_contour;           ///< MSD against contour length.
  PowerLawFit contour_fit;           ///< MSD ~ C^exponent over the non-empty contour bins.
  BinnedCurve msl_linear;            ///< MSL against distance, linear bins (empty without a loss series).
  BinnedCurve msl_log;               ///< MSL against distance, logarithmic bins.
  PowerLawFit msl_fit;               ///< MSL ~ dr^(2H) over the non-empty log bins; H = exponent / 2.
  std::vector<DisplacementHistogram> histograms;  ///< |w_{t+tau} - w_t| at the histogram lags.
  std::vector<DisplacementHistogram> rescaled;    ///< The same divided by sqrt(MSD(tau)).
  /// Tail index of the coordinates of the step increments (NaN: too few).
  double tail_index = std::numeric_limits<double>::quiet_NaN();
};

/// Analyses one part. Throws like msd().
[[nodiscard]] PartResult analyse_part(const WeightTrajectory& trajectory, const Part& part, const PostAnalysisOptions& options);

/// Analyses every part (progress to options.log).
[[nodiscard]] std::vector<PartResult> post_analysis(const WeightTrajectory& trajectory, const PostAnalysisOptions& options = {});

/// Column range [first, first + count) of `shard` of the `dimension` coordinates, contiguous and as equal as
/// possible; with a layout whose groups need whole tensors the ranges still cut anywhere (the group norms are
/// reduced). Throws std::invalid_argument for a shard outside its count.
[[nodiscard]] std::pair<std::size_t, std::size_t> shard_columns(std::size_t dimension, Shard shard);

/// What process `shard` analyses of the trajectory at `path` (anodiff-post-analysis under mpirun, each process then
/// calling post_analysis with a ShardReduction): its own shard when `path` is a sharded directory with one shard per
/// process (only that shard is mapped), else the column range shard_columns of the whole. `log` (on one process)
/// says which. Throws InputError when the whole has fewer parameters than shards.
[[nodiscard]] WeightTrajectory load_shard_columns(const std::filesystem::path& path, Shard shard,
                                                  const LogSink& log = {});

/// One coordinate shard's analysis of a part: `shard` is trajectory.columns(first, count) (its column_offset()
/// places it in the layout), and `reduction` joins the shards. Every shard gets the same PartResult, equal to
/// analyse_part() on the whole trajectory up to rounding (sums over coordinates in another order): per part one
/// reduction of count (count - 1) / 2 doubles (pair distances; with tiles one of count (step lengths) and one per
/// tile, twice with a loss series; 2 count for parts above exact_limit), then each shard bins its share of the pairs
/// (Shard) and three reductions of at most count doubles (four with a loss series) join the bins (pair_summary);
/// for the tail index one of batch x shards step counts per batch of at most 64 steps, then one of the block sums;
/// two with a layout (count x groups squared norms; count).
[[nodiscard]] PartResult analyse_part(const WeightTrajectory& shard, const Part& part, const PostAnalysisOptions& options,
                                      ShardReduction& reduction);

/// post_analysis() of one coordinate shard; every shard gets every part's result.
[[nodiscard]] std::vector<PartResult> post_analysis(const WeightTrajectory& shard, const PostAnalysisOptions& options,
                                                    ShardReduction& reduction);

/// The all-pairs statistics of a part from its (merged) distances: MSD, aging MSD, step and contour lengths,
/// MSD against contour, MSL (with `loss`, one value per snapshot, or empty) and the histograms, as analyse_part().
void pair_statistics(const PairDistances& distances, const std::vector<double>& loss, const PostAnalysisOptions& options,
                     PartResult& result);

/// The binning options of PostAnalysisOptions for the pair statistics functions.
PairStatisticsOptions pair_statistics_options(const PostAnalysisOptions& options);

}  // namespace anodiff
