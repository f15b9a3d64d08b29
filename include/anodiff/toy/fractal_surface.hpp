#pragma once
/// \file fractal_surface.hpp  Height fields on regular grids, and the two fractal generators of the study.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace anodiff {

/// A height field z on a rows x cols grid over [x_min, x_max] x [y_min, y_max]; z[i * cols + j] is at
/// (x(j), y(i)).
struct Surface {
  std::size_t rows = 0, cols = 0;  ///< Grid size.
  double x_min = 0, x_max = 1;     ///< x range (columns).
  double y_min = 0, y_max = 1;     ///< y range (rows).
  std::vector<double> z;           ///< Heights, row after row.

  /// Height at row i, column j.
  [[nodiscard]] double at(std::size_t i, std::size_t j) const { return z[i * cols + j]; }
  /// x of column j.
  [[nodiscard]] double x(std::size_t j) const { return x_min + (x_max - x_min) * double(j) / double(cols - 1); }
  /// y of row i.
  [[nodiscard]] double y(std::size_t i) const { return y_min + (y_max - y_min) * double(i) / double(rows - 1); }
  /// Writes z as a (rows, cols) float64 `.npy`.
  void write_npy(const std::filesystem::path& path) const;
  /// Writes `x,y,z` rows (every `stride`-th point along each axis, blank line between rows, as gnuplot likes).
  void write_csv(const std::filesystem::path& path, std::size_t stride = 1) const;
};

/// Diamond-square (Douillet's generator, as the study): a (2^n + 1)^2 grid over [1, 2]^2, corners 0, roughness
/// `roughness` halved after each level; centre/edge = mean of its 4 (or 3) neighbours + (U - 0.5) r.
/// Throws std::invalid_argument for n outside 1..13 or a negative roughness.
Surface diamond_square(int n, double roughness = 3.0, std::uint64_t seed = 0);

/// Spectral synthesis: a size x size periodic surface over [0, 1]^2 with Hurst exponent `hurst`, the real part of the
/// inverse FFT of amplitudes |k|^-(H+1) with uniform random phases. Throws std::invalid_argument for H outside (0, 1)
/// or size < 4.
Surface spectral_surface(std::size_t size, double hurst, std::uint64_t seed = 0);

/// How shuffled_surface turns the shuffled pixels into heights (docs/simplified_model.md).
enum class ShuffleRecipe {
  /// The study's (simplified_SGD_model.m: `z = (imgaussfilt(z,8)).^0.7`) on the raw heights: a Gaussian of
  /// 2 ceil(2 sigma) + 1 taps per axis (imgaussfilt's default FilterSize: 33 for sigma 8), normalised to sum 1, with
  /// 'replicate' padding, then v^power; for v < 0, whose power MATLAB makes complex, the real part
  /// |v|^power cos(power pi).
  study,
  /// anodiff's earlier recipe: the Gaussian truncated at 4 sigma (replicate padding), the result rescaled to [0, 1],
  /// then raised to `power`.
  rescaled
};

/// "study" or "rescaled".
[[nodiscard]] const char* to_string(ShuffleRecipe recipe);

/// The study's "random" control: the pixels of `surface` shuffled (a permutation drawn from `seed`), Gaussian-filtered
/// (sigma in pixels; 0: no filter) and raised to `power` as `recipe` says. Throws std::invalid_argument for a negative
/// or non-finite sigma, a non-finite power or an unknown recipe.
Surface shuffled_surface(const Surface& surface, double sigma = 8.0, double power = 0.7, std::uint64_t seed = 0,
                         ShuffleRecipe recipe = ShuffleRecipe::study);

/// The study's "convex" control: the cone z = 1 - |(x, y) - (1.5, 1.5)| on a size x size grid over [1, 2]^2.
Surface cone_surface(std::size_t size = 1025);

}  // namespace anodiff
