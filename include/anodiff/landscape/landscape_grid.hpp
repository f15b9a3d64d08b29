#pragma once
/// \file landscape_grid.hpp  A loss landscape on a grid of two directions (no LibTorch): its axes, the values known
/// so far (read back from the files the evaluation appends to, so that an interrupted or sharded grid resumes and
/// merges), and its roughness (paper section 5).
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "anodiff/trajectory/shard_reduction.hpp"
#include "anodiff/toy/fractal_surface.hpp"
#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/landscape/roughness.hpp"

namespace anodiff {

/// Evenly spaced coordinates: `points` values from `lo` to `hi`.
struct Axis {
  double lo = -1, hi = 1;  ///< Range.
  std::size_t points = 51; ///< Number of points (>= 1).
  /// The k-th coordinate.
  [[nodiscard]] double at(std::size_t k) const { return points == 1 ? lo : lo + (hi - lo) * double(k) / double(points - 1); }
  /// Parses "LO:HI:N"; throws std::invalid_argument naming the text for anything else.
  static Axis parse(const std::string& text);
};

/// Loss and accuracy at every grid point.
struct LandscapeGrid {
  Axis x, y;                       ///< The axes.
  std::vector<double> loss;        ///< y.points rows of x.points values (NaN where not evaluated).
  std::vector<double> accuracy;    ///< Same layout.
  /// Points evaluated.
  [[nodiscard]] std::size_t evaluated() const;
  /// The loss as a Surface (rows: y, columns: x).
  [[nodiscard]] Surface loss_surface() const;
};

/// A landscape with what spans it: the result of an evaluation around a checkpoint (landscape_probe.hpp).
struct LandscapeResult {
  LandscapeGrid grid;                      ///< Loss and accuracy at the points known so far.
  std::vector<float> direction1;           ///< Direction 1 (flattened parameters).
  std::vector<float> direction2;           ///< Direction 2 (empty for a 1-D line).
  std::vector<std::vector<double>> path;   ///< A trajectory part projected on the plane, (x, y) per snapshot; may be empty.
  std::string title;                       ///< What the grid shows, for plots and reports.
  ParameterLayout layout;                  ///< The parameter tensors the directions span (empty if unknown): the
                                           ///< direction file of loss-landscape's .h5 layout needs their shapes.
  /// Every point of the grid is known (a shard alone knows only its own).
  [[nodiscard]] bool complete() const { return grid.evaluated() == grid.x.points * grid.y.points; }
};

/// The file `shard` appends its points to: `surface.csv` for one shard, `surface.shard-I-of-N.csv` otherwise.
[[nodiscard]] std::filesystem::path landscape_file(const std::filesystem::path& dir, Shard shard = {});

/// Merges the points of every `surface*.csv` in `dir` for the grid of `x` and `y` (missing points NaN; a torn last
/// line of a killed writer is ignored). Throws InputError naming the file and line for a point of another grid.
[[nodiscard]] LandscapeGrid read_landscape(const std::filesystem::path& dir, const Axis& x, const Axis& y);

/// The roughness of a 2-D landscape (docs/landscape.md).
struct LandscapeRoughness {
  std::size_t max_lag = 0;           ///< Largest structure-function lag (a quarter of the smaller side, >= 2).
  StructureFunction structure;       ///< S_2 at lags 1..max_lag pixels.
  HurstEstimate hurst;               ///< H from S_2 over lags 1..max_lag.
  PairRoughness pairs;               ///< Mean |dL| against distance (the study's slope: 1).
  std::optional<BoxCounting> boxes;  ///< Box counting (only for grids of at least 8 x 8 points).
};

/// The roughness of a complete 2-D grid. Throws std::invalid_argument for a 1-D line or a grid with missing points.
[[nodiscard]] LandscapeRoughness landscape_roughness(const LandscapeGrid& grid);

/// One line for a person: "roughness: H = ... +- ... (structure function, lags 1-L px); mean |dL| ~ r^... (study: 1)".
[[nodiscard]] std::string roughness_line(const LandscapeRoughness& roughness);

}  // namespace anodiff
