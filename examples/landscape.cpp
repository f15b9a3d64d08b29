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
#include "mpi_session.hpp"


namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace anodiff;

int main(int argc, char** argv) {
  // Under mpirun the ranks are the shards of one grid; rank 0 merges and writes the results.
  cli::MpiSession mpi(argc, argv);
  const int rank = mpi.rank(), ranks = mpi.ranks();
  const int code = cli::run("anodiff-landscape", [&] {
    std::string run_dir, out, xs, ys, norm, ignore, shard, device_name;
    std::string model, checkpoint, line_to, data_name, data_dir, inputs, labels, surface, surface_name;
    std::int64_t classes = 0;
    std::int64_t epoch = -1, interpolate = -1, pca_part = -1;
    std::size_t part_length = 1000;
    LandscapeOptions o;
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
        ("inputs", po::value(&inputs), "with --model: inputs (N, C, H, W) float32 .npy, used as they are")
        ("labels", po::value(&labels), "with --inputs: labels (N) int64 .npy")
        ("data-free", "with a TorchScript --model: the module's own loss() method, no data (accuracy: none)")
        ("data", po::value(&data_name), "with --model: the training split of cifar10, mnist, fashion-mnist or gauss")
        ("data-dir", po::value(&data_dir), "the --data set's directory")
        ("classes", po::value(&classes)->default_value(0), "classes of a built-in --model (default: from the data)")
        ("surface", po::value(&surface), "instead of --run: the roughness of a loss-landscape .h5 surface file")
        ("surface-name", po::value(&surface_name)->default_value("train_loss"), "the --surface file's dataset")
        ("epoch", po::value(&epoch), "the checkpoint at the centre")
        ("x", po::value(&xs), "LO:HI:N along direction 1 (default -1:1:51)")
        ("y", po::value(&ys), "LO:HI:N along direction 2 (default -1:1:51; 0:0:1 for a 1-D line)")
        ("norm", po::value(&norm)->default_value("filter"), "filter, layer or none")
        ("ignore", po::value(&ignore)->default_value("biasbn"), "biasbn (zero direction for biases and BN) or none")
        ("pca-part", po::value(&pca_part), "directions: the PCA plane of trajectory part K")
        ("part-length", po::value(&part_length)->default_value(1000), "snapshots per part for --pca-part")
        ("interpolate", po::value(&interpolate), "a 1-D line from --epoch (0) to the checkpoint of epoch E (1)")
        ("samples", po::value(&o.samples)->default_value(0), "a seeded subset of N training samples (0 = all)")
        ("batch_size", po::value(&o.batch_size)->default_value(1000), "evaluation batch size")
        ("seed", po::value(&o.seed)->default_value(0), "seed of the directions and the subset")
        ("shard", po::value(&shard), "I/N: evaluate only the points with index % N == I")
        ("device", po::value(&device_name)->default_value("auto"), "cpu, cuda or auto")
        ("out", po::value(&out), "output directory")("no-plots", "CSV and .npy only");
    po::variables_map vm;
    if (!anodiff::cli::parse(argc, argv, desc, vm)) return 0;
    if (int(!run_dir.empty()) + int(!model.empty()) + int(!surface.empty()) > 1) {
      throw po::error("give one of --run DIR, --model FILE|NAME and --surface FILE.h5");
    }
    if (!model.empty() || !surface.empty()) {
      if (out.empty()) throw po::error("--out DIR is required");
      if (epoch >= 0 || pca_part >= 0 || interpolate >= 0) {
        throw po::error("--epoch, --pca-part and --interpolate go with --run (with --model: --checkpoint, --line-to)");
      }
    }
    if (!surface.empty()) {  // the roughness of an existing loss-landscape surface: no model, no data
      LandscapeResult result;
      result.grid = read_loss_landscape_surface(surface, surface_name);
      result.title = fs::path(surface).filename().string();
      if (result.grid.y.points < 2) throw InputError(fmt::format("{}: a 1-D surface: the roughness needs a 2-D grid", surface));
      const auto roughness = landscape_roughness(result.grid);
      std::printf("%s\n", roughness_line(roughness).c_str());
      write_landscape(result, roughness, out, {vm.count("no-plots") == 0, cli::stderr_log});
      std::printf("roughness of %s in %s\n", surface.c_str(), out.c_str());
      return 0;
    }
    if (model.empty() && (run_dir.empty() || out.empty())) throw po::error("--run DIR and --out DIR are required");
    if (model.empty() && epoch < 0) throw po::error("--epoch E is required");
    const bool data_free = vm.count("data-free") > 0;
    if (!model.empty() && int(!inputs.empty()) + int(!data_name.empty()) + int(data_free) != 1) {
      throw po::error("--model needs its data: --inputs X.npy --labels Y.npy, --data NAME, or --data-free");
    }
    if (data_free && model.empty()) throw po::error("--data-free goes with a TorchScript --model");
    if (data_free) o.own_loss = "loss";
    if (inputs.empty() != labels.empty()) throw po::error("give --inputs and --labels together");
    if (model.empty() && (!checkpoint.empty() || !line_to.empty() || !inputs.empty() || !data_name.empty())) {
      throw po::error("--checkpoint, --line-to, --inputs and --data go with --model");
    }
    if (!line_to.empty() && !ys.empty()) throw po::error("--line-to draws a 1-D line: leave --y out");
    if (norm != "filter" && norm != "layer" && norm != "none") throw po::error(fmt::format("--norm must be filter, layer or none, got '{}'", norm));
    if (ignore != "biasbn" && ignore != "none") throw po::error(fmt::format("--ignore must be biasbn or none, got '{}'", ignore));
    if (!shard.empty() && std::sscanf(shard.c_str(), "%zu/%zu", &o.shard, &o.shards) != 2) {
      throw po::error(fmt::format("--shard expects I/N, got '{}'", shard));
    }
    if (pca_part >= 0 && interpolate >= 0) throw po::error("give at most one of --pca-part and --interpolate");
    if (interpolate >= 0 && !ys.empty()) throw po::error("--interpolate draws a 1-D line: leave --y out");
    RunLandscapeOptions r;
    r.epoch = epoch;
    r.directions = interpolate >= 0 ? LandscapeDirections::line : pca_part >= 0 ? LandscapeDirections::pca
                                                                              : LandscapeDirections::random;
    r.norm = norm == "filter" ? DirectionNorm::filter : norm == "layer" ? DirectionNorm::layer : DirectionNorm::none;
    r.ignore_biasbn = ignore == "biasbn";
    r.pca_part = pca_part;
    r.part_length = part_length;
    r.line_to_epoch = interpolate;
    if (!xs.empty()) r.x = Axis::parse(xs);
    if (!ys.empty()) r.y = Axis::parse(ys);
    o.shards = std::max<std::size_t>(o.shards, 1);
    if (ranks > 1) {
      if (!shard.empty()) throw po::error("--shard cannot be combined with mpirun: the ranks are the shards");
      o.shard = std::size_t(rank);
      o.shards = std::size_t(ranks);
      if (rank != 0) o.log = nullptr;
    }
    r.grid = o;
    r.device = device_name;
    const fs::path run(run_dir), dir(out);
    LandscapeResult result;
    if (!model.empty()) {
      ModelLandscapeOptions m;
      m.norm = r.norm;
      m.ignore_biasbn = r.ignore_biasbn;
      m.x = r.x;
      m.y = r.y;
      m.grid = o;
      m.device = device_name;
      m.validate();
      use_all_cores();
      keep_freed_memory();
      Dataset data = data_free ? Dataset{} : load_model_data(data_name, data_dir, inputs, labels);
      if (classes > 0) data.classes = classes;
      // The centre's weights: the --model file's own, or --checkpoint's (loaded into the --model architecture).
      auto weights = [&](const std::string& file) { return resolve_network(model, file, data); };
      const bool builtin = check_model_argument(model);
      if (data_free && builtin) throw po::error("--data-free needs a TorchScript --model: a built-in one has no loss()");
      if (checkpoint.empty() && builtin) throw po::error("a built-in --model needs --checkpoint FILE (its weights)");
      auto net = weights(checkpoint.empty() ? model : checkpoint);
      if (!data_free) check_classifier(*net, data, checkpoint.empty() ? model : checkpoint);
      std::shared_ptr<Network> end = line_to.empty() ? nullptr : weights(line_to);
      m.title = fs::path(checkpoint.empty() ? model : checkpoint).filename().string();
      result = landscape_of_model(*net, data, m, dir, end.get());
    } else {
      r.validate();
      use_all_cores();
      keep_freed_memory();
      result = landscape_of_run(run, r, dir);
    }
    if (ranks > 1) {
      mpi.barrier();
      if (rank != 0) return 0;
      result.grid = read_landscape(dir, result.grid.x, result.grid.y);
    }
    const auto& g = result.grid;
    const std::size_t total = g.x.points * g.y.points;
    if (!result.complete()) {
      std::printf("shard %zu/%zu done: %zu of %zu points known; run the other shards, then once without --shard to "
                  "merge\n", o.shard, o.shards, g.evaluated(), total);
      return 0;
    }
    std::optional<LandscapeRoughness> roughness;
    if (g.y.points > 1) {
      roughness = landscape_roughness(g);
      std::printf("%s\n", roughness_line(*roughness).c_str());
    }
    write_landscape(result, roughness, dir, {vm.count("no-plots") == 0, cli::stderr_log});
    std::printf("landscape of %zu points in %s (loss at the centre point nearest 0: see grid.csv)\n", total, dir.c_str());
    return 0;
  });
  return mpi.finish(code);
}
