// anodiff-hessian: the top Hessian eigenvalues along a training run (paper section 4).
#include <optional>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/torch/hessian_run.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/torch/scripted_model.hpp"
#include "cli.hpp"
#include "model_data_flags.hpp"
#include "mpi_session.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace anodiff;

int main(int argc, char** argv) {
  // Under mpirun the ranks are data shards: each takes its share of the fixed batches, every product is summed over
  // the ranks (Lanczos runs the same on every rank), rank 0 writes the results.
  cli::MpiSession mpi(argc, argv);
  const int code = cli::run("anodiff-hessian", [&] {
    std::string run_dir, out, dtype, method, epochs_list, power_stop, model;
    std::vector<std::string> checkpoints;
    cli::ModelDataFlags data_flags;
    HessianRunOptions o;
    std::size_t power_iterations = 20;
    po::options_description desc(
        "anodiff-hessian: the top Hessian eigenvalues of the checkpoints of a training run, by Hessian-vector\n"
        "products (double backward) and Lanczos (Spectra). Usage:\n"
        "  anodiff-hessian --run DIR --batch_size 128 --num_eigenthings 20 [--every 5] [--batches 1]\n"
        "                  [--dtype float64]\n"
        "  anodiff-hessian --model MODEL.pt|NAME [--checkpoints FILE...] (--inputs X.npy --labels Y.npy |\n"
        "                  --data cifar10 --data-dir DIR) --out DIR    (a model of one's own: docs/own_models.md)\nOptions");
    desc.add_options()("help,h", "show this help")
        ("run", po::value(&run_dir), "run directory written by anodiff-train")
        ("model", po::value(&model), "instead of --run: a TorchScript file (torch.jit.save; loading it runs its code, as torch.jit.load does: load only files you trust) or a built-in model name")
        ("checkpoints", po::value(&checkpoints)->multitoken(),
         "with --model: TorchScript files or state_dicts / checkpoints (model_E.t7) of that architecture, in "
         "epoch order (default: the --model file itself)")
        ("batch_size", po::value(&o.data.batch_size)->default_value(128), "batch size of the fixed data")
        ("batches", po::value(&o.data.batches)->default_value(1), "fixed batches averaged (0 = all the data)")
        ("num_eigenthings", po::value(&o.eigen.k)->default_value(20), "number of eigenvalues")
        ("every", po::value(&o.every)->default_value(5), "every K-th epoch's checkpoint (0, K, 2K, ...)")
        ("epochs", po::value(&epochs_list), "explicit epochs, comma-separated (instead of --every)")
        ("dtype", po::value(&dtype)->default_value("float32"), "float32 or float64")
        ("method", po::value(&method)->default_value("lanczos"), "lanczos, or power (the study's deflated power iteration)")
        ("tol", po::value(&o.eigen.tolerance)->default_value(1e-4, "1e-4"), "relative tolerance")
        ("power-iterations", po::value(&power_iterations)->default_value(20), "products per eigenvalue for --method power")
        ("power-stop", po::value(&power_stop)->default_value("change"),
         "power iteration stops when the eigenvalue changes by < tol (change, the study's rule) or when its residual "
         "is < tol |lambda| (residual, Lanczos's rule)")
        ("smallest", "the smallest eigenvalues instead of the largest")
        ("eigenvectors", "write the eigenvectors (.npy, k x D)")
        ("no-warm-start", "start every checkpoint from a random vector")
        ("train-mode", "BN in train mode (batch statistics) instead of eval mode")
        ("trace", po::value(&o.trace_products)->default_value(0), "also a Hutch++ trace with N products (multiple of 3)")
        ("density", po::value(&o.density_probes)->default_value(0), "also an SLQ spectral density with N probes")
        ("density-steps", po::value(&o.density_steps)->default_value(40), "Lanczos steps per SLQ probe")
        ("seed", po::value(&o.eigen.seed)->default_value(0), "seed of the fixed batches and the start vector")
        ("device", po::value(&o.device)->default_value("auto"), "cpu, cuda or auto")
        ("out", po::value(&out), "output directory (default: RUN/hessian)")("no-plots", "CSVs only");
    data_flags.add_to(desc, "with --model: the Hessian of the TorchScript module's own loss() method, no data");
    po::variables_map vm;
    if (!anodiff::cli::parse(argc, argv, desc, vm)) return 0;
    if (run_dir.empty() == model.empty()) throw po::error("give exactly one of --run DIR and --model FILE|NAME");
    if (!model.empty() && out.empty()) throw po::error("--model needs --out DIR");
    data_flags.check(!model.empty(), "--run");
    if (run_dir.empty() && (vm.count("epochs") || !vm["every"].defaulted())) {
      throw po::error("--epochs and --every pick checkpoints of a --run; with --model list them in --checkpoints");
    }
    if (!run_dir.empty() && !checkpoints.empty()) throw po::error("--checkpoints go with --model, not --run");
    if (o.every < 1) throw po::error("--every must be at least 1");
    if (dtype != "float32" && dtype != "float64") throw po::error(fmt::format("--dtype must be float32 or float64, got '{}'", dtype));
    if (method != "lanczos" && method != "power") throw po::error(fmt::format("--method must be lanczos or power, got '{}'", method));
    if (power_stop != "change" && power_stop != "residual")
      throw po::error(fmt::format("--power-stop must be change or residual, got '{}'", power_stop));
    if (!epochs_list.empty()) o.epochs = parse_epoch_list(epochs_list);
    o.data.float64 = dtype == "float64";
    o.data.train_mode = vm.count("train-mode") > 0;
    o.data.seed = o.eigen.seed;
    o.eigen.method = method == "power" ? EigenMethod::power : EigenMethod::lanczos;
    if (o.eigen.method == EigenMethod::power) o.eigen.max_iterations = power_iterations;
    o.eigen.power_stop = power_stop == "residual" ? PowerStop::residual : PowerStop::relative_change;
    o.eigen.end = vm.count("smallest") ? SpectrumEnd::smallest : SpectrumEnd::largest;
    o.eigen.eigenvectors = vm.count("eigenvectors") > 0;
    o.warm_start = vm.count("no-warm-start") == 0;
    o.log = mpi.rank() == 0 ? cli::stderr_log : LogSink{};
#ifdef ANODIFF_MPI
    std::optional<cli::MpiReduction> reduction;
    if (mpi.ranks() > 1) {
      reduction.emplace(mpi);
      o.data.shards = &*reduction;
      if (mpi.rank() == 0) {
        std::fprintf(stderr, "anodiff-hessian: %d ranks, each the products of every %d-th batch of %lld\n", mpi.ranks(),
                     mpi.ranks(), static_cast<long long>(o.data.batch_size));
      }
    }
#endif
    const fs::path run(run_dir);
    const fs::path dir = out.empty() ? run / "hessian" : fs::path(out);
    use_all_cores();
    HessianRun result;
    if (!model.empty()) {
      const auto data = data_flags.load();
      const auto files = hessian_checkpoint_files(model, {checkpoints.begin(), checkpoints.end()});
      result = hessian_of_checkpoints(model, files, data, o);
    } else {
      result = hessian_along_run(run, o);
    }
    if (mpi.rank() != 0) return 0;
    write_hessian_run(result, dir, cli::output_options(vm));
    std::printf("Hessian eigenvalues of %zu checkpoints in %s\n", result.checkpoints.size(),
                (dir / "eigenvalues.csv").c_str());
    return 0;
  });
  return mpi.finish(code);
}
