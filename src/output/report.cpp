#include "anodiff/output/report.hpp"

#include <cmath>

#include <fmt/format.h>

#include "detail/npy.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {

// The report's style sheet: readable line length, compact tables with a header row, pictures scaled to the page.
const char* const kStyle =
    "body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; "
    "color: #222; }\n"
    "h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.5em; }\n"
    "table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }\n"
    "th, td { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; text-align: left; }\n"
    "th { background: #f0f0f0; } tr:nth-child(even) td { background: #fafafa; }\n"
    "figure { margin: 1em 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; }\n"
    "figcaption { font-size: 0.9em; color: #555; }\n";

}  // namespace

std::string report_number(double v, int digits) { return std::isnan(v) ? "n/a" : fmt::format("{:.{}f}", v, digits); }

void Report::heading(const std::string& text, int level) {
  md_ += std::string(std::size_t(level), '#') + " " + text + "\n\n";
  html_ += fmt::format("<h{0}>{1}</h{0}>\n", level, text);
}

void Report::para(const std::string& text) {
  md_ += text + "\n\n";
  html_ += "<p>" + text + "</p>\n";
}

void Report::table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  md_ += "| " + fmt::format("{}", fmt::join(head, " | ")) + " |\n|";
  for (std::size_t i = 0; i < head.size(); ++i) md_ += " --- |";
  md_ += "\n";
  html_ += "<table><tr>";
  for (const auto& h : head) html_ += "<th>" + h + "</th>";
  html_ += "</tr>\n";
  for (const auto& r : rows) {
    md_ += "| " + fmt::format("{}", fmt::join(r, " | ")) + " |\n";
    html_ += "<tr>";
    for (const auto& c : r) html_ += "<td>" + c + "</td>";
    html_ += "</tr>\n";
  }
  md_ += "\n";
  html_ += "</table>\n";
}

void Report::image(const fs::path& root, const fs::path& png, const std::string& caption) {
  if (!fs::exists(png)) return;
  const std::string rel = fs::relative(png, root).string();
  md_ += fmt::format("![{}]({})\n\n", caption, rel);
  html_ += fmt::format("<figure><img src='{}' alt='{}'><figcaption>{}</figcaption></figure>\n", rel, caption, caption);
}

void Report::write(const fs::path& directory, const std::string& title) const {
  detail::write_file_durably(directory / "report.md", md_, nullptr, 0);
  detail::write_file_durably(directory / "report.html",
                             "<!doctype html><html><head><meta charset='utf-8'><title>" + title + "</title>\n<style>\n" +
                                 kStyle + "</style></head><body>\n" + html_ + "</body></html>\n",
                             nullptr, 0);
}

}  // namespace anodiff
