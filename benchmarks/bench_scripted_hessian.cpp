// The cost of a Hessian-vector product through a TorchScript module (load_scripted_model, docs/own_models.md)
// against the built-in model with the same weights: ResNet-14 (Li et al.'s resnet.py, scripted in Python by
// tests/own_models.py), eval-mode BN, one fixed batch, float32, the same vector; also the products' agreement.
// Usage: bench_scripted_hessian [model=resnet14] [batch=128] [device=cpu] [repeats=5]
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <torch/torch.h>

#include "anodiff/torch/hessian_operator.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/torch/scripted_model.hpp"
#include "common.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

int main(int argc, char** argv) {
  const std::string name = argc > 1 ? argv[1] : "resnet14";
  const std::int64_t batch = argc > 2 ? std::stoll(argv[2]) : 128;
  const torch::Device device(argc > 3 ? argv[3] : "cpu");
  const int repeats = argc > 4 ? std::stoi(argv[4]) : 5;
  if (name != "resnet14") {
    std::fprintf(stderr, "only resnet14 has a Python twin in tests/own_models.py\n");
    return 2;
  }
  use_all_cores();
  keep_freed_memory();
  const fs::path dir = fs::temp_directory_path() / "anodiff_bench_scripted_hessian";
  fs::create_directories(dir);
  auto builtin = make_model(name);
  save_state_dict(*builtin, (dir / "weights.pt").string());
  const std::string script = bench::run_command(
      fmt::format("/usr/bin/python3 {}/../../tests/own_models.py script-resnet14 {} {} 2>&1", ANODIFF_REFERENCE_DIR,
                  (dir / "weights.pt").string(), (dir / "scripted.pt").string()));
  if (!fs::exists(dir / "scripted.pt")) {
    std::fprintf(stderr, "could not script the model (python3-torch?): %s\n", script.c_str());
    return 1;
  }
  auto scripted = load_scripted_model(dir / "scripted.pt");
  torch::manual_seed(1);
  auto x = torch::randn({batch, 3, 32, 32}).to(device);
  auto y = torch::randint(0, 10, {batch}).to(device);
  std::vector<double> v;
  struct Timing {
    double product = 0, gradient = 0;
    std::vector<double> hv;
  };
  auto time = [&](Network& model) {
    model.eval();
    model.to(device);
    HessianOperator op(model, {{[&model, x, y] { return torch::nn::functional::cross_entropy(model.forward(x), y); }, 1.0}});
    if (v.empty()) {
      v.resize(op.dimension());
      for (std::size_t k = 0; k < v.size(); ++k) v[k] = std::sin(0.37 * double(k));
    }
    Timing t;
    t.hv.resize(op.dimension());
    op.gradient();
    double t0 = bench::now();
    for (int i = 0; i < repeats; ++i) op.gradient();
    t.gradient = (bench::now() - t0) / repeats;
    op.apply(v.data(), t.hv.data());  // builds and keeps the gradient's graph
    t0 = bench::now();
    for (int i = 0; i < repeats; ++i) op.apply(v.data(), t.hv.data());
    t.product = (bench::now() - t0) / repeats;
    return t;
  };
  const Timing b = time(*builtin);
  const Timing s = time(*scripted);
  double diff = 0, norm = 0;
  for (std::size_t k = 0; k < b.hv.size(); ++k) diff += (b.hv[k] - s.hv[k]) * (b.hv[k] - s.hv[k]), norm += b.hv[k] * b.hv[k];
  std::printf("machine: %s", bench::run_command("lscpu | grep 'Model name' | sed 's/  */ /g'").c_str());
  std::printf("%s, batch %lld, D = %zu, %s, %d threads, float32, eval-mode BN\n", name.c_str(), (long long)batch,
              b.hv.size(), device.str().c_str(), torch::get_num_threads());
  std::printf("built-in:    gradient %.4f s, Hessian-vector product %.4f s\n", b.gradient, b.product);
  std::printf("TorchScript: gradient %.4f s, Hessian-vector product %.4f s\n", s.gradient, s.product);
  std::printf("product TorchScript / built-in = %.2f; |Hv_script - Hv_builtin| / |Hv_builtin| = %.2e\n",
              s.product / b.product, std::sqrt(diff / norm));
  fs::remove_all(dir);
  return 0;
}
