// anodiff-landscape: the loss landscape around a checkpoint (paper section 5), its fractal roughness, and the
// trajectory on the PCA plane.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/csv.hpp"
#include "anodiff/landscape_probe.hpp"
#include "anodiff/parameters.hpp"
#include "anodiff/plot.hpp"
#include "anodiff/roughness.hpp"
#include "anodiff/runtime.hpp"
#include "anodiff/trainer.hpp"
#include "anodiff/trajectory_pca.hpp"
#include "anodiff/weight_trajectory.hpp"
#include "cli.hpp"
#include "run_config.hpp"

#ifdef ANODIFF_MPI
#include <mpi.h>
#endif

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace anodiff;

namespace {

void write_outputs(const LandscapeGrid& g, const fs::path& dir, bool plots, const std::string& title,
                   const std::vector<std::vector<double>>& path) {
  const bool two_d = g.y.points > 1;
  {
    CsvWriter grid(dir / "grid.csv", "x,y,loss,accuracy");
    for (std::size_t j = 0; j < g.y.points; ++j) {
      for (std::size_t i = 0; i < g.x.points; ++i) {
        const std::size_t p = j * g.x.points + i;
        grid.row("{:.8g},{:.8g},{:.10g},{:.10g}", g.x.at(i), g.y.at(j), g.loss[p], g.accuracy[p]);
      }
      if (two_d) grid.raw("");
    }
  }
  write_npy(dir / "surface_loss.npy", g.loss.data(), {g.y.points, g.x.points});
  write_npy(dir / "surface_accuracy.npy", g.accuracy.data(), {g.y.points, g.x.points});
  if (!path.empty()) {
    CsvWriter p(dir / "trajectory_projection.csv", "snapshot,x,y");
    for (std::size_t t = 0; t < path.size(); ++t) p.row("{},{:.8g},{:.8g}", t, path[t][0], path[t][1]);
  }
  if (two_d) {
    Surface s;
    s.rows = g.y.points;
    s.cols = g.x.points;
    s.x_min = g.x.lo, s.x_max = g.x.hi, s.y_min = g.y.lo, s.y_max = g.y.hi;
    s.z = g.loss;
    const std::size_t max_lag = std::max<std::size_t>(2, std::min(s.rows, s.cols) / 4);
    const auto sf = structure_function(s, 2, max_lag);
    const auto h = hurst_exponent(sf, 1, double(max_lag));
    const auto pairs = mean_abs_difference(s, 200000, 20, 0);
    CsvWriter r(dir / "roughness.csv", "estimator,value,error,fit_range,reference");
    r.row("hurst_structure_function,{:.4f},{:.4f},lags {:g}-{:g} px,", h.hurst, h.error, h.lag_min, h.lag_max);
    r.row("mean_abs_dloss_slope,{:.4f},{:.4f},distances {:.3g}-{:.3g},1 (the study)", pairs.fit.exponent,
          pairs.fit.exponent_error, pairs.fit.x_min, pairs.fit.x_max);
    if (std::min(s.rows, s.cols) >= 8) {
      const auto b = box_counting(s);
      r.row("box_counting_slope,{:.4f},{:.4f},boxes {:g}-{:g} px,-1.7 (the study; ResNet-56)", b.fit.exponent,
            b.fit.exponent_error, b.fit.x_min, b.fit.x_max);
      r.row("box_counting_dimension,{:.4f},{:.4f},boxes {:g}-{:g} px,", b.dimension, b.fit.exponent_error,
            b.fit.x_min, b.fit.x_max);
    }
    {
      CsvWriter sfc(dir / "structure_function.csv", "lag_px,s2");
      for (std::size_t k = 0; k < sf.lag.size(); ++k) sfc.row("{},{:.10g}", sf.lag[k], sf.value[k]);
    }
    std::printf("roughness: H = %.3f +- %.3f (structure function, lags 1-%zu px); mean |dL| ~ r^%.3f (study: 1)\n",
                h.hurst, h.error, max_lag, pairs.fit.exponent);
  }
  if (!plots) return;
  if (!two_d) {
    Plot p{title, "alpha", "loss", false, false, {}, "set y2label 'accuracy'\nset y2tics\nset ytics nomirror"};
    p.series.push_back({dir / "grid.csv", "1:3", "loss", "linespoints pt 7 ps 0.6 lw 2"});
    p.series.push_back({dir / "grid.csv", "1:4 axes x1y2", "accuracy (right)", "linespoints pt 6 ps 0.6 dt 2"});
    draw(p, dir / "line.png");
    return;
  }
  // Contour map of log10(loss) with the trajectory on it: a script of its own (splot in map view).
  double lowest = std::numeric_limits<double>::infinity();
  for (double v : g.loss) lowest = std::min(lowest, v);
  {
    std::ofstream gp(dir / "contour.gp");
    gp << "set terminal pngcairo size 1000,800 enhanced font 'sans,11'\nset output 'contour.png'\n"
          "set datafile separator ','\nset datafile columnheaders\nset title \"" << title << " (log10 loss)\"\n"
          "set xlabel 'direction 1'\nset ylabel 'direction 2'\nset view map\nset size ratio -1\nset autoscale fix\n"
          "set palette rgb 33,13,10\nset contour base\nset cntrparam levels auto 15\nunset clabel\n"
          "set key outside right top\n"
          "splot 'grid.csv' using 1:2:(log10($3)) with pm3d notitle, \\\n"
          "      'grid.csv' using 1:2:(log10($3)) with lines lc rgb 'black' nosurface notitle";
    if (!path.empty()) {
      gp << ", \\\n      'trajectory_projection.csv' using 2:3:(" << std::log10(lowest)
         << ") with linespoints pt 7 ps 0.4 lc rgb 'white' title 'trajectory'";
    }
    gp << "\n";
  }
  run_gnuplot(dir / "contour.gp");
  Plot heat{title + ": accuracy", "direction 1", "direction 2", false, false, {},
            "set size ratio -1\nset palette rgb 33,13,10"};
  heat.series.push_back({dir / "grid.csv", "1:2:4", "", "image"});
  draw(heat, dir / "accuracy_heatmap.png");
  // 3-D surface: a script of its own (splot).
  {
    std::ofstream gp(dir / "surface_3d.gp");
    gp << "set terminal pngcairo size 1000,800 enhanced font 'sans,11'\nset output 'surface_3d.png'\n"
          "set datafile separator ','\nset datafile columnheaders\nset title " << '"' << title << " (loss)\"\n"
          "set xlabel 'direction 1'\nset ylabel 'direction 2'\nset zlabel 'loss' rotate\nset pm3d\n"
          "set palette rgb 33,13,10\nset hidden3d\nsplot 'grid.csv' using 1:2:3 with pm3d notitle\n";
  }
  run_gnuplot(dir / "surface_3d.gp");
}

}  // namespace

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
    const bool line = interpolate >= 0;
    o.x = Axis::parse(xs.empty() ? (line ? "-0.5:1.5:41" : "-1:1:51") : xs);
    o.y = Axis::parse(ys.empty() ? (line ? "0:0:1" : "-1:1:51") : ys);
    if (line && o.y.points != 1) throw po::error("--interpolate draws a 1-D line: leave --y out");
    o.shards = std::max<std::size_t>(o.shards, 1);
    if (ranks > 1) {
      if (!shard.empty()) throw po::error("--shard cannot be combined with mpirun: the ranks are the shards");
      o.shard = std::size_t(rank);
      o.shards = std::size_t(ranks);
      o.progress = rank == 0;
    }
    const fs::path run(run_dir), dir(out);
    use_all_cores();
    keep_freed_memory();
    const torch::Device device = anodiff::choose_device(device_name);
    const Dataset data = cli::run_training_data(run);
    auto model = cli::run_model(run, data);
    load_checkpoint(*model, run, epoch, torch::kCPU);
    model->to(device);
    if (device.is_cpu()) use_channels_last(*model);
    std::vector<float> d1, d2;
    std::vector<std::vector<double>> path;
    std::string title = fmt::format("epoch {}", epoch);
    if (line) {
      auto other = cli::run_model(run, data);
      load_checkpoint(*other, run, interpolate, torch::kCPU);
      std::vector<float> a, b;
      flatten_parameters(*model, a);
      flatten_parameters(*other, b);
      d1.resize(a.size());
      for (std::size_t k = 0; k < a.size(); ++k) d1[k] = b[k] - a[k];
      title = fmt::format("from epoch {} (0) to epoch {} (1)", epoch, interpolate);
    } else if (pca_part >= 0) {
      const auto traj = WeightTrajectory::load(run / "trajectory");
      const std::size_t first = std::size_t(pca_part) * part_length;
      if (first + part_length > traj.size()) {
        throw InputError(fmt::format("{}: part {} of {} snapshots needs snapshots up to {}, the trajectory has {}",
                                     (run / "trajectory").string(), pca_part, part_length, first + part_length,
                                     traj.size()));
      }
      const auto pca = trajectory_pca(traj, first, part_length, 2);
      // The centre is the part's last snapshot (BN statistics from the checkpoint of --epoch).
      const auto centre = traj.snapshot(pca.reference);
      assign_parameters(*model, std::vector<float>(centre.begin(), centre.end()));
      d1.assign(pca.directions[0].begin(), pca.directions[0].end());
      d2.assign(pca.directions[1].begin(), pca.directions[1].end());
      for (const auto& c : pca.coordinates) path.push_back(c);
      if (xs.empty() || ys.empty()) {  // cover the projected path with a margin
        double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
        for (const auto& c : path) x0 = std::min(x0, c[0]), x1 = std::max(x1, c[0]), y0 = std::min(y0, c[1]), y1 = std::max(y1, c[1]);
        const double mx = 0.2 * (x1 - x0) + 1e-6, my = 0.2 * (y1 - y0) + 1e-6;
        if (xs.empty()) o.x = Axis{x0 - mx, x1 + mx, 31};
        if (ys.empty()) o.y = Axis{y0 - my, y1 + my, 31};
      }
      title = fmt::format("PCA plane of part {} ({:.1f}% + {:.1f}% of the variance)", pca_part,
                          100 * pca.explained_variance_ratio[0], 100 * pca.explained_variance_ratio[1]);
    } else {
      const auto mode = norm == "filter" ? DirectionNorm::filter : norm == "layer" ? DirectionNorm::layer : DirectionNorm::none;
      d1 = random_direction(*model, o.seed, mode, ignore == "biasbn");
      d2 = random_direction(*model, o.seed + 1, mode, ignore == "biasbn");
      title = fmt::format("epoch {}, {}-normalised random directions", epoch, norm);
    }
    fs::create_directories(dir);
    {
      std::vector<double> both(d1.begin(), d1.end());
      if (!d2.empty()) both.insert(both.end(), d2.begin(), d2.end());
      write_npy(dir / "directions.npy", both.data(), {d2.empty() ? 1u : 2u, d1.size()});
    }
    auto g = evaluate_landscape(*model, d1, d2, data, o, landscape_file(dir, o.shard, o.shards), device);
#ifdef ANODIFF_MPI
    if (ranks > 1) {
      MPI_Barrier(MPI_COMM_WORLD);
      if (rank != 0) return 0;
      g = read_landscape(dir, o.x, o.y);
    }
#endif
    const std::size_t total = o.x.points * o.y.points;
    if (g.evaluated() < total) {
      std::printf("shard %zu/%zu done: %zu of %zu points known; run the other shards, then once without --shard to "
                  "merge\n", o.shard, o.shards, g.evaluated(), total);
      return 0;
    }
    write_outputs(g, dir, vm.count("no-plots") == 0, title, path);
    std::printf("landscape of %zu points in %s (loss at the centre point nearest 0: see grid.csv)\n", total, dir.c_str());
    return 0;
  });
#ifdef ANODIFF_MPI
  if (code != 0 && ranks > 1) MPI_Abort(MPI_COMM_WORLD, code);  // the other ranks would wait at the barrier
  MPI_Finalize();
#endif
  return code;
}
