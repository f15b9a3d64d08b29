// anodiff-hessian: the top Hessian eigenvalues along a training run (paper section 4).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/csv.hpp"
#include "anodiff/hessian_eigen.hpp"
#include "anodiff/plot.hpp"
#include "anodiff/progress.hpp"
#include "anodiff/runtime.hpp"
#include "anodiff/trainer.hpp"
#include "anodiff/weight_trajectory.hpp"
#include "cli.hpp"
#include "run_config.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace anodiff;

int main(int argc, char** argv) {
  return cli::run("anodiff-hessian", [&] {
    std::string run_dir, out, dtype, method, epochs_list, device_name;
    HessianDataOptions data_options;
    HessianEigenOptions eig;
    std::int64_t every = 5;
    std::size_t trace = 0, density = 0, density_steps = 40;
    po::options_description desc(
        "anodiff-hessian: the top Hessian eigenvalues of the checkpoints of a training run, by Hessian-vector\n"
        "products (double backward) and Lanczos (Spectra). Usage:\n"
        "  anodiff-hessian --run DIR --batch_size 128 --num_eigenthings 20 [--every 5] [--batches 1]\n"
        "                  [--dtype float64]\nOptions");
    desc.add_options()("help,h", "show this help")
        ("run", po::value(&run_dir), "run directory written by anodiff-train")
        ("batch_size", po::value(&data_options.batch_size)->default_value(128), "batch size of the fixed data")
        ("batches", po::value(&data_options.batches)->default_value(1), "fixed batches averaged (0 = all the data)")
        ("num_eigenthings", po::value(&eig.k)->default_value(20), "number of eigenvalues")
        ("every", po::value(&every)->default_value(5), "every K-th epoch's checkpoint (0, K, 2K, ...)")
        ("epochs", po::value(&epochs_list), "explicit epochs, comma-separated (instead of --every)")
        ("dtype", po::value(&dtype)->default_value("float32"), "float32 or float64")
        ("method", po::value(&method)->default_value("lanczos"), "lanczos, or power (the study's deflated power iteration)")
        ("tol", po::value(&eig.tolerance)->default_value(1e-4, "1e-4"), "relative tolerance")
        ("power-iterations", po::value<std::size_t>()->default_value(20), "products per eigenvalue for --method power")
        ("power-stop", po::value<std::string>()->default_value("change"),
         "power iteration stops when the eigenvalue changes by < tol (change, the study's rule) or when its residual "
         "is < tol |lambda| (residual, Lanczos's rule)")
        ("smallest", "the smallest eigenvalues instead of the largest")
        ("eigenvectors", "write the eigenvectors (.npy, k x D)")
        ("no-warm-start", "start every checkpoint from a random vector")
        ("train-mode", "BN in train mode (batch statistics) instead of eval mode")
        ("trace", po::value(&trace)->default_value(0), "also a Hutch++ trace with N products (multiple of 3)")
        ("density", po::value(&density)->default_value(0), "also an SLQ spectral density with N probes")
        ("density-steps", po::value(&density_steps)->default_value(40), "Lanczos steps per SLQ probe")
        ("seed", po::value(&eig.seed)->default_value(0), "seed of the fixed batches and the start vector")
        ("device", po::value(&device_name)->default_value("auto"), "cpu, cuda or auto")
        ("out", po::value(&out), "output directory (default: RUN/hessian)")("no-plots", "CSVs only");
    po::variables_map vm;
    if (!anodiff::cli::parse(argc, argv, desc, vm)) return 0;
    if (run_dir.empty()) throw po::error("--run DIR is required");
    if (every < 1) throw po::error("--every must be at least 1");
    if (dtype != "float32" && dtype != "float64") throw po::error(fmt::format("--dtype must be float32 or float64, got '{}'", dtype));
    if (method != "lanczos" && method != "power") throw po::error(fmt::format("--method must be lanczos or power, got '{}'", method));
    data_options.float64 = dtype == "float64";
    data_options.train_mode = vm.count("train-mode") > 0;
    data_options.seed = eig.seed;
    eig.method = method == "power" ? EigenMethod::power : EigenMethod::lanczos;
    if (eig.method == EigenMethod::power) eig.max_iterations = vm["power-iterations"].as<std::size_t>();
    const auto power_stop = vm["power-stop"].as<std::string>();
    if (power_stop != "change" && power_stop != "residual")
      throw po::error(fmt::format("--power-stop must be change or residual, got '{}'", power_stop));
    eig.power_stop = power_stop == "residual" ? PowerStop::residual : PowerStop::relative_change;
    eig.end = vm.count("smallest") ? SpectrumEnd::smallest : SpectrumEnd::largest;
    const fs::path run(run_dir);
    const fs::path dir = out.empty() ? run / "hessian" : fs::path(out);
    use_all_cores();
    const torch::Device device = anodiff::choose_device(device_name);
    const Dataset data = cli::run_training_data(run);
    std::vector<std::int64_t> epochs;
    if (!epochs_list.empty()) {
      std::stringstream ss(epochs_list);
      std::string item;
      while (std::getline(ss, item, ',')) epochs.push_back(std::stoll(item));
      for (auto e : epochs) {
        if (!fs::exists(checkpoint_path(run, e))) {
          throw InputError(fmt::format("{}: no such checkpoint (--epochs asks for epoch {})",
                                       checkpoint_path(run, e).string(), e));
        }
      }
    } else {
      for (std::int64_t e = 0; fs::exists(checkpoint_path(run, e)); e += every) epochs.push_back(e);
      if (epochs.empty()) {
        throw InputError(fmt::format("{}: no such checkpoint: expected the checkpoints of a run made by anodiff-train",
                                     checkpoint_path(run, 0).string()));
      }
    }
    fs::create_directories(dir);
    CsvWriter csv(dir / "eigenvalues.csv",
                  "epoch,rank,eigenvalue,residual,relative_residual,converged,products,verification_products,seconds,"
                  "warm_start");
    std::unique_ptr<CsvWriter> trace_csv;
    if (trace) trace_csv = std::make_unique<CsvWriter>(dir / "trace.csv", "epoch,trace,products");
    std::vector<double> start;
    Progress progress("hessian (checkpoints)", epochs.size(), 0.0);
    std::size_t done = 0;
    for (auto e : epochs) {
      auto model = cli::run_model(run, data);
      load_checkpoint(*model, run, e, torch::kCPU);
      auto op = classifier_hessian(*model, data, data_options, device);
      auto o = eig;
      o.eigenvectors = true;
      const bool warm = !vm.count("no-warm-start") && !start.empty();
      if (warm) o.start = start;
      const auto r = hessian_eigen(*op, o);
      for (std::size_t i = 0; i < r.eigenvalues.size(); ++i) {
        csv.row("{},{},{:.10g},{:.6g},{:.6g},{},{},{},{:.3f},{}", e, i + 1, r.eigenvalues[i], r.residuals[i],
                r.relative_residuals[i], r.converged ? 1 : 0, r.products, r.verification_products, r.seconds,
                warm ? 1 : 0);
      }
      // Warm start of the next checkpoint: the sum of this one's eigenvectors.
      start.assign(op->dimension(), 0.0);
      for (const auto& v : r.eigenvectors) {
        for (std::size_t d = 0; d < v.size(); ++d) start[d] += v[d];
      }
      if (vm.count("eigenvectors")) {
        std::vector<double> flat;
        for (const auto& v : r.eigenvectors) flat.insert(flat.end(), v.begin(), v.end());
        write_npy(dir / fmt::format("eigenvectors_epoch_{}.npy", e), flat.data(), {r.eigenvectors.size(), op->dimension()});
      }
      if (trace) trace_csv->row("{},{:.10g},{}", e, hutchpp_trace(*op, trace, eig.seed), trace);
      if (density) {
        const auto d = spectral_density(*op, density, std::min(density_steps, op->dimension()), eig.seed);
        const auto [lo, hi] = std::minmax_element(d.nodes.begin(), d.nodes.end());
        const double pad = 0.05 * (*hi - *lo) + 1e-12;
        std::vector<double> x(400);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = *lo - pad + (*hi - *lo + 2 * pad) * double(i) / 399.0;
        const auto y = d.smoothed(x, (*hi - *lo + 2 * pad) / 100.0);
        {
          CsvWriter dc(dir / fmt::format("density_epoch_{}.csv", e), "eigenvalue,density");
          for (std::size_t i = 0; i < x.size(); ++i) dc.row("{:.8g},{:.8g}", x[i], y[i]);
        }
        if (!vm.count("no-plots")) {
          Plot p{fmt::format("Hessian spectral density (SLQ), epoch {}", e), "eigenvalue", "density", false, true, {}, {}};
          p.series.push_back({dir / fmt::format("density_epoch_{}.csv", e), "1:($2 > 1e-12 ? $2 : 1/0)", "", "lines lw 2"});
          draw(p, dir / fmt::format("density_epoch_{}.png", e));
        }
      }
      progress.update(++done, fmt::format("epoch {}: lambda_max {:.4g}, {} products, {}converged", e,
                                          r.eigenvalues.empty() ? NAN : r.eigenvalues.front(), r.products,
                                          r.converged ? "" : "NOT "));
    }
    progress.finish();
    csv.flush();
    if (!vm.count("no-plots")) {
      Plot p{fmt::format("Top {} Hessian eigenvalues along training", eig.k), "epoch", "eigenvalue", false, false, {},
             "set palette rgb 33,13,10\nset cblabel 'rank'"};
      p.series.push_back({dir / "eigenvalues.csv", "1:3:2", "", "points pt 7 ps 1.2 lc palette"});
      draw(p, dir / "eigenvalues.png");
    }
    std::printf("Hessian eigenvalues of %zu checkpoints in %s\n", epochs.size(), (dir / "eigenvalues.csv").c_str());
    return 0;
  });
}
