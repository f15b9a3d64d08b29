// anodiff-landscape: the loss landscape around a checkpoint (paper section 5), its fractal roughness, and the
// trajectory on the PCA plane.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/torch/landscape_probe.hpp"
#include "anodiff/io/loss_landscape_h5.hpp"
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
  // Under mpirun the ranks are the shards of one grid; rank 0 merges and writes the results.
  cli::MpiSession mpi(argc, argv);
  const int rank = mpi.rank(), ranks = mpi.ranks();
  const int code = cli::run("anodiff-landscape", [&] {
    std::string run_dir, out, xs, ys, norm, ignore, shard, model, checkpoint, line_to, surface, surface_name;
    cli::ModelDataFlags data_flags;
    RunLandscapeOptions r;  // with --model only its LandscapeAroundOptions part
    LandscapeOptions& o = r.grid;
    o.log = cli::stderr_log;
    po::options_description desc(
        "anodiff-landscape: loss and accuracy around a checkpoint on a grid of filter-normalised random directions,\n"
        "the PCA plane of a trajectory part, or the line to another checkpoint. Usage:\n"
        "  anodiff-landscape --run DIR --epoch 300 [--x -1:1:51 --y -1:1:51 --norm filter --ignore biasbn |\n"
        "                    --pca-part K | --interpolate E] [--samples N] [--shard i/n] --out DIR\n"
        "  anodiff-landscape --model MODEL.pt|NAME [--checkpoint FILE] [--line-to FILE] (--inputs X.npy --labels Y.npy\n"
        "                    | --data cifar10 --data-dir DIR | --data-free) [--x ... --y ...] --out DIR   (docs/own_models.md)\n"
        "  anodiff-landscape --surface FILE.h5 --out DIR   (roughness of a loss-landscape surface file)\nOptions");
    desc.add_options()("help,h", "show this help")
        ("run", po::value(&run_dir), "run directory written by anodiff-train")
        ("model", po::value(&model), "instead of --run: a TorchScript file (torch.jit.save; loading it runs its code, as torch.jit.load does: load only files you trust) or a built-in model name")
        ("checkpoint", po::value(&checkpoint), "with --model: the weights at the centre (state_dict, checkpoint or "
         "TorchScript file; default: the --model file's own)")
        ("line-to", po::value(&line_to), "with --model: a 1-D line from the centre (0) to these weights (1)")
        ("surface", po::value(&surface), "instead of --run: the roughness of a loss-landscape .h5 surface file")
        ("surface-name", po::value(&surface_name)->default_value("train_loss"), "the --surface file's dataset")
        ("epoch", po::value(&r.epoch), "the checkpoint at the centre")
        ("x", po::value(&xs), "LO:HI:N along direction 1 (default -1:1:51)")
        ("y", po::value(&ys), "LO:HI:N along direction 2 (default -1:1:51; 0:0:1 for a 1-D line)")
        ("norm", po::value(&norm)->default_value("filter"), "filter, layer or none")
        ("ignore", po::value(&ignore)->default_value("biasbn"), "biasbn (zero direction for biases and BN) or none")
        ("pca-part", po::value(&r.pca_part), "directions: the PCA plane of trajectory part K")
        ("part-length", po::value(&r.part_length)->default_value(1000), "snapshots per part for --pca-part")
        ("interpolate", po::value(&r.line_to_epoch), "a 1-D line from --epoch (0) to the checkpoint of epoch E (1)")
        ("samples", po::value(&o.samples)->default_value(0), "a seeded subset of N training samples (0 = all)")
        ("batch_size", po::value(&o.batch_size)->default_value(1000), "evaluation batch size")
        ("seed", po::value(&o.seed)->default_value(0), "seed of the directions and the subset")
        ("shard", po::value(&shard), "I/N: evaluate only the points with index % N == I")
        ("device", po::value(&r.device)->default_value("auto"), "cpu, cuda or auto")
        ("out", po::value(&out), "output directory")("no-plots", "CSV and .npy only");
    data_flags.add_to(desc, "with a TorchScript --model: the module's own loss() method, no data (accuracy: none)");
    po::variables_map vm;
    if (!anodiff::cli::parse(argc, argv, desc, vm)) return 0;
    if (int(!run_dir.empty()) + int(!model.empty()) + int(!surface.empty()) > 1) {
      throw po::error("give one of --run DIR, --model FILE|NAME and --surface FILE.h5");
    }
    if (!model.empty() || !surface.empty()) {
      if (out.empty()) throw po::error("--out DIR is required");
      if (vm.count("epoch") || vm.count("pca-part") || vm.count("interpolate")) {
        throw po::error("--epoch, --pca-part and --interpolate go with --run (with --model: --checkpoint, --line-to)");
      }
    }
    // The roughness of a complete 2-D grid (none for a 1-D line), printed and written with the grid.
    auto finish = [&](const LandscapeResult& result, const fs::path& dir) {
      std::optional<LandscapeRoughness> roughness;
      if (result.grid.y.points > 1) roughness = landscape_roughness(result.grid);
      if (roughness) std::printf("%s\n", roughness_line(*roughness).c_str());
      write_landscape(result, roughness, dir, cli::output_options(vm));
    };
    if (!surface.empty()) {  // the roughness of an existing loss-landscape surface: no model, no data
      LandscapeResult result;
      result.grid = read_loss_landscape_surface(surface, surface_name);
      result.title = fs::path(surface).filename().string();
      if (result.grid.y.points < 2) throw InputError(fmt::format("{}: a 1-D surface: the roughness needs a 2-D grid", surface));
      finish(result, out);
      std::printf("roughness of %s in %s\n", surface.c_str(), out.c_str());
      return 0;
    }
    if (model.empty() && (run_dir.empty() || out.empty())) throw po::error("--run DIR and --out DIR are required");
    if (model.empty() && !vm.count("epoch")) throw po::error("--epoch E is required");
    data_flags.check(!model.empty(), "--run");
    if (model.empty() && (!checkpoint.empty() || !line_to.empty())) throw po::error("--checkpoint and --line-to go with --model");
    if (!line_to.empty() && !ys.empty()) throw po::error("--line-to draws a 1-D line: leave --y out");
    if (ignore != "biasbn" && ignore != "none") throw po::error(fmt::format("--ignore must be biasbn or none, got '{}'", ignore));
    if (!shard.empty() && std::sscanf(shard.c_str(), "%zu/%zu", &o.shard.index, &o.shard.count) != 2) {
      throw po::error(fmt::format("--shard expects I/N, got '{}'", shard));
    }
    const bool line = vm.count("interpolate") > 0, pca = vm.count("pca-part") > 0;
    if (pca && line) throw po::error("give at most one of --pca-part and --interpolate");
    if (line && !ys.empty()) throw po::error("--interpolate draws a 1-D line: leave --y out");
    r.directions = line ? LandscapeDirections::line : pca ? LandscapeDirections::pca : LandscapeDirections::random;
    try {
      r.norm = parse_direction_norm(norm);
    } catch (const std::invalid_argument& e) {
      throw po::error(fmt::format("--norm: {}", e.what()));
    }
    r.ignore_biasbn = ignore == "biasbn";
    if (!xs.empty()) r.x = Axis::parse(xs);
    if (!ys.empty()) r.y = Axis::parse(ys);
    o.shard.count = std::max<std::size_t>(o.shard.count, 1);
    if (ranks > 1) {
      if (!shard.empty()) throw po::error("--shard cannot be combined with mpirun: the ranks are the shards");
      o.shard = {std::size_t(rank), std::size_t(ranks)};
      if (rank != 0) o.log = nullptr;
    }
    const fs::path dir(out);
    ModelLandscapeOptions m;
    static_cast<LandscapeAroundOptions&>(m) = r;
    if (model.empty()) r.validate(); else m.validate();  // before any work
    use_all_cores();
    keep_freed_memory();
    LandscapeResult result = model.empty() ? landscape_of_run(run_dir, r, dir)
                                           : landscape_of_model_files(model, checkpoint, line_to, data_flags.load(), m, dir);
    if (ranks > 1) {
      mpi.barrier();
      if (rank != 0) return 0;
      result.grid = read_landscape(dir, result.grid.x, result.grid.y);
    }
    const auto& g = result.grid;
    const std::size_t total = g.x.points * g.y.points;
    if (!result.complete()) {
      std::printf("shard %zu/%zu done: %zu of %zu points known; run the other shards, then once without --shard to "
                  "merge\n", o.shard.index, o.shard.count, g.evaluated(), total);
      return 0;
    }
    finish(result, dir);
    std::printf("landscape of %zu points in %s (loss at the centre point nearest 0: see grid.csv)\n", total, dir.c_str());
    return 0;
  });
  return mpi.finish(code);
}
