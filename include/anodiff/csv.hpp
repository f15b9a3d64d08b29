#pragma once
/// \file csv.hpp  Writing CSV tables with a header line.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "anodiff/error.hpp"

namespace anodiff {

/// A CSV file opened for writing; the header line is written at once, rows with row().
class CsvWriter {
 public:
  /// Creates `path` (throws InputError if it cannot) and writes `header` (comma-separated column names).
  CsvWriter(const std::filesystem::path& path, const std::string& header) : out_(path) {
    if (!out_) throw InputError(fmt::format("{}: cannot write", path.string()));
    out_ << header << '\n';
  }
  /// Writes one row formatted by fmt.
  template <typename... Args>
  void row(fmt::format_string<Args...> format, Args&&... args) {
    out_ << fmt::format(format, std::forward<Args>(args)...) << '\n';
  }
  /// Writes a line as it is (e.g. the blank line between the scan lines of a grid).
  void raw(const std::string& line) { out_ << line << '\n'; }
  /// Writes everything buffered to the file (before another program, e.g. gnuplot, reads it).
  void flush() { out_.flush(); }

 private:
  std::ofstream out_;
};

/// A number for a CSV field: empty for NaN, else 10 significant digits.
inline std::string csv_number(double v) { return std::isnan(v) ? std::string() : fmt::format("{:.10g}", v); }

}  // namespace anodiff
