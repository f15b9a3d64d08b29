// anodiff-post-analysis: the study's MSD post-analysis of a recorded weight trajectory (paper section 2-3).
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/analysis/follow.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/analysis/per_layer_msd.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/trajectory/synthetic.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "cli.hpp"
#include "mpi_session.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace anodiff;

int main(int argc, char** argv) {
  cli::MpiSession mpi(argc, argv);
  const int rank = mpi.rank(), ranks = mpi.ranks();
  const int code = cli::run("anodiff-post-analysis", [&] {
    std::string trajectory, loss, out;
    PostAnalysisOptions options;
    FollowOptions fo;
    RunDescription known;  // --model, --batch-size, --lr: what the run's config.txt says otherwise
    std::string short_band = "4:40", long_band, layout, per_layer;
    po::options_description desc(
        "anodiff-post-analysis: MSD, local exponent, two-regime fit, contour length, MSL and displacement\n"
        "statistics of a weight trajectory, per part. Usage:\n"
        "  anodiff-post-analysis --trajectory PATH [--loss PATH] [--part-length N] [--window 20] --out DIR\n"
        "  anodiff-post-analysis --demo --out DIR     (a built-in synthetic trajectory)\n"
        "  anodiff-post-analysis --trajectory DIR --part-length N --follow [--until-epoch E] --out DIR\n"
        "                                             (a run still recording: each part as soon as it is complete)\n"
        "Options");
    desc.add_options()
        ("help,h", "show this help")
        ("trajectory", po::value(&trajectory), "a .npy of shape (T, D) or a trajectory directory")
        ("loss", po::value(&loss), "a 1-D .npy of per-step losses (default: the directory's steps.csv)")
        ("part-length", po::value(&options.part_length), "snapshots per part (default: the whole trajectory)")
        ("window", po::value(&options.window)->default_value(20), "lag window of the local exponent")
        ("min-lag", po::value(&options.fit.min_lag)->default_value(4, "4"), "smallest lag of the two-regime fit")
        ("max-lag", po::value(&options.fit.max_lag)->default_value(0, "0"), "largest lag of the fit (0: 0.9 x the part)")
        ("no-noise-floor", "fit two power laws without the additive noise floor")
        ("short-band", po::value(&short_band)->default_value("4:40"), "MSD lags LO:HI of the short-band exponent")
        ("long-band", po::value(&long_band), "MSD lags LO:HI of the long-band exponent (default 0.3T:0.9T)")
        ("layout", po::value(&layout), "the parameter layout (default: the trajectory directory's layout.csv)")
        ("per-layer", po::value(&per_layer)->implicit_value("layer"),
         "also the MSD of each tensor, layer (default) or scale-invariant group (needs the layout): per_layer_msd.csv")
        ("model", po::value(&known.model), "the run's network, for the study's values in claims.md (default: config.txt)")
        ("batch-size", po::value(&known.batch_size), "the run's batch size (default: the run's config.txt)")
        ("lr", po::value(&known.lr), "the run's learning rate (default: the run's config.txt)")
        ("out", po::value(&out), "output directory")
        ("no-plots", "write CSVs only")
        ("demo", "analyse the built-in synthetic trajectory (3000 snapshots, D = 2000; parts of 1000)")
        ("follow", "follow a trajectory directory while it is recorded: analyse each part once its snapshots are in complete "
         "chunks, append to the CSVs, redraw, wait for more; ends at --until-snapshots, --until-epoch or --idle-seconds, "
         "or on SIGINT/SIGTERM with every finished part written (needs --part-length)")
        ("poll-seconds", po::value(&fo.poll_seconds)->default_value(2, "2"),
         "with --follow: longest wait between two looks (inotify wakes it sooner when a chunk is renamed in)")
        ("until-snapshots", po::value(&fo.until_snapshots), "with --follow: end once this many snapshots are recorded")
        ("until-epoch", po::value(&fo.until_epoch), "with --follow: end once epoch E is recorded whole (anodiff-train's "
         "--epochs, the Recorder loop's last epoch)")
        ("idle-seconds", po::value(&fo.idle_seconds), "with --follow: end after this long without a new chunk")
        ("shards", po::value(&fo.shards), "with --follow: a sharded writer's number of shards, waited for "
         "(anodiff.Recorder(shard=(k, N)); anodiff-train's is read from its config.txt)");
    po::variables_map vm;
    if (!cli::parse(argc, argv, desc, vm)) return 0;
    if (out.empty()) throw po::error("--out DIR is required");
    if (trajectory.empty() == (vm.count("demo") == 0)) throw po::error("give exactly one of --trajectory PATH and --demo");
    if (options.window == 0) throw po::error("--window must be at least 1");
    if (vm.count("part-length") && options.part_length < 2) throw po::error(fmt::format("--part-length must be at least 2, got {}", options.part_length));
    const bool follow = vm.count("follow") > 0;
    for (const char* flag : {"until-snapshots", "until-epoch", "idle-seconds", "shards"}) {
      if (vm.count(flag) && !follow) throw po::error(fmt::format("--{} needs --follow", flag));
    }
    if (follow) {
      if (vm.count("demo")) throw po::error("--follow follows a --trajectory DIR being recorded, not the --demo");
      if (!vm.count("part-length")) throw po::error("--follow needs --part-length N (a part must end before the run)");
      if (!loss.empty()) throw po::error("--follow takes the loss from the directory's steps.csv, not --loss");
      if (!per_layer.empty()) throw po::error("--follow does not compute --per-layer; run it on the finished run");
      if (ranks > 1) throw po::error("--follow runs as one process, not under mpirun");
      if (!(fo.poll_seconds > 0)) throw po::error("--poll-seconds must be positive");
    }
    fs::create_directories(out);
    if (vm.count("demo")) {  // written to disk and read back, so that the demo takes the path of a recorded run
      trajectory = (fs::path(out) / "demo_trajectory").string();
      if (!vm.count("part-length")) options.part_length = 1000;
      if (rank == 0) synthetic::write_trajectory(synthetic::demo(), trajectory);  // a chunk per 100
    }
    mpi.barrier();  // the demo trajectory is on disk
    if (!layout.empty()) options.layout = ParameterLayout::read_csv(layout);  // else layout.csv, found below
    options.fit.noise_floor = vm.count("no-noise-floor") == 0;
    std::tie(options.short_band_lo, options.short_band_hi) = cli::parse_band("short-band", short_band);
    if (!long_band.empty()) std::tie(options.long_band_lo, options.long_band_hi) = cli::parse_band("long-band", long_band);
    if (follow) {
      options.log = cli::stderr_log;
      fo.stop = &cli::stop_on_signals();
      TrajectoryFollower follower(trajectory, options, fo);
      std::fprintf(stderr, "anodiff-post-analysis: following %s in parts of %zu snapshots\n", trajectory.c_str(), options.part_length);
      const auto end = follower.run([&](const std::vector<PartResult>& parts, std::size_t first_new, const WeightTrajectory& traj) {
        write_trajectory_analysis(trajectory, traj, parts, out, cli::output_options(vm), first_new, known);
      });
      std::fprintf(stderr, "anodiff-post-analysis: follow ended (%s): %zu parts of %zu snapshots recorded\n",
                   follow_end_name(end), follower.parts().size(), follower.snapshots());
      if (!follower.parts().empty()) std::cout << summary_table(follower.parts());
      std::fprintf(stderr, "anodiff-post-analysis: results in %s\n", out.c_str());
      return 0;
    }
    // Under mpirun rank r analyses its shard (a sharded directory with a shard per rank) or a column range of the
    // whole; every rank gets the merged results, rank 0 writes.
    const auto rank_log = [&](const std::string& line) { if (rank == 0) cli::stderr_log("anodiff-post-analysis: " + line); };
    auto traj = ranks > 1 ? load_shard_columns(trajectory, {std::size_t(rank), std::size_t(ranks)}, rank_log) : WeightTrajectory::load(trajectory);
    if (!loss.empty()) traj.set_loss(load_series(loss), loss);
    if (!options.layout) options.layout = ParameterLayout::find(trajectory);  // or the shards' joined
    std::optional<LayerGrouping> grouping;  // --per-layer: parse_layer_grouping names a bad value
    if (!per_layer.empty()) grouping = parse_layer_grouping(per_layer);
    if (grouping && !options.layout) {
      throw po::error("--per-layer needs the parameter layout: --layout FILE, or a trajectory directory with layout.csv");
    }
    if (rank == 0) options.log = cli::stderr_log;
    options.validate(traj.size());  // before any work
    if (ranks == 1) rank_log(fmt::format("{}: {} snapshots of {} parameters", trajectory, traj.size(), traj.dimension()));
    std::vector<PartResult> parts;
    std::vector<LayerMsd> layers;  // --per-layer
    MsdOptions layer_options;
    layer_options.part_length = options.part_length;
#ifdef ANODIFF_MPI
    if (ranks > 1) {  // each rank its columns, the sums joined: no rank reads the whole trajectory
      cli::MpiReduction reduction(mpi);
      parts = post_analysis(traj, options, reduction);
      if (grouping) layers = per_layer_msd(traj, *options.layout, *grouping, layer_options, reduction);
      if (rank != 0) return 0;
    }
#endif
    if (parts.empty()) parts = post_analysis(traj, options);
    if (grouping && layers.empty()) layers = per_layer_msd(traj, *options.layout, *grouping, layer_options);
    write_trajectory_analysis(trajectory, traj, parts, out, cli::output_options(vm), 0, known);
    if (grouping) write_per_layer(layers, out, cli::output_options(vm));
    std::cout << summary_table(parts);
    std::fprintf(stderr, "anodiff-post-analysis: results in %s\n", out.c_str());
    return 0;
  });
  return mpi.finish(code);
}
