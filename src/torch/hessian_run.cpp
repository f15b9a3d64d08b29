#include "anodiff/torch/hessian_run.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/torch/scripted_model.hpp"
#include "anodiff/torch/trainer.hpp"

namespace anodiff {
namespace fs = std::filesystem;

void HessianRunOptions::validate() const {
  constexpr const char* owner = "HessianRunOptions";
  require(!epochs.empty() || every >= 1, owner, fmt::format("every must be >= 1, got {}", every));
  for (auto e : epochs) require(e >= 0, owner, fmt::format("epochs must be >= 0, got {}", e));
  check(owner);
}

void HessianOptions::check(const char* owner) const {
  data.validate(owner, "data.");
  eigen.validate(owner, "eigen.");
  require(eigen.start.empty(), owner,
          "eigen.start must be empty: each checkpoint starts from the previous one's eigenvectors (warm_start)");
  require(trace_products % 3 == 0, owner,
          fmt::format("trace_products must be 0 or a positive multiple of 3, got {}", trace_products));
  require(density_probes == 0 || density_steps >= 2, owner,
          fmt::format("density_steps must be >= 2, got {}", density_steps));
  (void)choose_device(device);  // throws for an unknown device, or CUDA without one
}

std::vector<std::int64_t> parse_epoch_list(const std::string& text) {
  auto fail = [&] {
    throw std::invalid_argument(
        fmt::format("parse_epoch_list: expected comma-separated epochs >= 0 such as '0,5,10', got '{}'", text));
  };
  std::vector<std::int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto first = item.find_first_not_of(' '), end = item.find_last_not_of(' ');
    if (first == std::string::npos) fail();
    const std::string number = item.substr(first, end - first + 1);
    char* stop = nullptr;
    const long long e = std::strtoll(number.c_str(), &stop, 10);
    if (*stop != '\0' || e < 0 || number.find_first_not_of("0123456789") != std::string::npos) fail();
    out.push_back(e);
  }
  if (out.empty() || (!text.empty() && text.back() == ',')) fail();
  return out;
}

std::vector<std::int64_t> hessian_epochs(const fs::path& run, const HessianRunOptions& o) {
  std::vector<std::int64_t> epochs;
  if (!o.epochs.empty()) {
    for (auto e : o.epochs) {
      if (!fs::exists(checkpoint_path(run, e))) {
        throw InputError(fmt::format("{}: no such checkpoint (epoch {} was asked for)", checkpoint_path(run, e).string(), e));
      }
    }
    return o.epochs;
  }
  require(o.every >= 1, "HessianRunOptions", fmt::format("every must be >= 1, got {}", o.every));
  for (std::int64_t e = 0; fs::exists(checkpoint_path(run, e)); e += o.every) epochs.push_back(e);
  if (epochs.empty()) {
    throw InputError(fmt::format("{}: no such checkpoint: expected the checkpoints of a run made by Trainer (anodiff-train)",
                                 checkpoint_path(run, 0).string()));
  }
  if (o.last) {
    std::int64_t last = epochs.back();
    while (fs::exists(checkpoint_path(run, last + 1))) ++last;
    if (last != epochs.back()) epochs.push_back(last);
  }
  return epochs;
}

namespace {

// The Hessian of `data`'s loss at each model that model_at(i) gives, labelled epochs[i]; warm-started. Without data,
// each TorchScript model's own data-free loss.
HessianRun hessian_of_models(const std::vector<std::int64_t>& epochs,
                             const std::function<std::shared_ptr<Network>(std::size_t)>& model_at,
                             const std::optional<Dataset>& data, const HessianOptions& o, torch::Device device) {
  HessianRun out;
  out.k = o.eigen.k;
  out.end = o.eigen.end;
  std::vector<double> start;  // the previous checkpoint's converged eigenvectors summed
  Progress progress(o.log, "hessian (checkpoints)", epochs.size(), 0.0);
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    const std::int64_t e = epochs[i];
    auto model = model_at(i);
    std::unique_ptr<HessianOperator> op;
    if (data) {
      op = classifier_hessian(*model, *data, o.data, device);
    } else {  // a TorchScript model's own data-free loss
      if (o.data.shards) throw std::invalid_argument("a data-free loss has no data to split among shards");
      if (o.data.float64) model->to(torch::kFloat64);
      model->to(device);
      if (o.data.train_mode) model->train(); else model->eval();
      op = std::make_unique<HessianOperator>(*model, std::vector<HessianOperator::Term>{{scripted_loss(*model), 1.0}});
    }
    HessianCheckpoint c;
    c.epoch = e;
    auto eigen = o.eigen;
    eigen.eigenvectors = true;
    c.warm_start = o.warm_start && eigen.method == EigenMethod::lanczos && !start.empty();
    if (c.warm_start) eigen.start = start;
    c.eigen = extreme_eigenpairs(*op, eigen);
    start.clear();
    for (auto& p : c.eigen.eigenpairs) {
      if (p.converged) {
        start.resize(p.eigenvector.size(), 0.0);
        for (std::size_t d = 0; d < p.eigenvector.size(); ++d) start[d] += p.eigenvector[d];
      }
      if (!o.eigen.eigenvectors) p.eigenvector = {};
    }
    if (o.trace_products > 0) c.trace = TraceEstimate{hutchpp_trace(*op, o.trace_products, o.eigen.seed), o.trace_products};
    if (o.density_probes > 0) {
      c.density = smooth_density(
          spectral_density(*op, o.density_probes, std::min(o.density_steps, op->dimension()), o.eigen.seed));
    }
    progress.update(out.checkpoints.size() + 1,
                    fmt::format("epoch {}: eigenvalue 1 {:.4g}, {} products, {} of {} converged", e,
                                c.eigen.eigenpairs.front().eigenvalue, c.eigen.products, c.eigen.converged_count,
                                c.eigen.eigenpairs.size()));
    out.checkpoints.push_back(std::move(c));
  }
  progress.finish();
  return out;
}

// The number that ends a file name after a separator or "epoch" (model_12.t7, ckpt-5.pt, epoch3.pt: 12, 5, 3;
// resnet14.pt: none).
std::optional<std::int64_t> number_in_name(const fs::path& file) {
  static const std::regex trailing_number(R"((?:^|[_.-]|epoch)(\d+)$)");
  std::smatch m;
  const std::string stem = file.stem().string();
  if (std::regex_search(stem, m, trailing_number)) return std::stoll(m[1].str());
  return std::nullopt;
}

}  // namespace

HessianRun hessian_along_run(const fs::path& run, const HessianRunOptions& o) {
  o.validate();
  const torch::Device device = choose_device(o.device);
  const std::optional<Dataset> data = run_training_data(run);
  const auto epochs = hessian_epochs(run, o);
  return hessian_of_models(
      epochs,
      [&](std::size_t i) {
        auto model = run_model(run, *data);
        load_checkpoint(*model, run, epochs[i], torch::kCPU);
        return model;
      },
      data, o, device);
}

std::vector<std::int64_t> checkpoint_labels(const std::vector<fs::path>& checkpoints) {
  std::vector<std::int64_t> labels;
  bool numbered = true;  // every file's name ends in a number
  for (const auto& file : checkpoints) {
    const auto number = number_in_name(file);
    numbered = numbered && number.has_value();
    labels.push_back(number.value_or(0));
  }
  numbered = numbered && std::set<std::int64_t>(labels.begin(), labels.end()).size() == labels.size();
  if (!numbered) std::iota(labels.begin(), labels.end(), std::int64_t(0));
  return labels;
}

std::vector<fs::path> hessian_checkpoint_files(const std::string& model, const std::vector<fs::path>& checkpoints) {
  const bool builtin = check_model_argument(model);
  if (!checkpoints.empty()) return checkpoints;
  if (builtin || !is_torchscript_file(model)) {
    throw InputError(fmt::format("{}: not a TorchScript file (torch.jit.save): without --checkpoints --model must "
                                 "be one", model));
  }
  return {fs::path(model)};
}

HessianRun hessian_of_checkpoints(const std::string& architecture, const std::vector<fs::path>& checkpoints,
                                  const std::optional<Dataset>& data, const HessianOptions& o) {
  o.validate();
  if (checkpoints.empty()) throw std::invalid_argument("hessian_of_checkpoints: no checkpoints");
  const torch::Device device = choose_device(o.device);
  const auto labels = checkpoint_labels(checkpoints);
  auto model_at = [&](std::size_t i) {
    const fs::path& file = checkpoints[i];
    auto model = resolve_network(architecture, file, data);
    const auto params = model->parameters();
    if (std::none_of(params.begin(), params.end(), [](const torch::Tensor& p) { return p.requires_grad(); })) {
      throw InputError(fmt::format("{}: the model has no parameters that require gradients: nothing to take the "
                                   "Hessian of (were they frozen with requires_grad_(False)?)", file.string()));
    }
    if (i == 0 && data) check_classifier(*model, *data, file.string());
    return model;
  };
  return hessian_of_models(labels, model_at, data, o, device);
}

}  // namespace anodiff
