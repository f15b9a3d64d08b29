// anodiff-post-analysis: the study's MSD post-analysis of a recorded weight trajectory (paper section 2-3).
#include <cstdio>
#include <iostream>
#include <string>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/post_analysis.hpp"
#include "anodiff/synthetic.hpp"
#include "anodiff/weight_trajectory.hpp"
#include "cli.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  return anodiff::cli::run("anodiff-post-analysis", [&] {
    std::string trajectory, loss, out;
    std::size_t part_length = 0, window = 20;
    po::options_description desc(
        "anodiff-post-analysis: MSD, local exponent, two-regime fit, contour length, MSL and displacement\n"
        "statistics of a weight trajectory, per part. Usage:\n"
        "  anodiff-post-analysis --trajectory PATH [--loss PATH] [--part-length N] [--window 20] --out DIR\n"
        "  anodiff-post-analysis --demo --out DIR     (a built-in synthetic trajectory)\nOptions");
    desc.add_options()
        ("help,h", "show this help")
        ("trajectory", po::value(&trajectory), "a .npy of shape (T, D) or a trajectory directory")
        ("loss", po::value(&loss), "a 1-D .npy of per-step losses (default: the directory's steps.csv)")
        ("part-length", po::value(&part_length), "snapshots per part (default: the whole trajectory)")
        ("window", po::value(&window)->default_value(20), "lag window of the local exponent")
        ("out", po::value(&out), "output directory")
        ("no-plots", "write CSVs only")
        ("demo", "analyse the built-in synthetic trajectory (3000 snapshots, D = 2000; parts of 1000)");
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
    fs::create_directories(out);
    if (vm.count("demo")) {
      // Written to disk and read back, so that the demo exercises the same path as a recorded run.
      trajectory = (fs::path(out) / "demo_trajectory").string();
      fs::remove_all(trajectory);
      std::fprintf(stderr, "anodiff-post-analysis: writing the built-in demo trajectory to %s\n", trajectory.c_str());
      const auto demo = anodiff::synthetic::demo();
      anodiff::TrajectoryWriter writer(trajectory, demo.dimension());
      std::vector<double> w(demo.dimension());
      std::vector<float> wf(demo.dimension());
      const auto& steps = demo.steps();
      for (std::size_t t = 0; t < demo.size(); ++t) {
        demo.read(t, 1, 0, demo.dimension(), w.data());
        for (std::size_t j = 0; j < w.size(); ++j) wf[j] = static_cast<float>(w[j]);
        writer.append(wf.data(), {steps.columns[0][t], steps.columns[1][t], steps.columns[2][t]});
        if ((t + 1) % 100 == 0) writer.commit();  // one chunk per "epoch" of 100 steps
      }
      writer.commit();
      if (!vm.count("part-length")) part_length = 1000;
    }
    auto traj = anodiff::WeightTrajectory::load(trajectory);
    if (!loss.empty()) traj.set_loss(anodiff::load_series(loss), loss);
    anodiff::PostAnalysisOptions options;
    options.part_length = part_length;
    options.window = window;
    anodiff::split_parts(traj.size(), part_length, /*report=*/false);  // a part length that does not fit fails before any work
    std::fprintf(stderr, "anodiff-post-analysis: %s: %zu snapshots of %zu parameters\n", trajectory.c_str(),
                 traj.size(), traj.dimension());
    const auto parts = anodiff::post_analysis(traj, options);
    anodiff::write_post_analysis(parts, out, vm.count("no-plots") == 0);
    std::cout << anodiff::summary_table(parts);
    std::fprintf(stderr, "anodiff-post-analysis: results in %s\n", out.c_str());
    return 0;
  });
}
