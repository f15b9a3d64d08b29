#pragma once
/// \file trainer.hpp  (anodiff::anodiff) Plain-SGD training of the study's networks, recording every step,
/// with a checkpoint per epoch and exact resume.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/base/run_config.hpp"  // read_run_config, run_config_value

namespace anodiff {

/// Options of a training run; defaults are the study's.
struct TrainerOptions {
  std::string model = "resnet14";    ///< A name of model_names().
  std::string dataset = "cifar10";   ///< cifar10, mnist, fashion-mnist or gauss (for config.txt and the name).
  std::filesystem::path data_dir;    ///< Where the data set's files are (for config.txt).
  std::filesystem::path out = "runs";  ///< Parent of the run directory.
  std::string run_name;              ///< Run directory name; empty = the study's (model_sgd_lr=..._save_epoch=1).
  std::int64_t epochs = 500;         ///< Epochs to reach (a resumed run continues up to this).
  std::int64_t batch_size = 1024;    ///< Mini-batch size (the last batch of an epoch may be smaller).
  double lr = 0.1;                   ///< Learning rate (constant).
  double momentum = 0;               ///< SGD momentum.
  double weight_decay = 0;           ///< L2 weight decay.
  std::uint64_t seed = 0;            ///< Initialisation, sample order and augmentation.
  bool augment = true;               ///< Random crop (4-pixel zero padding) and horizontal flip.
  bool record_weights = true;        ///< Record the full parameter vector after every step (trajectory/).
  std::size_t projection = 0;        ///< k > 0: also record a k-dimensional count sketch of it (projection/).
  /// n > 1: record the weights as a sharded trajectory directory (trajectory/shard_000 ... shard_{n-1}, each its
  /// slice of the layout; docs/formats.md): the parameter tensors split into n consecutive groups of whole tensors
  /// (a scale-invariant group kept whole) of about equal size. Enters config.txt when above 1.
  std::size_t record_shards = 1;
  bool save_gradients = false;       ///< Record every mini-batch gradient, epoch means and noise norms.
  std::string device = "auto";       ///< cpu, cuda or auto.
  /// Assemble the mini-batches on the training device (DeviceBatches: the data uploaded once, the augmentation
  /// batched); false: make_batch's per-image path on the CPU, the reference. Both give the same batches bit for bit,
  /// so this does not enter config.txt.
  bool device_batches = true;
  std::int64_t limit_train = 0;      ///< Use only the first N training samples (0 = all).
  std::int64_t limit_test = 0;       ///< Use only the first N test samples (0 = all).
  std::filesystem::path init_from;   ///< A PyTorch state_dict (torch.save) to start from instead of the seed's init.
  bool plots = true;                 ///< Draw metrics.png after every epoch.
  LogSink log;                       ///< Progress lines, a line per epoch and notes (resuming); none by default.
  /// Called after each optimiser step with the step's number (1-based, counted over the whole run), its snapshot
  /// handed to the recorder but not yet committed: a test's fault injection (a kill at a step of its choosing).
  std::function<void(std::int64_t step)> after_step;

  /// Checks the values without training (epochs >= 0, batch size >= 1, lr >= 0, momentum in [0, 1), weight decay
  /// >= 0, limits >= 0, a known model and device); throws std::invalid_argument naming the option and its value.
  void validate() const;
};

/// One row of metrics.csv.
struct EpochMetrics {
  std::int64_t epoch = 0;      ///< 1-based epoch (0: the initial model).
  double train_loss = 0;       ///< Mean mini-batch loss over the epoch (train mode).
  double train_error = 0;      ///< Fraction of misclassified training samples over the epoch.
  double test_loss = 0;        ///< Loss on the test set (eval mode).
  double test_error = 0;       ///< Error on the test set.
  double seconds = 0;          ///< Wall time of the epoch's training steps.
  double images_per_second = 0;  ///< Training throughput.
};

/// Trains one run. Constructing it creates (or reopens) the run directory; run() trains from the last complete
/// epoch on disk, so a run killed at any moment and started again with the same options continues where it was.
class Trainer {
 public:
  /// Validates the options (TrainerOptions::validate). Throws InputError if the run directory holds a run with other
  /// options (config.txt lists them).
  Trainer(TrainerOptions options, DataSplit data);
  /// The run directory.
  [[nodiscard]] const std::filesystem::path& directory() const { return dir_; }
  /// The study's run directory name for these options, e.g. resnet14_sgd_lr=0.1_bs=1024_wd=0_mom=0_save_epoch=1.
  static std::string study_run_name(const TrainerOptions& options);
  /// Trains up to options.epochs; returns every epoch's metrics (those of earlier sessions included). The caller
  /// sets process-wide tweaks (runtime.hpp: use_all_cores, keep_freed_memory) if it wants them.
  std::vector<EpochMetrics> run();
  /// Steps per epoch: ceil(training samples / batch size).
  [[nodiscard]] std::int64_t steps_per_epoch() const;
  /// The model (after run(): trained).
  [[nodiscard]] std::shared_ptr<Network> model() const { return model_; }
  /// The device the run uses.
  [[nodiscard]] torch::Device device() const { return device_; }

 private:
  struct Session;  // one call of run(): the recorder, the metrics and gradient-noise tables, the optimiser
  /// Resumes from the last checkpoint (the model, the optimiser, the tables cut back to it) or starts the run (the
  /// initial snapshot, metrics and checkpoint); returns the epoch training goes on after.
  std::int64_t resume(Session& session);
  /// Trains epoch `epoch` (recording every step), then writes its metrics, gradient noise and checkpoint.
  void train_epoch(Session& session, std::int64_t epoch, Progress& progress, std::size_t& done);

  TrainerOptions options_;
  DataSplit data_;
  std::filesystem::path dir_;
  std::shared_ptr<Network> model_;
  torch::Device device_;
};

/// Mean loss and error rate of a model over a data set.
struct Evaluation {
  double loss = 0;   ///< Mean cross-entropy.
  double error = 0;  ///< Fraction misclassified.
  /// 1 - error.
  [[nodiscard]] double accuracy() const { return 1 - error; }
};

/// Loss and error of `model` in eval mode over `data` (batches of `batch_size`, no gradients).
[[nodiscard]] Evaluation evaluate(Network& model, const Dataset& data, std::int64_t batch_size, torch::Device device);

/// The checkpoint file of epoch `epoch` in a run directory (checkpoints/model_epoch_E.pt).
std::filesystem::path checkpoint_path(const std::filesystem::path& run, std::int64_t epoch);

/// Loads the checkpoint of `epoch` of a run into `model` (on `device`). Throws InputError naming the file if it is
/// missing or holds another architecture.
void load_checkpoint(Network& model, const std::filesystem::path& run, std::int64_t epoch, torch::Device device);

/// A run's training data as it trained on them (its data set, data directory and limit_train), without augmentation.
[[nodiscard]] Dataset run_training_data(const std::filesystem::path& run);

/// A fresh (untrained) model of a run's architecture for `data`; load_checkpoint() fills in its weights.
[[nodiscard]] std::shared_ptr<Network> run_model(const std::filesystem::path& run, const Dataset& data);

}  // namespace anodiff
