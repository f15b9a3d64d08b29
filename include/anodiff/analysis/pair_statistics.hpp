#pragma once
/// \file pair_statistics.hpp  All-pairs geometry of one trajectory part: distances, contour length, MSL, histograms.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "anodiff/trajectory/shard_reduction.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {

/// Sums partial values over coordinate shards in place (an all-reduce: every shard calls it in the same order with
/// the same count); empty for a single process.
using ShardSum = std::function<void(double* data, std::size_t count)>;

/// Squared distances |w_i - w_j|^2 between all snapshots of one part, accurate relative to each distance.
class PairDistances {
 public:
  /// Computes the distances of snapshots [first, first + count) from the float64 Gram matrix of the increments
  /// (BLAS syrk over column blocks, then a prefix recursion). O(count^2 D) time, count^2 doubles of memory.
  /// Throws std::invalid_argument for count < 2, InputError for non-finite weights.
  static PairDistances compute(const WeightTrajectory& trajectory, std::size_t first, std::size_t count);
  /// The same by direct float64 summation over every pair and coordinate (slow; the reference in tests).
  static PairDistances brute_force(const WeightTrajectory& trajectory, std::size_t first, std::size_t count);
  /// Distances from a column-major n x n matrix of squared distances (entry i + j n for i < j; the diagonal and
  /// lower triangle are ignored), e.g. the sum of the squared_distances() of coordinate shards
  /// (WeightTrajectory::columns): the distances are sums over coordinates, so shards merge exactly.
  /// Throws std::invalid_argument for n < 2 or a matrix of another size.
  static PairDistances from_squared_distances(std::size_t n, std::vector<double> squared);
  /// Adds the distances of another coordinate shard of the same part (same size(); throws std::invalid_argument
  /// otherwise); step lengths are recomputed from the sum.
  PairDistances& operator+=(const PairDistances& other);
  /// Sums the distances of a coordinate shard over all shards in place with one `sum` of the n (n - 1) / 2 entries
  /// above the diagonal (half the matrix); step lengths are recomputed from the sum.
  void sum_over_shards(const ShardSum& sum);
  /// The column-major n x n matrix: |w_i - w_j|^2 at i + j n for i < j, zero elsewhere.
  [[nodiscard]] const std::vector<double>& squared_distances() const { return d_; }

  /// Number of snapshots n in the part.
  [[nodiscard]] std::size_t size() const { return n_; }
  /// |w_i - w_j|^2 for snapshots i, j of the part (0-based within the part).
  double operator()(std::size_t i, std::size_t j) const {
    if (i == j) return 0.0;
    return i < j ? d_[i + j * n_] : d_[j + i * n_];
  }
  /// Step lengths s_k = |w_k - w_{k-1}|, k = 1..n-1 (element 0 is 0).
  [[nodiscard]] const std::vector<double>& step_lengths() const { return step_; }
  /// Time-averaged MSD at lags 0..n-1 (element 0 is 0): mean over i of |w_{i+tau} - w_i|^2.
  [[nodiscard]] std::vector<double> msd() const;
  /// Squared distance from the first snapshot of the part, at lags 0..n-1 (the aging MSD of this part).
  [[nodiscard]] std::vector<double> from_start() const;

 private:
  void step_lengths_from_distances();  // step_[c] = sqrt(d(c - 1, c))

  std::size_t n_ = 0;
  std::vector<double> d_;     // column-major n x n; d(i, j) for i < j at i + j n
  std::vector<double> step_;  // step lengths
};

/// Averages of y in bins of x.
struct BinnedCurve {
  std::vector<double> lo;     ///< Lower bin edge.
  std::vector<double> hi;     ///< Upper bin edge.
  std::vector<double> x;      ///< Mean x of the pairs in the bin.
  std::vector<double> mean;   ///< Mean y in the bin (NaN when empty).
  std::vector<std::size_t> count;  ///< Pairs in the bin.
};

/// Bin layout of a BinnedCurve or a histogram.
enum class Binning { linear, logarithmic };

/// Mean contour (path) length per lag: mean over i of C_{i,i+tau} = sum_{k=i+1}^{i+tau} s_k, lags 0..n-1.
std::vector<double> mean_contour_length(const PairDistances& distances);

/// MSD against contour length: every pair (i < j) gives (C_ij, |w_j - w_i|^2), averaged in `bins` log bins of C.
BinnedCurve msd_vs_contour(const PairDistances& distances, std::size_t bins = 40);

/// Mean squared loss difference against distance: pairs (|w_j - w_i|, (L_j - L_i)^2) averaged in `bins` bins of
/// distance between the smallest and largest; pairs with a NaN loss are skipped. `loss` has one value per snapshot.
/// Throws std::invalid_argument if loss.size() != distances.size().
BinnedCurve msl_vs_distance(const PairDistances& distances, const std::vector<double>& loss, Binning binning,
                            std::size_t bins = 50);

/// Histogram of displacement lengths at one lag.
struct DisplacementHistogram {
  std::size_t lag = 0;             ///< tau.
  double scale = 1.0;              ///< sqrt(MSD(tau)) for a rescaled histogram, 1 otherwise.
  std::vector<double> lo, hi;      ///< Bin edges (of |dw| / scale).
  std::vector<std::size_t> count;  ///< Samples per bin.
  std::vector<double> density;     ///< count / (samples * width).
};

/// Histograms of |w_{t+tau} - w_t| at each lag of `lags` below n (log bins common to all lags); with `rescale`,
/// of |w_{t+tau} - w_t| / sqrt(MSD(tau)).
std::vector<DisplacementHistogram> displacement_histograms(const PairDistances& distances,
                                                           const std::vector<std::size_t>& lags, bool rescale,
                                                           std::size_t bins = 40);

/// The lags 1, 2, 4, ..., 256 (the study's histogram lags).
std::vector<std::size_t> default_histogram_lags();

/// Bin counts and histogram lags of the all-pairs statistics (the fields of PostAnalysisOptions of the same names).
struct PairStatisticsOptions {
  std::size_t contour_bins = 40;    ///< Log bins of MSD against contour length.
  std::size_t msl_bins = 50;        ///< Bins of MSL against distance (linear and logarithmic).
  std::size_t histogram_bins = 40;  ///< Log bins of the displacement histograms.
  std::vector<std::size_t> histogram_lags = default_histogram_lags();  ///< Lags of the histograms (those outside
                                                                      ///< 1..part length - 1 are left out).
  /// Checks the values (every bin count at least 1); throws std::invalid_argument "OWNER: PATHcontour_bins must ..."
  /// naming the option and value (a parent passes its own name and the path to this struct).
  void validate(const char* owner = "PairStatisticsOptions", const std::string& path = "") const;
};

/// Every all-pairs statistic of one part, as the functions above compute them from a PairDistances.
struct PairSummary {
  std::vector<double> msd;           ///< Time-averaged MSD at lags 0..n-1 (PairDistances::msd()).
  std::vector<double> from_start;    ///< |w_tau - w_0|^2 at lags 0..n-1 (PairDistances::from_start()).
  std::vector<double> step_lengths;  ///< s_k, k = 1..n-1 (element 0 is 0).
  std::vector<double> mean_contour;  ///< mean_contour_length().
  BinnedCurve msd_contour;           ///< msd_vs_contour().
  BinnedCurve msl_linear;            ///< msl_vs_distance(), linear bins; no bins without a loss series.
  BinnedCurve msl_log;               ///< msl_vs_distance(), logarithmic bins; no bins without a loss series.
  std::vector<DisplacementHistogram> histograms;  ///< displacement_histograms() without rescaling.
  std::vector<DisplacementHistogram> rescaled;    ///< The same divided by sqrt(MSD(tau)).
  std::size_t tile_rows = 0;         ///< Snapshots per tile side (rows = columns).
  std::size_t tiles = 0;             ///< Tiles of the upper triangle visited per pass.
  std::size_t passes = 0;            ///< Passes over the tiles: 2 with a loss series (MSL bin edges) and more than
                                     ///< one tile (the second reuses the first's last tile), else 1.
  std::size_t working_bytes = 0;     ///< Bytes of the buffers held at the peak (tiles, data chunk, per-lag vectors).
};

/// The pairs (i < j) one process bins when the D-independent binning of the pair statistics is split over
/// coordinate shards: those of rows i with i % shards == shard (docs/pair_statistics.md, "Splitting the binning over
/// shards"). The default, one shard, bins every pair.

/// Every all-pairs statistic of a part from its (merged) distances, as msd(), from_start(), mean_contour_length(),
/// msd_vs_contour(), msl_vs_distance() (linear and logarithmic, with `loss`: one value per snapshot, NaN where none,
/// or empty) and displacement_histograms() give them. With a `share` of several shards, each shard bins only the
/// pairs of its rows and `sum` (required then) adds the partial bin sums, counts, MSD and contour sums and the MSL
/// range over the shards (three reductions of at most count doubles, four with a loss series), so every shard gets
/// the same summary, equal to the single process's up to the order of additions (1e-12 relative; counts exactly).
/// tile_rows, tiles and working_bytes stay 0. Throws std::invalid_argument for a loss of another length or a share without `sum`.
PairSummary pair_summary(const PairDistances& distances, const std::vector<double>& loss,
                         const PairStatisticsOptions& options, const ShardSum& sum = {}, Shard share = {});

/// Bytes the untiled path (PairDistances::compute and the statistics from it) holds for a part of n snapshots with
/// `lags` histogram lags: the n x n matrix, the column block of the Gram matrix and the per-lag vectors.
std::size_t untiled_pair_memory(std::size_t n, std::size_t lags);

/// Bytes tiled_pair_statistics() holds at most for a part of n snapshots in tiles of `rows` x `rows`, whatever the
/// dimension: the tile, a data chunk of (2 rows + 1) x 512 coordinates, and (10 + lags) vectors of n doubles.
std::size_t tiled_pair_memory(std::size_t n, std::size_t rows, std::size_t lags);

/// The largest tile side (at most n) whose tiled_pair_memory() fits `budget` bytes; 0 when not even one row fits.
std::size_t tile_rows_within(std::size_t n, std::size_t lags, std::size_t budget);

/// Visits the squared distances of snapshots [first, first + count) in square tiles of at most `rows` snapshots a
/// side, as tiled_pair_statistics() computes them: visit(i0, i1, j0, j1, tile) gets |w_i - w_c|^2 at
/// tile[(i - i0) + (c - j0) (i1 - i0)] for i0 <= i < i1, j0 <= c < j1 and i < c (other entries are unspecified),
/// the row blocks from the last, each from its diagonal tile rightwards. With `sum`, as in tiled_pair_statistics().
/// Throws std::invalid_argument for count < 2, a part outside the trajectory or rows 0.
void for_each_distance_tile(const WeightTrajectory& trajectory, std::size_t first, std::size_t count, std::size_t rows,
                            const std::function<void(std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1,
                                                     const double* tile)>& visit,
                            const ShardSum& sum = {});

/// The all-pairs statistics of snapshots [first, first + count) without the count x count matrix: the upper
/// triangle of squared distances is computed in tiles of at most tile_rows_within(count, lags, memory_budget) rows
/// and columns, each used and dropped (docs/pair_statistics.md, "Tiles"). Each distance comes from the same
/// increment recursion as PairDistances::compute, carried across tiles, so it is as accurate; the results equal
/// the untiled ones up to the order of additions (1e-12 relative; counts exactly, but for a pair within rounding
/// of a bin edge). With a loss series (one value per snapshot, NaN where none) and more than one tile the tiles are
/// computed twice, the first pass finding the MSL bin range (the last tile of the first pass is reused). With `sum`,
/// `trajectory` is one coordinate shard and every partial quantity (step lengths, each tile) is summed over shards
/// before use; with a `share` of several shards as well, each shard bins only the pairs of its rows of every tile
/// and the accumulators are summed as in pair_summary(). Throws std::invalid_argument for count < 2, a part outside
/// the trajectory, a loss of another length, a budget below one row of tiles, or a share without `sum`.
PairSummary tiled_pair_statistics(const WeightTrajectory& trajectory, std::size_t first, std::size_t count,
                                  const std::vector<double>& loss, const PairStatisticsOptions& options,
                                  std::size_t memory_budget, const ShardSum& sum = {}, Shard share = {});

}  // namespace anodiff
