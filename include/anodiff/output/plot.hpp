#pragma once
/// \file plot.hpp  PNG plots through gnuplot; the script that draws each PNG is written beside it.
#include <filesystem>
#include <string>
#include <vector>

#include "anodiff/base/progress.hpp"

namespace anodiff {

/// One curve of a plot: columns of a CSV file (with a header line) in gnuplot's `using` syntax.
struct PlotSeries {
  std::filesystem::path csv;   ///< Data file (CSV with a header line).
  std::string columns;         ///< gnuplot `using` expression addressing columns by name, e.g. "'lag':'msd'" or
                               ///< "'lag':(column('part')==0 ? column('msd') : 1/0)".
  std::string title;           ///< Legend entry (empty: none).
  std::string style = "lines"; ///< gnuplot style, e.g. "lines", "points pt 7 ps 0.5", "linespoints".
};

/// A 2-D plot.
struct Plot {
  std::string title;                ///< Title above the plot.
  std::string xlabel, ylabel;       ///< Axis labels.
  bool logx = false, logy = false;  ///< Logarithmic axes.
  std::vector<PlotSeries> series;   ///< Curves.
  std::string extra;                ///< Further gnuplot commands placed before `plot` (e.g. "set yrange [0:2]").
};

/// Writes `png` (1000 x 700) and the gnuplot script `png` with extension .gp, then runs gnuplot. CSV paths in the
/// script are relative to the PNG's folder. Returns false, with one line to `log`, if gnuplot fails or is missing
/// (a missing plot is not an error: the CSV is the result).
bool draw(const Plot& plot, const std::filesystem::path& png, const LogSink& log = {});

/// Runs gnuplot on an existing script in the script's folder; false (with one line to `log`) on failure.
bool run_gnuplot(const std::filesystem::path& script, const LogSink& log = {});

}  // namespace anodiff
