#pragma once
/// \file sweep.hpp  (anodiff::core) The study's sweeps summarised: a row per configuration (the mean and spread of its
/// exponents over the parts, beside the study's values), written as sweep.csv with its plots and report.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "anodiff/analysis/post_analysis.hpp"

namespace anodiff {

/// One configuration of the study's sweeps with the mean and spread of its exponents over the parts.
struct SweepRow {
  std::string group;            ///< depth, lr or batch.
  std::string model;            ///< Network.
  std::int64_t batch_size = 0;  ///< Batch size.
  static constexpr double none = std::numeric_limits<double>::quiet_NaN();  ///< An unmeasured number.
  double lr = none;             ///< Learning rate.
  double early = none, early_spread = none, late = none, late_spread = none, tau0 = none, tau0_spread = none;
                                ///< Over the parts (NaN: none).
  double study_early = none, study_late = none, study_tau0 = none;  ///< The study's values (NaN where it has none).
  std::size_t crossovers = 0;   ///< Parts with a crossover.
};

/// The sweep's row of one configuration: the mean and spread over `parts` of the early and late exponents and of tau0
/// (parts without a crossover left out), beside the study's values.
[[nodiscard]] SweepRow sweep_row(const std::string& group, const std::string& model, std::int64_t batch_size, double lr,
                                 const std::vector<PartResult>& parts);

/// Writes sweep.csv, the plots of the exponents against learning rate, batch size and depth, and report.md/html.
void write_sweep(const std::vector<SweepRow>& rows, const std::filesystem::path& directory);

}  // namespace anodiff
