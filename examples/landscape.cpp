// anodiff-landscape: the loss landscape around a checkpoint (paper section 5), its fractal roughness, and the
// trajectory on the PCA plane.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/landscape_probe.hpp"
#include "anodiff/output.hpp"
#include "anodiff/runtime.hpp"
#include "cli.hpp"

#ifdef ANODIFF_MPI
#include <mpi.h>
#endif

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace anodiff;

int main(int argc, char** argv) {
  int rank = 0, ranks = 1;
#ifdef ANODIFF_MPI
  // Under mpirun the ranks are the shards of one grid; rank 0 merges and writes the results.
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
#endif
  const int code = cli::run("anodiff-landscape", [&] {
    std::string run_dir, out, xs, ys, norm, ignore, shard, device_name;
    std::int64_t epoch = -1, interpolate = -1, pca_part = -1;
    std::size_t part_length = 1000;
    LandscapeOptions o;
    o.log = cli::stderr_log;
    po::options_description desc(
        "anodiff-landscape: loss and accuracy around a checkpoint on a grid of filter-normalised random directions,\n"
        "the PCA plane of a trajectory part, or the line to another checkpoint. Usage:\n"
        "  anodiff-landscape --run DIR --epoch 300 [--x -1:1:51 --y -1:1:51 --norm filter --ignore biasbn |\n"
        "                    --pca-part K | --interpolate E] [--samples N] [--shard i/n] --out DIR\nOptions");
    desc.add_options()("help,h", "show this help")
        ("run", po::value(&run_dir), "run directory written by anodiff-train")
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
    if (run_dir.empty() || out.empty()) throw po::error("--run DIR and --out DIR are required");
    if (epoch < 0) throw po::error("--epoch E is required");
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
    r.validate();
    const fs::path run(run_dir), dir(out);
    use_all_cores();
    keep_freed_memory();
    auto result = landscape_of_run(run, r, dir);
#ifdef ANODIFF_MPI
    if (ranks > 1) {
      MPI_Barrier(MPI_COMM_WORLD);
      if (rank != 0) return 0;
      result.grid = read_landscape(dir, result.grid.x, result.grid.y);
    }
#endif
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
      std::printf("roughness: H = %.3f +- %.3f (structure function, lags 1-%zu px); mean |dL| ~ r^%.3f (study: 1)\n",
                  roughness->hurst.hurst, roughness->hurst.error, roughness->max_lag, roughness->pairs.fit.exponent);
    }
    write_landscape(result, roughness, dir, {vm.count("no-plots") == 0, cli::stderr_log});
    std::printf("landscape of %zu points in %s (loss at the centre point nearest 0: see grid.csv)\n", total, dir.c_str());
    return 0;
  });
#ifdef ANODIFF_MPI
  if (code != 0 && ranks > 1) MPI_Abort(MPI_COMM_WORLD, code);  // the other ranks would wait at the barrier
  MPI_Finalize();
#endif
  return code;
}
