#pragma once
// Private: what the three sources of the pair statistics share (src/analysis/pair_distances.cpp, pair_curves.cpp,
// pair_tiles.cpp): the part check, the column block, the binning of a curve, the displacement histograms from
// samples, and the turn of an increments' Gram matrix into squared distances.
#include <cstddef>
#include <vector>

#include "anodiff/analysis/pair_statistics.hpp"

namespace anodiff::detail {

/// Throws std::invalid_argument unless [first, first + count) is a part of `t` of at least 2 snapshots.
void require_part(const WeightTrajectory& t, std::size_t first, std::size_t count);

/// Columns per block: the block of count x width doubles stays near 32 MB.
std::size_t block_width(std::size_t count, std::size_t dimension);

/// Edges of `bins` bins over [lo, hi]; logarithmic bins need lo > 0.
std::vector<double> bin_edges(double lo, double hi, std::size_t bins, Binning binning);

/// The bin of `v` among `edges` (values outside go to the first or the last bin).
std::size_t bin_of(const std::vector<double>& edges, double v);

/// An empty curve over the bins of `edges`.
BinnedCurve make_binned(const std::vector<double>& edges);

/// Sums turned into means; an empty bin NaN.
void finish_binned(BinnedCurve& c);

/// Histograms of sqrt(squared[k]) (the displacements at the k-th lag of `lags` in [1, n)), as
/// displacement_histograms(): log bins common to all lags, with `rescale` divided by sqrt(msd[lag]).
std::vector<DisplacementHistogram> histograms_from_samples(const std::vector<std::vector<double>>& squared,
                                                           const std::vector<std::size_t>& lags, std::size_t n,
                                                           const std::vector<double>& msd, bool rescale,
                                                           std::size_t bins);

/// The column-major n x n Gram matrix of the increments turned in place into the squared distances d(i, c) at
/// i + c n for i < c, zero elsewhere (pair_helpers.cpp says how).
void increments_to_distances(double* g, std::size_t n);

}  // namespace anodiff::detail
