#include "anodiff/trajectory/step_table.hpp"

#include <cmath>

#include <fmt/format.h>

#include "anodiff/io/csv.hpp"

namespace anodiff {
namespace fs = std::filesystem;

const std::vector<double>* StepTable::column(const std::string& name) const {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return &columns[i];
  }
  return nullptr;
}

StepTable StepTable::read_csv(const fs::path& path) {
  const CsvTable csv = CsvTable::read(path);
  StepTable t;
  t.names = csv.names();
  for (const auto& name : t.names) t.columns.push_back(csv.numbers(name));
  return t;
}

void StepTable::write_csv(const fs::path& path) const {
  // Durably (a temporary name, fsync, rename), as the trajectory's chunks: steps.csv and metrics.csv are rewritten
  // at every chunk or epoch while readers may be reading them.
  CsvWriter out(path, fmt::format("{}", fmt::join(names, ",")), CsvWriter::Mode::durable);
  std::string line;
  for (std::size_t r = 0; r < rows(); ++r) {
    line.clear();
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (c) line += ',';
      const double v = columns[c][r];
      if (std::isnan(v)) continue;
      if (v == std::floor(v) && std::fabs(v) < 1e15) {
        line += fmt::format("{}", static_cast<long long>(v));
      } else {
        line += fmt::format("{:.9g}", v);
      }
    }
    out.raw(line);
  }
  out.flush();
}

}  // namespace anodiff
