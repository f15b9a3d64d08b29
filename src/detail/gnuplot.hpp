#pragma once
// Private: the text of the gnuplot scripts anodiff writes (plot.cpp; fuzz/fuzz_plot.cpp fuzzes it).
#include <filesystem>
#include <string>

#include "anodiff/output/plot.hpp"

namespace anodiff::detail {

/// `s` as a gnuplot string that means exactly `s`: single-quoted, a quote doubled. gnuplot runs `command` in
/// backquotes and expands backslash escapes inside double quotes, not inside single ones: a title or a file name from
/// the user (a model file named `...`.pt) can then never run a command. A line break, which would end the gnuplot
/// command, becomes a space.
std::string gnuplot_quoted(const std::string& s);

/// The script draw() writes for `plot` into `png` (paths of the CSVs relative to the PNG's folder).
std::string plot_script(const Plot& plot, const std::filesystem::path& png);

}  // namespace anodiff::detail
