// anodiff-post-analysis: the study's MSD post-analysis of a recorded weight trajectory (paper section 2-3).
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
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

namespace {
std::atomic<bool> stop_requested{false};
extern "C" void request_stop(int) { stop_requested = true; }
}  // namespace

int main(int argc, char** argv) {
  anodiff::cli::MpiSession mpi(argc, argv);
  const int rank = mpi.rank(), ranks = mpi.ranks();
  const int code = anodiff::cli::run("anodiff-post-analysis", [&] {
    std::string trajectory, loss, out;
    std::size_t part_length = 0, window = 20;
    anodiff::PostAnalysisOptions options;
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
        ("part-length", po::value(&part_length), "snapshots per part (default: the whole trajectory)")
        ("window", po::value(&window)->default_value(20), "lag window of the local exponent")
        ("min-lag", po::value(&options.fit.min_lag)->default_value(4, "4"), "smallest lag of the two-regime fit")
        ("max-lag", po::value(&options.fit.max_lag)->default_value(0, "0"),
         "largest lag of the two-regime fit (default 0: 0.9 x the part length)")
        ("no-noise-floor", "fit two power laws without the additive noise floor")
        ("short-band", po::value(&short_band)->default_value("4:40"), "MSD lags LO:HI of the short-band exponent")
        ("long-band", po::value(&long_band), "MSD lags LO:HI of the long-band exponent (default 0.3T:0.9T)")
        ("layout", po::value(&layout), "the parameter layout (default: the trajectory directory's layout.csv)")
        ("per-layer", po::value(&per_layer)->implicit_value("layer"),
         "also the MSD of each tensor, layer (default) or scale-invariant group (needs the layout): per_layer_msd.csv")
        ("model", po::value<std::string>(), "the run's network, for the study's values in claims.md (default: config.txt)")
        ("batch-size", po::value<std::int64_t>(), "the run's batch size (default: the run's config.txt)")
        ("lr", po::value<double>(), "the run's learning rate (default: the run's config.txt)")
        ("out", po::value(&out), "output directory")
        ("no-plots", "write CSVs only")
        ("demo", "analyse the built-in synthetic trajectory (3000 snapshots, D = 2000; parts of 1000)")
        ("follow", "follow a trajectory directory while it is recorded: analyse each part once its snapshots are in "
                   "complete chunks, rewrite the CSVs and pictures, wait for more; ends at --until-snapshots, "
                   "--until-epoch or --idle-seconds, or on SIGINT/SIGTERM with every finished part written "
                   "(needs --part-length)")
        ("poll-seconds", po::value<double>()->default_value(2, "2"),
         "with --follow: longest wait between two looks (inotify wakes it sooner when a chunk is renamed in)")
        ("until-snapshots", po::value<std::size_t>(), "with --follow: end once this many snapshots are recorded")
        ("until-epoch", po::value<std::int64_t>(),
         "with --follow: end once epoch E is recorded whole (anodiff-train's --epochs, the Recorder loop's last "
         "epoch)")
        ("idle-seconds", po::value<double>(), "with --follow: end after this long without a new chunk")
        ("shards", po::value<std::size_t>(),
         "with --follow: a sharded writer's number of shards, waited for (anodiff.Recorder(shard=(k, N)); "
         "anodiff-train's is read from its config.txt)");
    po::variables_map vm;
    if (!anodiff::cli::parse(argc, argv, desc, vm)) return 0;
    if (out.empty()) throw po::error("--out DIR is required");
    if (trajectory.empty() == (vm.count("demo") == 0)) {
      throw po::error("give exactly one of --trajectory PATH and --demo");
    }
    if (window == 0) throw po::error("--window must be at least 1");
    if (vm.count("part-length") && part_length < 2) {
      throw po::error(fmt::format("--part-length must be at least 2, got {}", part_length));
    }
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
      if (!(vm["poll-seconds"].as<double>() > 0)) throw po::error("--poll-seconds must be positive");
    }
    fs::create_directories(out);
    if (vm.count("demo") && rank == 0) {
      // Written to disk and read back, so that the demo exercises the same path as a recorded run.
      trajectory = (fs::path(out) / "demo_trajectory").string();
      std::fprintf(stderr, "anodiff-post-analysis: writing the built-in demo trajectory to %s\n", trajectory.c_str());
      anodiff::synthetic::write_trajectory(anodiff::synthetic::demo(), trajectory);  // a chunk per "epoch" of 100
    }
    if (vm.count("demo")) {
      trajectory = (fs::path(out) / "demo_trajectory").string();
      if (!vm.count("part-length")) part_length = 1000;
    }
    mpi.barrier();  // the demo trajectory is on disk
    options.part_length = part_length;
    options.fit.noise_floor = vm.count("no-noise-floor") == 0;
    std::tie(options.short_band_lo, options.short_band_hi) = anodiff::cli::parse_band("short-band", short_band);
    if (!long_band.empty()) std::tie(options.long_band_lo, options.long_band_hi) = anodiff::cli::parse_band("long-band", long_band);
    options.window = window;
    // The study's claims per phase (claims.md): the run's model, batch and lr from its config.txt, or the flags.
    auto write_claims = [&](const anodiff::WeightTrajectory& traj, const std::vector<anodiff::PartResult>& parts) {
      auto run = anodiff::describe_run(trajectory, traj.size() - 1);
      if (vm.count("model")) run.model = vm["model"].as<std::string>();
      if (vm.count("batch-size")) run.batch_size = vm["batch-size"].as<std::int64_t>();
      if (vm.count("lr")) run.lr = vm["lr"].as<double>();
      if (vm.count("model") || vm.count("batch-size") || vm.count("lr")) {
        run.label = fmt::format("{}, batch {}, lr {:g}, {} steps", run.model, run.batch_size, run.lr, traj.size() - 1);
      }
      anodiff::write_claims({anodiff::judge_run(run, parts, anodiff::part_losses(traj.loss(), parts))}, out,
                            {vm.count("no-plots") == 0, anodiff::cli::stderr_log});
    };
    if (follow) {
      if (!layout.empty()) options.layout = anodiff::ParameterLayout::read_csv(layout);  // else layout.csv, found later
      options.log = anodiff::cli::stderr_log;
      anodiff::FollowOptions fo;
      fo.poll_seconds = vm["poll-seconds"].as<double>();
      if (vm.count("until-snapshots")) fo.until_snapshots = vm["until-snapshots"].as<std::size_t>();
      if (vm.count("until-epoch")) fo.until_epoch = vm["until-epoch"].as<std::int64_t>();
      if (vm.count("idle-seconds")) fo.idle_seconds = vm["idle-seconds"].as<double>();
      if (vm.count("shards")) fo.shards = vm["shards"].as<std::size_t>();
      fo.stop = &stop_requested;
      struct sigaction sa {};
      sa.sa_handler = request_stop;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESETHAND;  // no SA_RESTART: a wait is cut short; a second signal ends the program at once
      sigaction(SIGINT, &sa, nullptr);
      sigaction(SIGTERM, &sa, nullptr);
      anodiff::TrajectoryFollower follower(trajectory, options, fo);
      std::fprintf(stderr, "anodiff-post-analysis: following %s in parts of %zu snapshots\n", trajectory.c_str(),
                   part_length);
      const auto end = follower.run([&](const std::vector<anodiff::PartResult>& parts, std::size_t first_new,
                                        const anodiff::WeightTrajectory& traj) {
        anodiff::write_post_analysis(parts, out, {vm.count("no-plots") == 0, anodiff::cli::stderr_log}, first_new);
        write_claims(traj, parts);
      });
      if (end == anodiff::FollowEnd::finished && follower.parts().empty()) {
        throw anodiff::InputError(fmt::format("{}: the run finished with {} snapshots, fewer than a part of {}",
                                              trajectory, follower.snapshots(), part_length));
      }
      std::fprintf(stderr, "anodiff-post-analysis: follow ended (%s): %zu parts of %zu snapshots recorded\n",
                   anodiff::follow_end_name(end), follower.parts().size(), follower.snapshots());
      if (!follower.parts().empty()) std::cout << anodiff::summary_table(follower.parts());
      std::fprintf(stderr, "anodiff-post-analysis: results in %s\n", out.c_str());
      return 0;
    }
    // A sharded trajectory directory with a shard per rank: rank r maps only shard r (its columns of the whole).
    const auto shard_dirs = anodiff::WeightTrajectory::shard_directories(trajectory);
    const bool shard_per_rank = ranks > 1 && shard_dirs.size() == static_cast<std::size_t>(ranks);
    auto traj = shard_per_rank ? anodiff::WeightTrajectory::load_shard(trajectory, std::size_t(rank))
                               : anodiff::WeightTrajectory::load(trajectory);
    if (!loss.empty()) traj.set_loss(anodiff::load_series(loss), loss);
    if (!layout.empty()) {
      options.layout = anodiff::ParameterLayout::read_csv(layout);
    } else {
      options.layout = anodiff::ParameterLayout::find(trajectory);  // layout.csv, or the shards' layouts joined
    }
    std::optional<anodiff::LayerGrouping> grouping;
    if (!per_layer.empty()) {
      try {
        grouping = anodiff::parse_layer_grouping(per_layer);
      } catch (const std::invalid_argument& e) {
        throw po::error(fmt::format("--per-layer: {}", e.what()));
      }
      if (!options.layout) {
        throw po::error("--per-layer needs the parameter layout: --layout FILE, or a trajectory directory with layout.csv");
      }
    }
    if (rank == 0) options.log = anodiff::cli::stderr_log;
    options.validate(traj.size());  // before any work
    if (rank == 0 && !shard_per_rank) {
      std::fprintf(stderr, "anodiff-post-analysis: %s: %zu snapshots of %zu parameters\n", trajectory.c_str(),
                   traj.size(), traj.dimension());
    }
    std::vector<anodiff::PartResult> parts;
#ifdef ANODIFF_MPI
    // Each rank analyses its shard (a sharded directory with a shard per rank) or a column range of the whole; every
    // rank gets the merged results, rank 0 writes.
    if (ranks > 1) {
      anodiff::WeightTrajectory columns = traj;
      if (shard_per_rank) {
        if (rank == 0) {
          std::fprintf(stderr, "anodiff-post-analysis: %s: %zu snapshots in %d shards; %d ranks, each its shard\n",
                       trajectory.c_str(), traj.size(), ranks, ranks);
        }
      } else {
        if (traj.dimension() < static_cast<std::size_t>(ranks)) {
          throw anodiff::InputError(fmt::format("{}: {} parameters cannot be split among {} ranks", trajectory,
                                                traj.dimension(), ranks));
        }
        const auto [first, count] = anodiff::shard_columns(traj.dimension(), std::size_t(ranks), std::size_t(rank));
        columns = traj.columns(first, count);
        if (rank == 0) {
          std::fprintf(stderr, "anodiff-post-analysis: %d ranks, each a column range of about %zu parameters\n",
                       ranks, count);
        }
      }
      anodiff::cli::MpiReduction reduction(mpi);
      parts = anodiff::post_analysis(columns, options, reduction);
      if (rank != 0) return 0;
      if (shard_per_rank && grouping) traj = anodiff::WeightTrajectory::load(trajectory);  // the whole, for --per-layer
    }
#endif
    if (parts.empty()) parts = anodiff::post_analysis(traj, options);
    anodiff::write_post_analysis(parts, out, {vm.count("no-plots") == 0, anodiff::cli::stderr_log});
    if (grouping) {
      anodiff::MsdOptions msd_options;
      msd_options.part_length = part_length;
      anodiff::write_per_layer(anodiff::per_layer_msd(traj, *options.layout, *grouping, msd_options), out,
                               {vm.count("no-plots") == 0, anodiff::cli::stderr_log});
    }
    write_claims(traj, parts);
    std::cout << anodiff::summary_table(parts);
    std::fprintf(stderr, "anodiff-post-analysis: results in %s\n", out.c_str());
    return 0;
  });
  return mpi.finish(code);
}
