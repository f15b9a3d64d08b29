#pragma once
/// \file csv.hpp  The one CSV reader and writer of anodiff: tables with a header line of column names.
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"

namespace anodiff {

/// A CSV file opened for writing; the header line is written at once, rows with row(). Every CSV file anodiff writes
/// goes through it.
class CsvWriter {
 public:
  /// How the file is written.
  enum class Mode {
    create,   ///< Created (or truncated) at once; rows go to it as they come.
    append,   ///< A file that exists and is not empty is appended to (its header is taken as written); else create.
    durable,  ///< Rows are kept in memory; flush() writes the whole file at once under a temporary name, fsyncs it
              ///< and renames it over `path`, so a reader (or a process killed meanwhile) never sees a torn file.
  };

  /// Opens `path` (create and append: throws IoError if it cannot) and writes `header` (comma-separated column names).
  CsvWriter(const std::filesystem::path& path, const std::string& header, Mode mode = Mode::create);
  /// Writes one row formatted by fmt; throws IoError if the system refuses the buffer it fills (a full disk).
  template <typename... Args>
  void row(fmt::format_string<Args...> format, Args&&... args) {
    raw(fmt::format(format, std::forward<Args>(args)...));
  }
  /// Writes a line as it is (e.g. the blank line between the scan lines of a grid).
  void raw(const std::string& line);
  /// Writes everything buffered to the file (before another program, e.g. gnuplot, reads it; durable: the whole
  /// file); throws IoError if the system refuses (a full disk). Call it when done: the destructor's last flush
  /// cannot report a failure, and a durable file is written by flush() only.
  void flush();

 private:
  void check() const;

  std::filesystem::path path_;
  Mode mode_;
  std::ofstream out_;  // create and append
  std::string text_;   // durable
};

/// A number for a CSV field: empty for NaN, else 10 significant digits.
inline std::string csv_number(double v) { return std::isnan(v) ? std::string() : fmt::format("{:.10g}", v); }

/// A CSV table read back: the header's column names and every row's fields as text. Lines may end in LF or CRLF,
/// the file may start with a UTF-8 byte-order mark, and blank lines (gnuplot's block separators) are skipped.
class CsvTable {
 public:
  /// Reads `path`. With `complete_lines_only`, a last line without its newline (a writer killed mid-line) is left
  /// out. Throws InputError naming the file (and line) for a missing or empty file, or a row whose number of fields
  /// differs from the header's.
  static CsvTable read(const std::filesystem::path& path, bool complete_lines_only = false);

  /// The file read.
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// Column names, in file order.
  [[nodiscard]] const std::vector<std::string>& names() const { return names_; }
  /// Number of data rows.
  [[nodiscard]] std::size_t rows() const { return rows_.size(); }
  /// Whether there is a column `name`.
  [[nodiscard]] bool has(const std::string& name) const;
  /// Index of column `name`; throws InputError naming the file and the column if there is none.
  [[nodiscard]] std::size_t column(const std::string& name) const;
  /// The field of row `row` in column `name`, as written.
  [[nodiscard]] const std::string& text(std::size_t row, const std::string& name) const;
  /// The field as a number: NaN for an empty field; throws InputError naming the file, line and column for text that
  /// is not a number.
  [[nodiscard]] double number(std::size_t row, const std::string& name) const;
  /// Every value of column `name` as numbers (see number()).
  [[nodiscard]] std::vector<double> numbers(const std::string& name) const;

 private:
  std::filesystem::path path_;
  std::vector<std::string> names_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::size_t> line_;  // the file line of each row, for messages
};

}  // namespace anodiff
