#pragma once
/// \file landscape_probe.hpp  (anodiff::anodiff) Loss surfaces around a checkpoint (Li et al. 2018): filter-
/// normalised random directions, PCA directions of a trajectory, lines between checkpoints; loss and accuracy on a
/// grid, written as it is computed so that an interrupted or sharded grid resumes and merges.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "anodiff/datasets.hpp"
#include "anodiff/models.hpp"

namespace anodiff {

/// How a random direction is scaled against the weights.
enum class DirectionNorm {
  filter,  ///< Each filter (slice along the first axis) of the direction gets the norm of the weight's filter.
  layer,   ///< Each parameter tensor of the direction gets the norm of the weight tensor.
  none     ///< The raw Gaussian direction.
};

/// A seeded Gaussian direction with the shape of every parameter of `model`, normalised against the model's
/// weights (d <- d |w_f| / (|d_f| + 1e-10)); with `ignore_biasbn` the 1-D parameters (biases, BN) get direction 0,
/// otherwise their direction is the weight itself (Li et al.). Flattened in the order of flatten_parameters.
std::vector<float> random_direction(const torch::nn::Module& model, std::uint64_t seed,
                                    DirectionNorm norm = DirectionNorm::filter, bool ignore_biasbn = true);

/// Evenly spaced coordinates: `points` values from `lo` to `hi`.
struct Axis {
  double lo = -1, hi = 1;  ///< Range.
  std::size_t points = 51; ///< Number of points (>= 1).
  /// The k-th coordinate.
  double at(std::size_t k) const { return points == 1 ? lo : lo + (hi - lo) * double(k) / double(points - 1); }
  /// Parses "LO:HI:N"; throws std::invalid_argument naming the text for anything else.
  static Axis parse(const std::string& text);
};

/// Options of a landscape evaluation.
struct LandscapeOptions {
  Axis x;                    ///< Coordinates along direction 1.
  Axis y{0, 0, 1};           ///< Coordinates along direction 2 (1 point: a 1-D line).
  std::int64_t samples = 0;  ///< Evaluate on a seeded subset of this many samples (0 = all).
  std::int64_t batch_size = 1000;  ///< Evaluation batch size.
  std::uint64_t seed = 0;    ///< Which samples.
  std::size_t shard = 0;     ///< This process evaluates the points with index % shards == shard.
  std::size_t shards = 1;    ///< Number of shards.
  bool progress = true;      ///< Progress with ETA on stderr.
};

/// Loss and accuracy at every grid point.
struct LandscapeGrid {
  Axis x, y;                       ///< The axes.
  std::vector<double> loss;        ///< y.points rows of x.points values (NaN where not evaluated).
  std::vector<double> accuracy;    ///< Same layout.
  /// Points evaluated.
  std::size_t evaluated() const;
};

/// Evaluates the model at w + a d1 + b d2 for every (a, b) of the grid (eval mode, no gradients) on `data`,
/// appending `i,j,x,y,loss,accuracy` lines to `file` as points complete (flushed). Lines already in `file` (and in
/// the other shards' files beside it) are not recomputed. Returns the grid with every point known so far.
/// Throws InputError if `file` holds points of another grid.
LandscapeGrid evaluate_landscape(Network& model, const std::vector<float>& d1, const std::vector<float>& d2,
                                 const Dataset& data, const LandscapeOptions& options,
                                 const std::filesystem::path& file, torch::Device device = torch::kCPU);

/// The file a shard writes: `surface.csv` for one shard, `surface.shard-I-of-N.csv` otherwise.
std::filesystem::path landscape_file(const std::filesystem::path& dir, std::size_t shard, std::size_t shards);

/// Merges the points of every `surface*.csv` in `dir` for the grid of `x` and `y` (missing points NaN).
LandscapeGrid read_landscape(const std::filesystem::path& dir, const Axis& x, const Axis& y);

/// Mean loss and accuracy of `model` (eval mode) on `data`: the loss at the grid's origin.
std::pair<double, double> loss_and_accuracy(Network& model, const Dataset& data, std::int64_t batch_size,
                                            torch::Device device);

}  // namespace anodiff
