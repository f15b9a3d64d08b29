// Top-k Hessian eigenvalues of a ResNet-20 at initialisation (eval mode, one fixed batch of 128): Lanczos
// (Spectra) against the study's deflated power iteration at the same tolerance, and against scipy's eigsh on the
// same weights and batch (benchmarks/reference/hessian_torch.py); the cost of one product against a gradient.
// Usage: bench_hessian [k=20] [tol=1e-4] [power=study|residual|none] [model=resnet20] [batch=128] [device=cpu]
//                      [power_cap=20] [python=1]
// power=study stops each eigenvalue as the study's script did (relative change of the Rayleigh quotient below tol,
// at most power_cap products); power=residual stops it on Lanczos's rule, |Hv - lambda v| <= tol |lambda|.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <torch/torch.h>

#include "anodiff/torch/hessian_operator.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "common.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

namespace {
void report(const char* name, const EigenResult& r) {
  double worst = 0;
  for (const auto& p : r.eigenpairs) worst = std::max(worst, p.relative_residual.value_or(0.0));
  std::printf("%s: %zu products (+%zu to verify), %.1f s, converged %zu of %zu, max relative residual %.3g, top %.6g, "
              "k-th %.6g\n",
              name, r.products, r.verification_products, r.seconds, r.converged_count, r.eigenpairs.size(), worst,
              r.eigenpairs.front().eigenvalue, r.eigenpairs.back().eigenvalue);
}
}  // namespace

int main(int argc, char** argv) {
  const std::size_t k = argc > 1 ? std::stoul(argv[1]) : 20;
  const double tol = argc > 2 ? std::stod(argv[2]) : 1e-4;
  const std::string power = argc > 3 ? argv[3] : "study";
  const std::string model_name = argc > 4 ? argv[4] : "resnet20";
  const std::int64_t batch = argc > 5 ? std::stoll(argv[5]) : 128;
  const torch::Device device(argc > 6 ? argv[6] : "cpu");
  const std::size_t power_cap = argc > 7 ? std::stoul(argv[7]) : 20;
  const bool python = argc > 8 ? std::stoi(argv[8]) != 0 : true;
  use_all_cores();
  keep_freed_memory();
  const fs::path dir = fs::temp_directory_path() / "anodiff_bench_hessian";
  fs::create_directories(dir);
  auto model = make_model(model_name);
  save_state_dict(*model, (dir / "model.pt").string());
  torch::manual_seed(1);
  auto x = torch::randn({batch, 3, 32, 32});
  auto y = torch::randint(0, 10, {batch});
  {  // the same batch for the Python side
    auto xd = x.to(torch::kFloat64).contiguous();
    auto yd = y.to(torch::kFloat64).contiguous();
    write_npy(dir / "x.npy", xd.data_ptr<double>(), {std::size_t(batch), 3, 32, 32});
    write_npy(dir / "y.npy", yd.data_ptr<double>(), {std::size_t(batch)});
  }
  model->eval();
  model->to(device);
  x = x.to(device);
  y = y.to(device);
  // Contiguous (NCHW) layout: with the models' convolution, the double backward is faster in it than in
  // channels-last on a CPU (0.49 s against 0.54 s a product here), unlike training.
  HessianOperator op(*model, {{[model, x, y] { return torch::nn::functional::cross_entropy(model->forward(x), y); }, 1.0}});
  // One product against one gradient.
  op.gradient();
  double t0 = bench::now();
  for (int i = 0; i < 3; ++i) op.gradient();
  const double grad_s = (bench::now() - t0) / 3;
  std::vector<double> v(op.dimension(), 1e-3), hv(op.dimension());
  op.apply(v.data(), hv.data());  // builds and keeps the gradient's graph
  t0 = bench::now();
  for (int i = 0; i < 3; ++i) op.apply(v.data(), hv.data());
  const double prod_s = (bench::now() - t0) / 3;
  std::printf("machine: %s", bench::run_command("lscpu | grep 'Model name' | sed 's/  */ /g'").c_str());
  std::printf("%s, batch %lld, D = %zu, %s, %d threads: gradient %.4f s, product %.4f s: ratio %.2f (target <= 4; "
              "Python reusing the graph: 3.9)\n",
              model_name.c_str(), (long long)batch, op.dimension(), device.str().c_str(), torch::get_num_threads(),
              grad_s, prod_s, prod_s / grad_s);
  EigenOptions o;
  o.k = k;
  o.tolerance = tol;
  const auto lanczos = extreme_eigenpairs(op, o);
  report("anodiff Lanczos", lanczos);
  if (power != "none") {
    auto p = o;
    p.method = EigenMethod::power;
    p.max_iterations = power_cap;
    p.power_stop = power == "residual" ? PowerStop::residual : PowerStop::relative_change;
    const auto pw = extreme_eigenpairs(op, p);
    report(fmt::format("anodiff deflated power iteration ({}, tol {:g}, at most {} products per eigenvalue)",
                       power == "residual" ? "residual rule" : "the study's rule", tol, power_cap)
               .c_str(),
           pw);
    std::printf("ratio power-iteration products / Lanczos products = %.1f (target >= 5)\n",
                double(pw.products) / double(lanczos.products));
  }
  if (!python) {
    fs::remove_all(dir);
    return 0;
  }
  const std::string out = bench::run_command(fmt::format(
      "/usr/bin/python3 {}/hessian_torch.py {} {} {} {} {} {} {}", ANODIFF_REFERENCE_DIR, (dir / "model.pt").string(),
      (dir / "x.npy").string(), (dir / "y.npy").string(), model_name.substr(6), k, tol, torch::get_num_threads()));
  std::printf("python: %s", out.c_str());
  const auto pos = out.find("eigsh products=");
  if (pos != std::string::npos) {
    const double eigsh_products = std::stod(out.substr(pos + 15));
    std::printf("ratio eigsh products / anodiff Lanczos products = %.2f (target >= 1)\n",
                eigsh_products / double(lanczos.products));
  }
  fs::remove_all(dir);
  return 0;
}
