#pragma once
/// \file claims.hpp  (anodiff::core) The study's claims judged on the parts of one run, per phase: the initial phase
/// (the first part, from initialisation) and the late phase (every later part), with the attenuation of the
/// short-lag superdiffusion as a claim of its own (docs/reproducing.md, "How the claims are judged").
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "anodiff/analysis/post_analysis.hpp"

namespace anodiff {

/// The phase a part belongs to: the first part of a run (it starts at initialisation) or a later one.
enum class Phase { initial, late };
/// "initial" or "late".
[[nodiscard]] std::string to_string(Phase phase);

/// A verdict on a claim over the parts of one phase.
enum class Verdict { shown, partly_shown, weak, not_shown, not_measured };
/// "shown", "partly shown", "weak", "not shown" or "not measured".
[[nodiscard]] std::string to_string(Verdict verdict);

/// The shares of parts that give each verdict label: shown at `shown` or more, partly shown at `partly` or more,
/// weak below that with at least one part, not shown with none, not measured without a measured part.
struct VerdictThresholds {
  double shown = 0.75;   ///< Smallest share of the parts for "shown".
  double partly = 0.25;  ///< Smallest share for "partly shown".
  /// Throws std::invalid_argument unless 0 < partly <= shown <= 1.
  void validate() const;
};

/// The label for `yes` of `of` measured parts.
[[nodiscard]] Verdict verdict_of(std::size_t yes, std::size_t of, const VerdictThresholds& thresholds = {});

/// The study's reported exponents for one configuration (shared/design/paper-methods.md section 2).
struct StudyValues {
  double early = std::numeric_limits<double>::quiet_NaN();  ///< Early (short-lag) exponent.
  double late = std::numeric_limits<double>::quiet_NaN();   ///< Late (long-lag) exponent.
  double tau0 = std::numeric_limits<double>::quiet_NaN();   ///< Crossover lag (steps); NaN where not reported.
};

/// The study's values for `model` at `batch_size` and `lr`: its depth grid at batch 1024 (lr 0.1) and its
/// learning-rate grid of ResNet-14 at batch 128; std::nullopt where the study reports none (fc3, vgg9, ...).
[[nodiscard]] std::optional<StudyValues> study_values(const std::string& model, std::int64_t batch_size, double lr);

/// How one part reads against the study's claims.
struct PartReading {
  std::size_t index = 0;            ///< The part's index.
  std::size_t start = 0;            ///< Its first snapshot (the waiting time t_w is start + 1, as the study's).
  Phase phase = Phase::late;        ///< Initial for part 0, late for every other.
  bool crossover_found = false;     ///< The fit found a crossover.
  bool super_to_sub = false;        ///< A crossover with early > 1 > late: the study's direction.
  double short_exponent = std::numeric_limits<double>::quiet_NaN();  ///< The fit's early exponent with a crossover,
                                                                      ///< its single exponent without.
  double long_exponent = std::numeric_limits<double>::quiet_NaN();   ///< Late exponent, or the single one.
  double short_band = std::numeric_limits<double>::quiet_NaN();      ///< Median beta over the short band.
  double long_band = std::numeric_limits<double>::quiet_NaN();       ///< Median beta over the long band.
  double tau0 = std::numeric_limits<double>::quiet_NaN();            ///< The crossover lag (NaN without one).
  double hurst = std::numeric_limits<double>::quiet_NaN();           ///< H of MSL ~ dr^2H along the path.
  double hurst_error = std::numeric_limits<double>::quiet_NaN();     ///< Its standard error.
  double loss = std::numeric_limits<double>::quiet_NaN();            ///< Mean training loss over the part's steps.
  bool short_measured = false;      ///< short_exponent and short_band are finite.
  bool long_measured = false;       ///< long_exponent and long_band are finite.
  bool short_superdiffusive = false;  ///< short_exponent > 1 and short_band > 1.
  bool long_subdiffusive = false;     ///< long_exponent < 1 and long_band < 1.
  bool rough = false;               ///< 0 < H < 1 beyond two standard errors.
  /// The study's whole pattern: superdiffusive short lags, subdiffusive long lags and a super-to-sub crossover.
  [[nodiscard]] bool pattern() const { return short_superdiffusive && long_subdiffusive && super_to_sub; }
};

/// Reads `part` (of a run whose first part has index 0) with the mean training loss `loss` over its steps.
[[nodiscard]] PartReading read_part(const PartResult& part, double loss = std::numeric_limits<double>::quiet_NaN());

/// One claim judged over the parts of one phase.
struct ClaimVerdict {
  std::string claim;       ///< short_superdiffusion, long_subdiffusion, super_to_sub_crossover, rough_path, pattern.
  Phase phase = Phase::late;  ///< Which parts.
  std::size_t yes = 0;     ///< Parts that show it.
  std::size_t of = 0;      ///< Parts where it was measured.
  Verdict verdict = Verdict::not_measured;  ///< The label for yes of `of`.
};

/// The trend of the short-band beta with the waiting time and with the training loss over every part of a run: the
/// attenuation of the initial superdiffusion (the study's abstract). Least-squares slopes with standard errors.
struct AttenuationTrend {
  std::size_t parts = 0;  ///< Parts with a finite short-band beta.
  double slope_log_wait = std::numeric_limits<double>::quiet_NaN();  ///< d beta / d log10 t_w.
  double slope_log_wait_error = std::numeric_limits<double>::quiet_NaN();  ///< Its standard error.
  double slope_loss = std::numeric_limits<double>::quiet_NaN();      ///< d beta / d (mean training loss).
  double slope_loss_error = std::numeric_limits<double>::quiet_NaN();  ///< Its standard error.
  double first = std::numeric_limits<double>::quiet_NaN();  ///< Short-band beta of the first part.
  double last = std::numeric_limits<double>::quiet_NaN();   ///< Short-band beta of the last part.
  /// Shown: beta falls with log t_w and rises with the loss, each beyond two standard errors (the first alone when no
  /// loss is known); partly shown: one of the two; not shown: neither; not measured: fewer than 3 parts.
  Verdict verdict = Verdict::not_measured;
};

/// Trend of the short-band beta over `parts` (at least 3 finite ones, else not measured).
[[nodiscard]] AttenuationTrend attenuation_trend(const std::vector<PartReading>& parts);

/// What a run was, for the claims' wording and the study's values.
struct RunDescription {
  std::string label;            ///< E.g. "resnet14, batch 1024, lr 0.1, 6018 steps".
  std::string model;            ///< Its network (for the study's values).
  std::int64_t batch_size = 0;  ///< Its batch size (0: unknown).
  double lr = std::numeric_limits<double>::quiet_NaN();  ///< Its learning rate (NaN: unknown).
  std::string chosen_on_outcome;  ///< A choice of this run's configuration made on its outcome, said in the report.
};

/// The description of the run whose trajectory is `trajectory` (a directory): model, batch_size and lr from the
/// config.txt that anodiff-train writes beside it (run/config.txt for run/trajectory), where there is one; the label
/// names them and the `steps` recorded ("trajectory" and the steps where no config is found).
[[nodiscard]] RunDescription describe_run(const std::filesystem::path& trajectory, std::size_t steps);

/// describe_run(`trajectory`, `steps`) with what `known` says in place of the config's: its model where not empty,
/// batch_size where above 0, lr where not NaN (a program's --model, --batch-size and --lr); the label names them.
[[nodiscard]] RunDescription describe_run(const std::filesystem::path& trajectory, std::size_t steps,
                                          const RunDescription& known);

/// The study's claims judged on one run.
struct RunClaims {
  RunDescription run;                ///< Which run.
  std::optional<StudyValues> study;  ///< The study's values for its configuration, if it reports any.
  std::vector<PartReading> parts;    ///< Every part, read.
  std::vector<ClaimVerdict> claims;  ///< Each claim per phase (initial first), the whole pattern last.
  AttenuationTrend attenuation;      ///< The attenuation claim.
  /// The claim `claim` in `phase` (throws std::out_of_range if absent).
  [[nodiscard]] const ClaimVerdict& find(const std::string& claim, Phase phase) const;
  /// Whether the run shows the study's pattern: "shown" for the whole pattern in the late phase (the initial phase
  /// when the run has only one part).
  [[nodiscard]] bool shows_pattern() const;
};

/// The claims of the study judged on `parts` (in order, part 0 first) of the run `run`; `part_loss` gives each part's
/// mean training loss (empty, or NaN entries, where unknown). Throws std::invalid_argument when part_loss is neither
/// empty nor one per part.
[[nodiscard]] RunClaims judge_run(const RunDescription& run, const std::vector<PartResult>& parts,
                                  const std::vector<double>& part_loss = {},
                                  const VerdictThresholds& thresholds = {});

/// Mean of `loss` (one value per snapshot, NaN where none) over each part's snapshots after its first (its steps);
/// NaN for a part without a finite value. Empty `loss` gives NaN for every part.
[[nodiscard]] std::vector<double> part_losses(const std::vector<double>& loss, const std::vector<PartResult>& parts);

/// The sentence for a claim's name ("superdiffusion at short lags", ...).
[[nodiscard]] std::string claim_title(const std::string& claim);

/// A table of plain-text cells: its header and rows.
struct TextTable {
  std::vector<std::string> head;               ///< Column names.
  std::vector<std::vector<std::string>> rows;  ///< One vector of cells per row.
};

/// The claims of one run as a table: a row per claim and phase that has parts (the study's value for the same
/// configuration or "none reported", this run's median and range, the verdict with its count, the rule), then the
/// attenuation.
[[nodiscard]] TextTable claims_table(const RunClaims& run);

/// One sentence: whether the run shows the study's pattern, and any choice made on the outcome.
[[nodiscard]] std::string claims_summary(const RunClaims& run);

/// The verdict rules in one paragraph, with the thresholds.
[[nodiscard]] std::string verdict_rules(const VerdictThresholds& thresholds = {});

}  // namespace anodiff
