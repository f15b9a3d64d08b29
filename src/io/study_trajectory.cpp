#include "anodiff/io/study_trajectory.hpp"

#include <algorithm>
#include <optional>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <regex>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "study_file_rows.hpp"

namespace anodiff {

namespace detail {

const char* const kStudyExpected =
    "the study's train_save layout: 'sub_weights' (steps x parameter tensors, or steps x D) with 'sub_loss', or "
    "the post-analysis's 'MSD_feed'";

std::string join_names(const std::vector<std::string>& names) {
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace detail

namespace fs = std::filesystem;

namespace {

using detail::FileRows;
using detail::read_h5;
using detail::read_mat;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

FileRows read_file(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".mat") {
#ifdef ANODIFF_HAVE_MATIO
    return read_mat(file);
#else
    throw InputError(fmt::format("{}: this anodiff was built without libmatio and cannot read .mat files (install "
                                 "libmatio-dev and configure again)", file.string()));
#endif
  }
#ifdef ANODIFF_HAVE_HDF5
  return read_h5(file);
#else
  throw InputError(fmt::format("{}: this anodiff was built without HDF5 and cannot read .h5 files (install libhdf5-dev "
                               "and configure again)", file.string()));
#endif
}

// The epoch in a name model_E_sub_loss_w.*; none for another name.
std::optional<long long> epoch_of(const fs::path& file) {
  static const std::regex pattern(R"(model_(\d+)_sub_loss_w\.(mat|h5))");
  std::smatch m;
  const std::string name = file.filename().string();
  if (std::regex_match(name, m, pattern)) return std::stoll(m[1].str());
  return std::nullopt;
}

}  // namespace

bool have_matio() {
#ifdef ANODIFF_HAVE_MATIO
  return true;
#else
  return false;
#endif
}

bool have_hdf5() {
#ifdef ANODIFF_HAVE_HDF5
  return true;
#else
  return false;
#endif
}

bool is_study_file(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".mat" || ext == ".h5" || ext == ".hdf5";
}

std::vector<fs::path> study_trajectory_files(const fs::path& dir) {
  std::map<long long, fs::path> by_epoch;
  if (!fs::is_directory(dir)) return {};
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const auto epoch = epoch_of(e.path());
    if (!epoch) continue;
    auto [it, fresh] = by_epoch.emplace(*epoch, e.path());
    if (!fresh) {
      throw InputError(fmt::format("{}: epoch {} is held twice ({} and {}): keep one of them", dir.string(), *epoch,
                                   it->second.filename().string(), e.path().filename().string()));
    }
  }
  std::vector<fs::path> files;
  long long previous = -1;
  for (const auto& [epoch, path] : by_epoch) {
    if (previous >= 0 && epoch != previous + 1) {
      throw InputError(fmt::format("{}: no such file: the epochs {} to {} are there, epoch {} is missing (a trajectory "
                                   "must be contiguous; give the files of one contiguous stretch instead)",
                                   (dir / fmt::format("model_{}_sub_loss_w{}", previous + 1, path.extension().string())).string(),
                                   by_epoch.begin()->first, by_epoch.rbegin()->first, previous + 1));
    }
    files.push_back(path);
    previous = epoch;
  }
  return files;
}

WeightTrajectory load_study_trajectory(const std::vector<fs::path>& files) {
  if (files.empty()) throw std::invalid_argument("load_study_trajectory: no files");
  std::vector<float> f;
  std::vector<double> d;
  bool float64 = false, any_grad = false, any_noise = false;
  std::size_t dimension = 0, steps_per_file = 0, total = 0;
  long long first_epoch = 1;
  StepTable table;
  table.names = {"step", "epoch", "loss"};
  table.columns.assign(3, {});
  std::vector<double> grad_norm, noise_norm;
  for (std::size_t k = 0; k < files.size(); ++k) {
    const fs::path& file = files[k];
    FileRows r = read_file(file);
    const auto number = epoch_of(file);  // the epoch its name gives, if any
    if (r.dimension == 0) throw InputError(fmt::format("{}: snapshots of 0 parameters", file.string()));
    if (k == 0) {
      dimension = r.dimension;
      float64 = r.float64;
      steps_per_file = r.steps;
      first_epoch = std::max(number.value_or(1), 1LL);
    } else if (r.dimension != dimension) {
      throw InputError(fmt::format("{}: {} parameters per step, {} has {}: expected the same network in every file",
                                   file.string(), r.dimension, files.front().string(), dimension));
    }
    if (!r.loss.empty() && r.loss.size() != r.steps) {
      throw InputError(fmt::format("{}: {} losses for {} steps of weights: expected one loss per step", file.string(),
                                   r.loss.size(), r.steps));
    }
    if (!r.noise_norm.empty() && r.noise_norm.size() != r.steps) {
      throw InputError(fmt::format("{}: {} gradient noise norms for {} steps: expected one per step", file.string(),
                                   r.noise_norm.size(), r.steps));
    }
    // Append the weights in the trajectory's type.
    if (float64) {
      if (r.float64) d.insert(d.end(), r.d.begin(), r.d.end()); else d.insert(d.end(), r.f.begin(), r.f.end());
    } else {
      if (r.float64) {
        for (double v : r.d) f.push_back(static_cast<float>(v));
      } else {
        f.insert(f.end(), r.f.begin(), r.f.end());
      }
    }
    const long long file_epoch = number.value_or(0) > 0 ? *number : first_epoch + static_cast<long long>(k);
    for (std::size_t t = 0; t < r.steps; ++t) {
      const double step = r.step.empty()
                              ? double((first_epoch - 1) * static_cast<long long>(steps_per_file)) + double(total + t + 1)
                              : r.step[t];
      table.columns[0].push_back(step);
      table.columns[1].push_back(r.step.empty() ? double(file_epoch) : kNaN);
      table.columns[2].push_back(r.loss.empty() ? kNaN : r.loss[t]);
    }
    any_grad = any_grad || !r.grad_norm.empty();
    any_noise = any_noise || !r.noise_norm.empty();
    grad_norm.resize(total, kNaN);
    noise_norm.resize(total, kNaN);
    if (r.grad_norm.empty()) grad_norm.resize(total + r.steps, kNaN); else grad_norm.insert(grad_norm.end(), r.grad_norm.begin(), r.grad_norm.end());
    if (r.noise_norm.empty()) noise_norm.resize(total + r.steps, kNaN); else noise_norm.insert(noise_norm.end(), r.noise_norm.begin(), r.noise_norm.end());
    total += r.steps;
  }
  if (any_grad) {
    table.names.push_back("grad_norm");
    table.columns.push_back(std::move(grad_norm));
  }
  if (any_noise) {
    table.names.push_back("noise_norm");
    table.columns.push_back(std::move(noise_norm));
  }
  return float64 ? WeightTrajectory::from_rows(std::move(d), dimension, std::move(table))
                 : WeightTrajectory::from_rows(std::move(f), dimension, std::move(table));
}

}  // namespace anodiff
