#pragma once
/// \file roughness.hpp  Roughness of surfaces and profiles: structure function and Hurst exponent, box counting,
/// mean |dz| against distance from random point pairs.
#include <cstddef>
#include <limits>
#include <cstdint>
#include <vector>

#include "anodiff/analysis/fit.hpp"
#include "anodiff/toy/fractal_surface.hpp"
#include "anodiff/analysis/pair_statistics.hpp"

namespace anodiff {

/// S_q(r) = <|z(p + r) - z(p)|^q> at integer pixel lags r.
struct StructureFunction {
  double q = 2;                 ///< Order.
  std::vector<double> lag;      ///< Lags in pixels (grid steps).
  std::vector<double> value;    ///< S_q at each lag.
};

/// S_q of a surface along both grid axes (all pairs at each lag), lags 1..max_lag (capped at size - 1).
/// Throws std::invalid_argument for q <= 0 or a surface smaller than 2 x 2.
StructureFunction structure_function(const Surface& surface, double q = 2, std::size_t max_lag = 64);
/// S_q of a 1-D profile, lags 1..max_lag.
StructureFunction structure_function(const std::vector<double>& profile, double q = 2, std::size_t max_lag = 64);

/// A Hurst exponent with its fit range.
struct HurstEstimate {
  double hurst = std::numeric_limits<double>::quiet_NaN();  ///< H (slope of log S_q against log r, divided by q).
  double error = std::numeric_limits<double>::quiet_NaN();  ///< Standard error of H.
  double lag_min = 0, lag_max = 0;  ///< Fit range used (pixels).
  std::size_t points = 0;     ///< Lags fitted.
};

/// H from S_q(r) ~ r^(q H) over lags [lag_min, lag_max].
HurstEstimate hurst_exponent(const StructureFunction& s, double lag_min, double lag_max);

/// Differential box counting (Sarkar & Chaudhuri 1994) of a surface.
struct BoxCounting {
  std::vector<double> box;    ///< Box sizes (pixels): 2, 4, ..., up to size / 4.
  std::vector<double> count;  ///< Boxes needed to cover the surface at each size.
  PowerLawFit fit;            ///< count ~ box^slope.
  /// -slope (2 for a smooth surface, 3 - H for a self-affine one).
  double dimension = std::numeric_limits<double>::quiet_NaN();
};

/// Box counting with heights scaled so that the height range equals the grid size (z and x in the same units).
BoxCounting box_counting(const Surface& surface);

/// Mean |dz| against planar distance from random point pairs (the study's roughness plot).
struct PairRoughness {
  BinnedCurve curve;  ///< x: mean planar distance in the bin, mean: mean |dz|.
  PowerLawFit fit;    ///< mean |dz| ~ distance^slope over the non-empty bins (the study's reference slope: 1).
};

/// Draws `pairs` random point pairs (seeded) and averages |dz| in `bins` log bins of distance (grid units of x, y).
PairRoughness mean_abs_difference(const Surface& surface, std::size_t pairs = 200000, std::size_t bins = 30,
                                  std::uint64_t seed = 0);

}  // namespace anodiff
