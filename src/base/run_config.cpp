#include "anodiff/base/run_config.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"

namespace anodiff {
namespace fs = std::filesystem;

std::vector<std::pair<std::string, std::string>> read_run_config(const fs::path& run) {
  std::ifstream in(run / "config.txt");
  if (!in) throw InputError(fmt::format("{}: no such file: expected the config of a training run", (run / "config.txt").string()));
  std::vector<std::pair<std::string, std::string>> kv;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find(" = ");
    if (eq == std::string::npos) {
      throw InputError(fmt::format("{}: expected 'key = value' lines, found '{}'", (run / "config.txt").string(), line));
    }
    kv.emplace_back(line.substr(0, eq), line.substr(eq + 3));
  }
  return kv;
}

std::string run_config_value(const fs::path& run, const std::string& key) {
  const auto kv = read_run_config(run);
  auto it = std::find_if(kv.begin(), kv.end(), [&](const auto& p) { return p.first == key; });
  if (it == kv.end()) throw InputError(fmt::format("{}: expected a '{}' entry", (run / "config.txt").string(), key));
  return it->second;
}

}  // namespace anodiff
