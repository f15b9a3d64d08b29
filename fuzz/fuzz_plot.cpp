// libFuzzer target: the gnuplot script writer's inputs. Title, axis labels, a curve's legend entry and its CSV file's
// name (separated by "\n##\n") go into a Plot; in the script plot_script() writes, each must come back exactly from
// its single-quoted string, add no line, and no backquote or double quote (gnuplot's command substitution) may stand
// outside a single-quoted string.
#include <cstdlib>

#include "detail/gnuplot.hpp"
#include "fuzz_util.hpp"

namespace {

// The strings of a gnuplot script between single quotes ('' inside one is a quote), in order; aborts on a backquote
// or a double quote outside them, or a quote left open.
std::vector<std::string> single_quoted(const std::string& script) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < script.size(); ++i) {
    const char c = script[i];
    if (c == '`' || c == '"') std::abort();
    if (c != '\'') continue;
    std::string s;
    for (++i;; ++i) {
      if (i >= script.size()) std::abort();
      if (script[i] == '\'') {
        if (i + 1 < script.size() && script[i + 1] == '\'') {
          s += '\'';
          ++i;
          continue;
        }
        break;
      }
      s += script[i];
    }
    out.push_back(s);
  }
  return out;
}

std::string one_line(std::string s) {
  for (auto& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = anodiff::fuzz::split_input(data, size, 5);
  std::string file = parts[4];
  for (auto& c : file) {
    if (c == '/' || c == '\0') c = '_';  // a file name in the PNG's folder
  }
  if (file.empty() || file == "." || file == "..") file = "data.csv";
  anodiff::Plot plot{parts[0], parts[1], parts[2], true, false, {}, "set yrange [0:*]"};
  plot.series.push_back({std::filesystem::path("out") / file, "'lag':'msd'", parts[3], "lines lw 2"});
  const std::string script = anodiff::detail::plot_script(plot, "out/msd.png");
  const auto strings = single_quoted(script);
  // The script's own strings ('sans,11', ',', '10^{%L}', 'lag', 'msd') and the user's, in order.
  const std::vector<std::string> expected = {"sans,11", "msd.png", ",", one_line(parts[0]), one_line(parts[1]),
                                             one_line(parts[2]), "10^{%L}", one_line(file), "lag", "msd",
                                             one_line(parts[3])};
  std::vector<std::string> want = expected;
  if (parts[3].empty()) want.pop_back();  // no legend entry: notitle
  if (strings != want) std::abort();
  std::size_t lines = 0;
  for (char c : script) lines += c == '\n';
  if (lines != 13) std::abort();
  return 0;
}
