#include "anodiff/plot.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include "anodiff/error.hpp"
#include "detail/gnuplot.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {
std::string quoted(const std::string& s) { return detail::gnuplot_quoted(s); }

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''"; else out += c;
  }
  return out + "'";
}
}  // namespace

std::string detail::gnuplot_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

bool run_gnuplot(const fs::path& script, const LogSink& log) {
  const fs::path dir = script.has_parent_path() ? script.parent_path() : fs::path(".");
  const std::string cmd = fmt::format("cd {} && gnuplot {} 2>&1", shell_quoted(dir.string()),
                                      shell_quoted(script.filename().string()));
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    log_line(log, fmt::format("anodiff: cannot run gnuplot for {}", script.string()));
    return false;
  }
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = ::pclose(pipe);
  if (status != 0) {
    log_line(log, fmt::format("anodiff: gnuplot failed on {} (is gnuplot-nox installed?): {}", script.string(), output));
    return false;
  }
  return true;
}

std::string detail::plot_script(const Plot& plot, const fs::path& png) {
  const fs::path dir = png.has_parent_path() ? png.parent_path() : fs::path(".");
  std::string gp;
  gp += "set terminal pngcairo size 1000,700 enhanced font 'sans,11'\n";
  gp += fmt::format("set output {}\n", quoted(png.filename().string()));
  gp += "set datafile separator ','\nset datafile columnheaders\n";
  gp += "set key outside right top\n";
  gp += "set grid\n";
  gp += fmt::format("set title {}\n", quoted(plot.title));
  gp += fmt::format("set xlabel {}\nset ylabel {}\n", quoted(plot.xlabel), quoted(plot.ylabel));
  if (plot.logx) gp += "set logscale x\nset format x '10^{%L}'\n";
  if (plot.logy) gp += "set logscale y\nset format y '10^{%L}'\n";
  if (!plot.extra.empty()) gp += plot.extra + "\n";
  gp += "plot ";
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    const auto& s = plot.series[i];
    const std::string file = fs::relative(s.csv, dir).string();
    gp += fmt::format("{}{} using {} with {} {}", i ? ", \\\n     " : "", quoted(file), s.columns, s.style,
                      s.title.empty() ? "notitle" : "title " + quoted(s.title));
  }
  gp += "\n";
  return gp;
}

bool draw(const Plot& plot, const fs::path& png, const LogSink& log) {
  fs::path script = png;
  script.replace_extension(".gp");
  const std::string gp = detail::plot_script(plot, png);
  {
    std::ofstream out(script);
    out << gp << std::flush;
    if (!out) throw IoError(fmt::format("{}: cannot write the gnuplot script", script.string()));
  }
  return run_gnuplot(script, log);
}

}  // namespace anodiff
