#pragma once
/// \file reproduction.hpp  (anodiff::anodiff) The study end to end, in one process: training with every step
/// recorded, the post-analysis per part, the Hessian along the run, loss landscapes and their roughness, the
/// simplified model; and the report that judges the study's claims on the typed results (docs/reproducing.md).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "anodiff/analysis/claims.hpp"
#include "anodiff/landscape/landscape_grid.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/output/sweep.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/toy/simplified_model.hpp"
#include "anodiff/spectrum/hessian_spectrum.hpp"
#include "anodiff/torch/trainer.hpp"

namespace anodiff {

/// One training run of a reproduction: its network, how it is trained, and the part length of its post-analysis.
struct RunSpec {
  std::string model = "resnet14";     ///< Its network.
  std::int64_t epochs = 30;           ///< Epochs.
  std::int64_t batch_size = 1024;     ///< Batch size.
  double lr = 0.1;                    ///< Learning rate.
  bool augment = true;                ///< Augmentation.
  std::int64_t limit_train = 20480;   ///< Training samples (0 = all).
  std::size_t part_length = 300;      ///< Part length of its post-analysis.

  /// Training samples of this run on a data set of `available` samples.
  [[nodiscard]] std::int64_t samples(std::int64_t available) const;
  /// Recorded steps of this run on a data set of `available` samples (the last batch of an epoch may be short).
  [[nodiscard]] std::int64_t steps(std::int64_t available) const;
  /// "fc3, batch 128, lr 0.1, 24388 steps": how the report and the claims name the run.
  [[nodiscard]] std::string label(std::int64_t available) const;
  /// Checks the values (the model a known network, epochs and batch_size >= 1, lr > 0, limit_train >= 0,
  /// part_length >= 2); throws std::invalid_argument("OWNER: PATHfield ...") naming the field and its value.
  void validate(const char* owner, const std::string& path) const;
};

/// What a reproduction runs; ReproductionOptions::named_preset gives the presets, whose fields can then be changed.
struct ReproductionOptions {
  std::string preset = "quick";        ///< quick, study, paper or sweep (for the report's wording and the sweep).
  std::string dataset = "fashion-mnist";  ///< Data set (cifar10, mnist, fashion-mnist, gauss).
  std::string data_dir;                ///< Folder of its files (empty: the data set's default).
  std::string device = "auto";         ///< cpu, cuda or auto.
  RunSpec main_run;                    ///< The main run (the Hessian, the landscapes and the sweep's runs use it).
  /// An optional second, longer run of a cheap network covering the study's run length (quick: the study's fc3);
  /// its parts are judged with the main run's. None: no long run.
  std::optional<RunSpec> long_run;
  std::int64_t limit_test = 1000;      ///< Test samples of both runs (0 = all).
  std::size_t eigenvalues = 5;         ///< Top Hessian eigenvalues per checkpoint.
  std::vector<std::int64_t> hessian_epochs;  ///< Checkpoints of the Hessian; empty: every hessian_every and the last.
  std::int64_t hessian_every = 10;     ///< See hessian_epochs (0: the first and the last).
  std::int64_t hessian_batch = 64;     ///< Batch size of the Hessian's fixed batch.
  std::vector<std::int64_t> landscape_epochs;  ///< Checkpoints with a landscape (those beyond main_run.epochs are
                                               ///< left out); empty: the last.
  std::size_t landscape_points = 11;   ///< Points per axis of each landscape (random directions over -1:1).
  std::int64_t landscape_samples = 256;  ///< Samples the landscape is evaluated on (0 = all).
  std::size_t toy_steps = 1000;        ///< Steps per walker of the simplified model.
  std::size_t toy_repeats = 100;       ///< Walkers per landscape of the simplified model.
  bool keep_trajectory = true;         ///< Keep the weight trajectories once everything is analysed (false: their
                                       ///< chunks are removed at the end; a rerun then trains those runs again).
  LogSink log;                         ///< Stage headers and every stage's progress; none by default.

  /// The preset `name` (quick, study, paper or sweep; docs/reproducing.md). Throws std::invalid_argument for another
  /// name.
  [[nodiscard]] static ReproductionOptions named_preset(const std::string& name);
  /// Checks the values without running anything; throws std::invalid_argument naming the option and its value.
  void validate() const;
};

/// A trained and analysed run of a reproduction.
struct AnalysedRun {
  std::string label;                  ///< E.g. "fc3, batch 128, lr 0.1, 24388 steps" (RunSpec::label).
  RunSpec spec;                       ///< What was run.
  std::filesystem::path run;          ///< Its run directory.
  std::filesystem::path analysis;     ///< Where its post-analysis was written.
  std::size_t dimension = 0;          ///< Parameters recorded per step.
  std::int64_t samples = 0;           ///< Training samples.
  std::vector<EpochMetrics> metrics;  ///< Its training metrics per epoch (0: the initial model).
  std::vector<PartResult> parts;      ///< Its post-analysis.
  RunDescription description;         ///< Its network, batch size and learning rate, for the claims.
  std::vector<double> part_loss;      ///< Mean training loss over each part's steps (NaN: none recorded).
};

/// A landscape of the main run and its roughness.
struct ReproducedLandscape {
  std::int64_t epoch = 0;                       ///< The checkpoint at the centre.
  std::filesystem::path directory;              ///< Where it was written.
  LandscapeResult landscape;                    ///< Loss and accuracy on the grid.
  std::optional<LandscapeRoughness> roughness;  ///< Its roughness.
};

/// Everything a reproduction computed, in the order computed.
struct ReproductionResult {
  ReproductionOptions options;       ///< What was run.
  std::int64_t samples = 0;          ///< Training samples of the main run.
  std::int64_t steps = 0;            ///< Steps of the main run.
  std::vector<AnalysedRun> runs;     ///< The long run (if any) first, the main run last.
  HessianRun hessian;                ///< The main run's Hessian spectrum along training.
  std::vector<ReproducedLandscape> landscapes;  ///< The main run's landscapes.
  SimplifiedModelResult simplified;  ///< The simplified model on the three landscapes.
  std::vector<std::pair<std::string, double>> stage_seconds;  ///< Wall time of each stage.
};

/// Runs the reproduction into `directory` (run/, long_run/, analysis/, long_analysis/, hessian/,
/// landscape_epoch_E/, simplified_model/), writing each stage's files as it completes (so a later failure loses
/// nothing; a killed reproduction resumes its training where it stopped). Validates the options first.
[[nodiscard]] ReproductionResult run_reproduction(const ReproductionOptions& options,
                                                  const std::filesystem::path& directory,
                                                  const OutputOptions& output = {});

/// Writes report.md and report.html into `directory` (and claims.csv, claims_parts.csv, claims.md, attenuation.png:
/// write_claims): the study's claims judged per run and phase, the regime of each run and why, a table per part, and
/// every picture the stages drew.
void write_reproduction_report(const ReproductionResult& result, const std::filesystem::path& directory);

/// The study's claims judged on each run of `result` on its own, per phase (claims.hpp).
[[nodiscard]] std::vector<RunClaims> judge_reproduction(const ReproductionResult& result);

/// Whether every run of `result` shows the study's pattern (RunClaims::shows_pattern: superdiffusive short lags,
/// subdiffusive long lags and a super-to-sub crossover in at least 75% of its late-phase parts).
[[nodiscard]] bool shows_study_pattern(const ReproductionResult& result);

/// The study's grids (depth with and without shortcuts at batch 1024, learning rate at batch 128, batch size), one
/// run each with options.epochs, trained and analysed into `directory`; then sweep.csv, the plots and the report.
[[nodiscard]] std::vector<SweepRow> run_sweep(const ReproductionOptions& options, const std::filesystem::path& directory);

}  // namespace anodiff
