#include "anodiff/hessian_run.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/error.hpp"
#include "anodiff/runtime.hpp"
#include "anodiff/trainer.hpp"

namespace anodiff {
namespace fs = std::filesystem;

void HessianRunOptions::validate() const {
  auto fail = [](const std::string& what) { throw std::invalid_argument("HessianRunOptions: " + what); };
  if (epochs.empty() && every < 1) fail(fmt::format("every must be >= 1, got {}", every));
  for (auto e : epochs) {
    if (e < 0) fail(fmt::format("epochs must be >= 0, got {}", e));
  }
  if (data.batch_size < 1) fail(fmt::format("data.batch_size must be >= 1, got {}", data.batch_size));
  if (data.batches < 0) fail(fmt::format("data.batches must be >= 0, got {}", data.batches));
  if (eigen.k < 1) fail(fmt::format("eigen.k must be >= 1, got {}", eigen.k));
  if (eigen.ncv != 0 && eigen.ncv <= eigen.k) {
    fail(fmt::format("eigen.ncv must be 0 (automatic) or > eigen.k = {}, got {}", eigen.k, eigen.ncv));
  }
  if (!(eigen.tolerance > 0)) fail(fmt::format("eigen.tolerance must be positive, got {}", eigen.tolerance));
  if (!eigen.start.empty()) {
    fail("eigen.start must be empty: each checkpoint starts from the previous one's eigenvectors (warm_start)");
  }
  if (trace_products % 3 != 0) {
    fail(fmt::format("trace_products must be 0 or a positive multiple of 3, got {}", trace_products));
  }
  if (density_probes > 0 && density_steps < 2) fail(fmt::format("density_steps must be >= 2, got {}", density_steps));
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
  if (o.every < 1) throw std::invalid_argument(fmt::format("HessianRunOptions: every must be >= 1, got {}", o.every));
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

HessianRun hessian_along_run(const fs::path& run, const HessianRunOptions& o) {
  o.validate();
  const torch::Device device = choose_device(o.device);
  const Dataset data = run_training_data(run);
  const auto epochs = hessian_epochs(run, o);
  HessianRun out;
  out.k = o.eigen.k;
  out.end = o.eigen.end;
  std::vector<double> start;  // the previous checkpoint's converged eigenvectors summed
  Progress progress(o.log, "hessian (checkpoints)", epochs.size(), 0.0);
  for (auto e : epochs) {
    auto model = run_model(run, data);
    load_checkpoint(*model, run, e, torch::kCPU);
    auto op = classifier_hessian(*model, data, o.data, device);
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

}  // namespace anodiff
