#pragma once
// Shared by the examples that analyse a training run: its options and data, read back from config.txt.
#include <algorithm>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "anodiff/datasets.hpp"
#include "anodiff/error.hpp"
#include "anodiff/trainer.hpp"

namespace anodiff::cli {

/// The value of `key` in a run's config.txt; throws InputError naming the file if it is missing.
inline std::string config_value(const std::filesystem::path& run, const std::string& key) {
  const auto kv = read_run_config(run);
  auto it = std::find_if(kv.begin(), kv.end(), [&](const auto& p) { return p.first == key; });
  if (it == kv.end()) {
    throw InputError(fmt::format("{}: expected a '{}' entry", (run / "config.txt").string(), key));
  }
  return it->second;
}

/// The run's training data (its data set, data directory and --limit-train), without augmentation.
inline Dataset run_training_data(const std::filesystem::path& run) {
  const auto split = load_dataset(config_value(run, "dataset"), config_value(run, "data_dir"));
  return split.train.first(std::stoll(config_value(run, "limit_train")));
}

/// A fresh model of the run's architecture for its data.
inline std::shared_ptr<Network> run_model(const std::filesystem::path& run, const Dataset& data) {
  return make_model(config_value(run, "model"), data.channels(), data.classes);
}

}  // namespace anodiff::cli
