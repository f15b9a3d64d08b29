#pragma once
/// \file landscape_2d.hpp  The toy model's loss landscape: L = offset - z on a fine grid over [-1, 1]^2.
#include <array>
#include <cstddef>
#include <vector>

#include "anodiff/toy/fractal_surface.hpp"

namespace anodiff {

/// A loss L(x, y) on an n x n grid over [-1, 1]^2 with central-difference gradients (one-sided at the edges);
/// loss and gradient between nodes are bilinear interpolations.
class Landscape2D {
 public:
  /// L = offset - z, with z (any grid, mapped linearly onto [-1, 1]^2) regridded by bilinear interpolation onto
  /// `grid` x `grid` points (the study: 2001, spacing 1e-3). Throws std::invalid_argument for grid < 3.
  static Landscape2D from_heights(const Surface& heights, std::size_t grid = 2001, double offset = 10.0);

  /// Number of grid points along each axis.
  [[nodiscard]] std::size_t size() const { return n_; }
  /// Grid spacing.
  [[nodiscard]] double spacing() const { return h_; }
  /// Loss at (x, y) in [-1, 1]^2 (bilinear).
  [[nodiscard]] double loss(double x, double y) const;
  /// (dL/dx, dL/dy) at (x, y) in [-1, 1]^2 (bilinear interpolation of the grid gradients).
  [[nodiscard]] std::array<double, 2> gradient(double x, double y) const;
  /// The loss values as a surface over [-1, 1]^2 (for plots and roughness).
  [[nodiscard]] Surface surface() const;

 private:
  std::size_t n_ = 0;
  double h_ = 0;
  std::vector<double> loss_, gx_, gy_;  // row i = y, column j = x
};

}  // namespace anodiff
