#pragma once
/// \file pair_statistics.hpp  All-pairs geometry of one trajectory part: distances, contour length, MSL, histograms.
#include <cstddef>
#include <vector>

#include "anodiff/weight_trajectory.hpp"

namespace anodiff {

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
  /// The column-major n x n matrix: |w_i - w_j|^2 at i + j n for i < j, zero elsewhere.
  const std::vector<double>& squared_distances() const { return d_; }

  /// Number of snapshots n in the part.
  std::size_t size() const { return n_; }
  /// |w_i - w_j|^2 for snapshots i, j of the part (0-based within the part).
  double operator()(std::size_t i, std::size_t j) const {
    if (i == j) return 0.0;
    return i < j ? d_[i + j * n_] : d_[j + i * n_];
  }
  /// Step lengths s_k = |w_k - w_{k-1}|, k = 1..n-1 (element 0 is 0).
  const std::vector<double>& step_lengths() const { return step_; }
  /// Time-averaged MSD at lags 0..n-1 (element 0 is 0): mean over i of |w_{i+tau} - w_i|^2.
  std::vector<double> msd() const;
  /// Squared distance from the first snapshot of the part, at lags 0..n-1 (the aging MSD of this part).
  std::vector<double> from_start() const;

 private:
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

}  // namespace anodiff
