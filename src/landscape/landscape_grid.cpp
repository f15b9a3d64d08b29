#include "anodiff/landscape/landscape_grid.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/io/csv.hpp"
#include "anodiff/base/error.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Merges the complete lines of one surface file into the grid.
void merge_file(const fs::path& file, LandscapeGrid& g) {
  if (fs::file_size(file) == 0) return;
  const CsvTable t = CsvTable::read(file, /*complete_lines_only=*/true);
  for (std::size_t r = 0; r < t.rows(); ++r) {
    const double fi = t.number(r, "i"), fj = t.number(r, "j"), x = t.number(r, "x"), y = t.number(r, "y");
    const std::size_t i = std::size_t(fi), j = std::size_t(fj);
    if (!(fi >= 0) || !(fj >= 0) || i >= g.x.points || j >= g.y.points ||
        std::fabs(g.x.at(i) - x) > 1e-9 * (1 + std::fabs(x)) || std::fabs(g.y.at(j) - y) > 1e-9 * (1 + std::fabs(y))) {
      throw InputError(fmt::format("{}: point ({}, {}) at ({}, {}) does not belong to this grid (x {}:{}:{}, y "
                                   "{}:{}:{}); use another output directory",
                                   file.string(), fi, fj, x, y, g.x.lo, g.x.hi, g.x.points, g.y.lo, g.y.hi,
                                   g.y.points));
    }
    g.loss[j * g.x.points + i] = t.number(r, "loss");
    g.accuracy[j * g.x.points + i] = t.number(r, "accuracy");
  }
}
}  // namespace

Axis Axis::parse(const std::string& text) {
  Axis a;
  char extra;
  if (std::sscanf(text.c_str(), "%lf:%lf:%zu%c", &a.lo, &a.hi, &a.points, &extra) != 3 || a.points < 1 ||
      !(a.hi >= a.lo)) {
    throw std::invalid_argument(
        fmt::format("malformed range '{}': expected LO:HI:N with LO <= HI and N >= 1, e.g. -1:1:51", text));
  }
  return a;
}

std::size_t LandscapeGrid::evaluated() const {
  std::size_t n = 0;
  for (double v : loss) n += !std::isnan(v);
  return n;
}

Surface LandscapeGrid::loss_surface() const {
  Surface s;
  s.rows = y.points;
  s.cols = x.points;
  s.x_min = x.lo, s.x_max = x.hi, s.y_min = y.lo, s.y_max = y.hi;
  s.z = loss;
  return s;
}

fs::path landscape_file(const fs::path& dir, Shard shard) {
  return shard.count <= 1 ? dir / "surface.csv" : dir / fmt::format("surface.shard-{}-of-{}.csv", shard.index, shard.count);
}

LandscapeGrid read_landscape(const fs::path& dir, const Axis& x, const Axis& y) {
  LandscapeGrid g;
  g.x = x;
  g.y = y;
  g.loss.assign(x.points * y.points, kNaN);
  g.accuracy.assign(x.points * y.points, kNaN);
  if (!fs::is_directory(dir)) return g;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.rfind("surface", 0) == 0 && e.path().extension() == ".csv") merge_file(e.path(), g);
  }
  return g;
}

std::string roughness_line(const LandscapeRoughness& r) {
  return fmt::format("roughness: H = {:.3f} +- {:.3f} (structure function, lags 1-{} px); mean |dL| ~ r^{:.3f} (study: 1)",
                     r.hurst.hurst, r.hurst.error, r.max_lag, r.pairs.fit.exponent);
}

LandscapeRoughness landscape_roughness(const LandscapeGrid& g) {
  if (g.y.points < 2 || g.x.points < 2) {
    throw std::invalid_argument(fmt::format("landscape_roughness: a 2-D grid is needed, got {} x {} points",
                                            g.x.points, g.y.points));
  }
  if (g.evaluated() != g.loss.size()) {
    throw std::invalid_argument(fmt::format("landscape_roughness: {} of the {} points are not evaluated",
                                            g.loss.size() - g.evaluated(), g.loss.size()));
  }
  const Surface s = g.loss_surface();
  LandscapeRoughness r;
  r.max_lag = std::max<std::size_t>(2, std::min(s.rows, s.cols) / 4);
  r.structure = structure_function(s, 2, r.max_lag);
  r.hurst = hurst_exponent(r.structure, 1, double(r.max_lag));
  r.pairs = mean_abs_difference(s, 200000, 20, 0);
  if (std::min(s.rows, s.cols) >= 8) r.boxes = box_counting(s);
  return r;
}

}  // namespace anodiff
