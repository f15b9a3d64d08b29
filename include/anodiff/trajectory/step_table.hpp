#pragma once
/// \file step_table.hpp  (anodiff::core) The per-snapshot numbers of a trajectory (steps.csv, metrics.csv): named
/// columns, one row per snapshot.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace anodiff {

/// Per-snapshot information: named numeric columns (step, epoch, loss, ...), one row per snapshot; NaN = empty.
struct StepTable {
  std::vector<std::string> names;             ///< Column names, e.g. {"step", "epoch", "loss", "grad_norm"}.
  std::vector<std::vector<double>> columns;   ///< columns[c][t]: value of column c at snapshot t.

  /// Number of rows (0 without columns).
  [[nodiscard]] std::size_t rows() const { return columns.empty() ? 0 : columns.front().size(); }
  /// The column called `name`, or nullptr.
  [[nodiscard]] const std::vector<double>* column(const std::string& name) const;
  /// Reads a CSV with a header line; empty fields become NaN. Throws InputError naming the file and line.
  static StepTable read_csv(const std::filesystem::path& path);
  /// Writes the table as CSV (NaN as an empty field), durably (temporary name, fsync, rename).
  void write_csv(const std::filesystem::path& path) const;
};

}  // namespace anodiff
