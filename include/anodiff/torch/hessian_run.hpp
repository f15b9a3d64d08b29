#pragma once
/// \file hessian_run.hpp  (anodiff::anodiff) The Hessian along a training run: the extreme eigenpairs, and optionally
/// the trace and the spectral density, at the checkpoints of a run directory written by Trainer. The result
/// (HessianRun, spectrum.hpp) is plain data; write_hessian_run (output.hpp) writes it as anodiff-hessian does.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "anodiff/torch/hessian_operator.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/spectrum/hessian_spectrum.hpp"

namespace anodiff {

/// What the Hessian at each checkpoint computes (hessian_of_checkpoints; hessian_along_run adds which checkpoints).
struct HessianOptions {
  HessianDataOptions data;           ///< The fixed data of the Hessian (batch size, batches, dtype, BN mode, seed).
  EigenOptions eigen;                ///< The eigensolver; `eigen.eigenvectors` keeps the eigenvectors in the result
                                     ///< (they are computed anyway); `eigen.start` must be empty (see warm_start).
  std::size_t trace_products = 0;    ///< Hutch++ trace with this many products (a multiple of 3, seeded by
                                     ///< eigen.seed); 0 = none.
  std::size_t density_probes = 0;    ///< SLQ density with this many probes (seeded by eigen.seed); 0 = none.
  std::size_t density_steps = 40;    ///< Lanczos steps per SLQ probe (at most D are taken).
  bool warm_start = true;            ///< Start Lanczos from the sum of the previous checkpoint's converged
                                     ///< eigenvectors.
  std::string device = "auto";       ///< "cpu", "cuda" or "auto" (choose_device).
  LogSink log;                       ///< Progress lines, one per checkpoint; none by default.

  /// Checks the options without touching a run: throws std::invalid_argument naming the option and its value.
  void validate() const { check("HessianOptions"); }

 protected:
  void check(const char* owner) const;  ///< validate(), the messages starting with `owner`.
};

/// Options of hessian_along_run: which checkpoints of the run, and what the Hessian at each computes.
struct HessianRunOptions : HessianOptions {
  std::vector<std::int64_t> epochs;  ///< The checkpoints' epochs, in this order; empty: those that `every` picks.
  std::int64_t every = 5;            ///< Without `epochs`: epochs 0, every, 2 every, ... while their checkpoints exist.
  bool last = false;                 ///< With `every`: also the run's last checkpoint (of the consecutive epochs
                                     ///< 0, 1, 2, ...) when `every` does not land on it.

  /// Checks the options (HessianOptions' and the checkpoint selection) without touching a run: throws
  /// std::invalid_argument naming the option and its value.
  void validate() const;
};

/// Parses a comma-separated list of epochs such as "0,5,10" (spaces allowed around the numbers). Throws
/// std::invalid_argument naming the text unless every item is an integer >= 0 and there is at least one.
[[nodiscard]] std::vector<std::int64_t> parse_epoch_list(const std::string& text);

/// The epochs whose checkpoints hessian_along_run visits: options.epochs (each must have its checkpoint) or those
/// that options.every (and options.last) pick among the run's checkpoints. Throws InputError naming the missing
/// checkpoint file, or the first one when the run has none.
[[nodiscard]] std::vector<std::int64_t> hessian_epochs(const std::filesystem::path& run, const HessianRunOptions& options);

/// The Hessian of the training loss (classifier_hessian on the run's training data, run_training_data) at each
/// checkpoint hessian_epochs names: the extreme eigenpairs, warm-started from the previous checkpoint, with the
/// trace and density when asked. Validates the options first (std::invalid_argument); InputError for a run or
/// checkpoint that cannot be read. Writes nothing.
[[nodiscard]] HessianRun hessian_along_run(const std::filesystem::path& run, const HessianRunOptions& options);

/// The files of a Hessian of one's own model (anodiff-hessian --model M [--checkpoints ...]): `checkpoints` when
/// given, else the TorchScript file `model` itself. Throws InputError when `model` is neither a built-in name nor an
/// existing file (check_model_argument), or when no checkpoints are given and `model` is no TorchScript file.
[[nodiscard]] std::vector<std::filesystem::path> hessian_checkpoint_files(const std::string& model,
                                                                          const std::vector<std::filesystem::path>& checkpoints);

/// The labels hessian_of_checkpoints gives its checkpoints (HessianCheckpoint::epoch): the number that ends each file
/// name after a separator or "epoch" (model_12.t7, ckpt-5.pt, epoch3.pt: 12, 5, 3; not resnet14.pt) when every name
/// has one and they differ, else the positions 0, 1, 2, ...
[[nodiscard]] std::vector<std::int64_t> checkpoint_labels(const std::vector<std::filesystem::path>& checkpoints);

/// The Hessian of the mean cross-entropy on `data` (classifier_hessian, options.data) at each of `checkpoints`, in
/// this order, warm-started as hessian_along_run: each file is a TorchScript model (scripted_model.hpp: its own
/// architecture and weights) or a state_dict or checkpoint (the study's model_E.t7) loaded into `architecture`: a
/// built-in model name or a TorchScript file of the same network. Without data (std::nullopt), the Hessian of each
/// TorchScript model's own data-free loss instead (scripted_loss: its method loss()).
/// The checkpoints are labelled by checkpoint_labels. Validates the options first (std::invalid_argument); InputError
/// naming the file for a checkpoint that cannot be read or does not fit the architecture, or a model whose output is
/// not (N, classes) for the data. Writes nothing.
[[nodiscard]] HessianRun hessian_of_checkpoints(const std::string& architecture,
                                                const std::vector<std::filesystem::path>& checkpoints,
                                                const std::optional<Dataset>& data, const HessianOptions& options);

}  // namespace anodiff
