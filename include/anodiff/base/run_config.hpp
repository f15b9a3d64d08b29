#pragma once
/// \file run_config.hpp  (anodiff::core) A training run's config.txt ("key = value" lines, written by the Trainer):
/// read by the Trainer to resume, and by the post-analysis to name the run and find the study's values for it.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace anodiff {

/// Reads config.txt of a run directory into key/value pairs. Throws InputError if it is missing or malformed.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> read_run_config(const std::filesystem::path& run);

/// The value of `key` in a run's config.txt; throws InputError naming the file if it has none.
[[nodiscard]] std::string run_config_value(const std::filesystem::path& run, const std::string& key);

}  // namespace anodiff
