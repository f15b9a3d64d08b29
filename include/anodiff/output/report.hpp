#pragma once
/// \file report.hpp  (anodiff::core) A report written as Markdown (report.md) and HTML (report.html) at once: headings,
/// paragraphs, tables and the pictures the stages drew. The reproduction's report and the sweep's are built with it.
#include <filesystem>
#include <string>
#include <vector>

namespace anodiff {

/// A number for a report's text or table: `digits` decimals, "n/a" for NaN.
[[nodiscard]] std::string report_number(double v, int digits = 3);

/// A report built piece by piece, written as report.md and report.html (the same content; the HTML with a style
/// sheet for readable tables and pictures scaled to the page).
class Report {
 public:
  /// A heading of `level` (1: the title).
  void heading(const std::string& text, int level = 2);
  /// A paragraph (HTML markup such as <b> is kept in both files).
  void para(const std::string& text);
  /// A table with a header row.
  void table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows);
  /// The picture `png` with its caption, linked relative to `root` (the report's folder); nothing if `png` does not
  /// exist (a plot gnuplot could not draw).
  void image(const std::filesystem::path& root, const std::filesystem::path& png, const std::string& caption);
  /// Writes report.md and report.html (titled `title`) into `directory`, each durably (a temporary name, fsync,
  /// rename); throws IoError naming the file if it cannot.
  void write(const std::filesystem::path& directory, const std::string& title) const;
  /// The Markdown written so far.
  [[nodiscard]] const std::string& markdown() const { return md_; }

 private:
  std::string md_, html_;
};

}  // namespace anodiff
