#pragma once
/// \file landscape_probe.hpp  (anodiff::anodiff) Loss surfaces around a checkpoint (Li et al. 2018): filter-
/// normalised random directions, PCA directions of a trajectory, lines between checkpoints; loss and accuracy on a
/// grid, written as it is computed so that an interrupted or sharded grid resumes and merges.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/landscape/landscape_grid.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/trajectory/shard_reduction.hpp"

namespace anodiff {

/// How a random direction is scaled against the weights.
enum class DirectionNorm {
  filter,  ///< Each filter (slice along the first axis) of the direction gets the norm of the weight's filter.
  layer,   ///< Each parameter tensor of the direction gets the norm of the weight tensor.
  none     ///< The raw Gaussian direction.
};

/// The DirectionNorm named `name` (filter, layer or none); throws std::invalid_argument naming what was given.
[[nodiscard]] DirectionNorm parse_direction_norm(const std::string& name);

/// The name of `norm`: filter, layer or none.
[[nodiscard]] const char* direction_norm_name(DirectionNorm norm);

/// A seeded Gaussian direction with the shape of every parameter of `model`, normalised against the model's
/// weights (d <- d |w_f| / (|d_f| + 1e-10)); with `ignore_biasbn` the 1-D parameters (biases, BN) get direction 0,
/// otherwise their direction is the weight itself (Li et al.). Flattened in the order of flatten_parameters.
std::vector<float> random_direction(const torch::nn::Module& model, std::uint64_t seed,
                                    DirectionNorm norm = DirectionNorm::filter, bool ignore_biasbn = true);

/// Options of a landscape evaluation.
struct LandscapeOptions {
  Axis x;                    ///< Coordinates along direction 1.
  Axis y{0, 0, 1};           ///< Coordinates along direction 2 (1 point: a 1-D line).
  std::int64_t samples = 0;  ///< Evaluate on a seeded subset of this many samples (0 = all).
  std::int64_t batch_size = 1000;  ///< Evaluation batch size.
  std::uint64_t seed = 0;    ///< Which samples.
  Shard shard;               ///< This process evaluates the points p with p % shard.count == shard.index.
  std::string own_loss;      ///< Non-empty: evaluate this method of a TorchScript model (its own data-free loss,
                             ///< scripted_loss) instead of the cross-entropy on the data; accuracy is then NaN.
  LogSink log;               ///< Progress with ETA; none by default.
  /// Checks the values (axes of at least 1 point, a shard inside its count, batch_size >= 1, samples >= 0); throws
  /// std::invalid_argument naming the option and value.
  void validate() const;
};

/// Evaluates the model at w + a d1 + b d2 for every (a, b) of the grid (eval mode, no gradients) on `data` (or its
/// own data-free loss, LandscapeOptions::own_loss; `data` is then unused),
/// appending `i,j,x,y,loss,accuracy` lines to `file` as points complete (flushed). Lines already in `file` (and in
/// the other shards' files beside it) are not recomputed. Returns the grid with every point known so far.
/// Throws InputError if `file` holds points of another grid.
LandscapeGrid evaluate_landscape(Network& model, const std::vector<float>& d1, const std::vector<float>& d2,
                                 const Dataset& data, const LandscapeOptions& options,
                                 const std::filesystem::path& file, torch::Device device = torch::kCPU);

/// Which directions span a landscape around a checkpoint of a run.
enum class LandscapeDirections {
  random,  ///< Two seeded random directions, normalised (norm, ignore_biasbn): Li et al.'s plot.
  pca,     ///< The first two principal directions of a trajectory part, centred on its last snapshot.
  line     ///< A 1-D line from the checkpoint (0) to another one (1).
};

/// What every landscape around a network's weights takes: the random directions' rules, the axes, the grid's
/// evaluation and the device (RunLandscapeOptions and ModelLandscapeOptions add where the weights come from).
struct LandscapeAroundOptions {
  DirectionNorm norm = DirectionNorm::filter;  ///< Normalisation of the random directions.
  bool ignore_biasbn = true;                ///< Zero direction for biases and BN (every 1-D parameter).
  std::optional<Axis> x, y;                 ///< The axes; unset: -1:1:51 each (random), the projected path with a
                                            ///< 20% margin on 31 points (pca), -0.5:1.5:41 and 0:0:1 (line).
  LandscapeOptions grid;                    ///< Samples, batch size, seed, shard and log; its axes are x and y
                                            ///< above (validate() refuses grid.x or grid.y set).
  std::string device = "auto";              ///< cpu, cuda or auto.
  /// Checks these values (grid.validate() included) for the options struct `owner` names; throws
  /// std::invalid_argument naming it, the option and value.
  void check(const char* owner) const;
};

/// A landscape around a checkpoint of a training run (anodiff-landscape and the reproduction).
struct RunLandscapeOptions : LandscapeAroundOptions {
  std::int64_t epoch = -1;                  ///< The checkpoint at the centre (required).
  LandscapeDirections directions = LandscapeDirections::random;  ///< What spans the grid.
  std::int64_t pca_part = 0;                ///< pca: which part of the run's trajectory.
  std::size_t part_length = 1000;           ///< pca: snapshots per part.
  std::int64_t line_to_epoch = -1;          ///< line: the checkpoint at 1.
  /// Checks the values without loading anything (check() included); throws std::invalid_argument naming the
  /// option and value.
  void validate() const;
};

/// A landscape around the weights of a model of one's own (load_model, scripted_model.hpp).
struct ModelLandscapeOptions : LandscapeAroundOptions {
  std::string title;                        ///< What is at the centre, for the plots' titles (e.g. the file's name).
  /// Checks the values without loading anything (grid.validate() included); throws std::invalid_argument naming
  /// the option and value.
  void validate() const;
};

/// Evaluates a landscape around the current weights of `model` on `data` (its loss and accuracy in eval mode),
/// appending the points to landscape_file(`dir`, shard, shards) as they complete (resumable, shardable): spanned by
/// two seeded random directions over the model's parameter list (random_direction: filter normalisation of every
/// tensor of 2 or more dimensions, biases and BN zeroed with ignore_biasbn), or, with `line_to` (the same
/// architecture), the 1-D line from the model (0) to line_to's weights (1). The model's weights are restored at the
/// end; the result's layout is parameter_layout(model).
[[nodiscard]] LandscapeResult landscape_of_model(Network& model, const Dataset& data,
                                                 const ModelLandscapeOptions& options,
                                                 const std::filesystem::path& dir, const Network* line_to = nullptr);

/// The landscape around a model given as files (anodiff-landscape --model, docs/own_models.md): `model` a TorchScript
/// file or a built-in name (resolve_network), at the weights of `checkpoint` (a state_dict, checkpoint or TorchScript
/// file; empty: the --model file's own), and with a non-empty `line_to` the 1-D line to that file's weights. Without
/// `data` (std::nullopt), the model's own data-free loss: options.grid.own_loss, "loss" when empty (a built-in model
/// has none). The title is the
/// centre's file name. Throws InputError naming the file for a built-in model without a checkpoint, a data-free
/// built-in, or a model that is no classifier of `data`.
[[nodiscard]] LandscapeResult landscape_of_model_files(const std::string& model, const std::string& checkpoint,
                                                       const std::string& line_to, const std::optional<Dataset>& data,
                                                       ModelLandscapeOptions options, const std::filesystem::path& dir);

/// Evaluates the landscape of `options` around a checkpoint of `run` (the directory anodiff-train wrote), appending
/// the points to landscape_file(`dir`, shard, shards) as they complete (resumable, shardable). Throws InputError
/// for a missing checkpoint or trajectory part.
[[nodiscard]] LandscapeResult landscape_of_run(const std::filesystem::path& run, const RunLandscapeOptions& options,
                                               const std::filesystem::path& dir);

}  // namespace anodiff
