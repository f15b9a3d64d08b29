// The MSD at all lags (exact to 1e-9) and all pair statistics of one trajectory part (T = 1000 snapshots of
// D = 272,474 float32 parameters, a ResNet-20 part) against numpy's Gram and FFT methods
// (benchmarks/reference/msd_numpy.py) run in the same invocation.
// Usage: bench_pair_statistics [T] [D] [workdir]
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "anodiff/msd.hpp"
#include "anodiff/pair_statistics.hpp"
#include "anodiff/weight_trajectory.hpp"
#include "common.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

int main(int argc, char** argv) {
  const std::size_t T = argc > 1 ? std::stoul(argv[1]) : 1000;
  const std::size_t D = argc > 2 ? std::stoul(argv[2]) : 272474;
  const fs::path work = argc > 3 ? fs::path(argv[3]) : fs::temp_directory_path() / "anodiff_bench_pairs";
  const std::string script = std::string(ANODIFF_REFERENCE_DIR) + "/msd_numpy.py";
  fs::create_directories(work);
  const fs::path data = work / "part.npy";

  // The same trajectory part as the reference script builds (same numpy generator and seed), saved for us.
  std::fprintf(stderr, "generating the %zu x %zu part with numpy...\n", T, D);
  bench::run_command(fmt::format(
      "/usr/bin/python3 -c \"import numpy as np; rng = np.random.default_rng(0); "
      "X = np.cumsum(rng.standard_normal(({}, {}), dtype=np.float32) * 1e-3, axis=0, dtype=np.float32) + 0.05; "
      "np.save('{}', X)\"",
      T, D, data.string()));

  std::fprintf(stderr, "anodiff: MSD at all lags (certified FFT) in a child process...\n");
  const auto msd_run = bench::in_child([&] {
    const auto traj = WeightTrajectory::load(data);
    const double t0 = bench::now();
    const auto report = msd_fft_certified(traj, 0, T);
    const auto& m = report.msd;
    const double seconds = bench::now() - t0;
    std::printf("anodiff msd: msd(1) = %.6e  msd(T/2) = %.6e  (%zu lags summed directly)\n", m[1], m[T / 2],
                report.direct_lags.size());
    std::fflush(stdout);
    return seconds;
  });

  std::fprintf(stderr, "anodiff: all pair statistics in a child process...\n");
  const auto pairs_run = bench::in_child([&] {
    const auto traj = WeightTrajectory::load(data);
    const double t0 = bench::now();
    const auto d = PairDistances::compute(traj, 0, T);
    const auto m = d.msd();
    const auto contour = mean_contour_length(d);
    const auto mc = msd_vs_contour(d);
    std::vector<double> loss(T);
    for (std::size_t i = 0; i < T; ++i) loss[i] = std::exp(-1e-3 * double(i));
    const auto msl_lin = msl_vs_distance(d, loss, Binning::linear);
    const auto msl_log = msl_vs_distance(d, loss, Binning::logarithmic);
    const auto h = displacement_histograms(d, default_histogram_lags(), false);
    const auto hr = displacement_histograms(d, default_histogram_lags(), true);
    const double seconds = bench::now() - t0;
    std::printf("anodiff pairs: msd(1) = %.6e  msd(T/2) = %.6e\n", m[1], m[T / 2]);
    std::fflush(stdout);
    return seconds;
  });

  std::fprintf(stderr, "numpy reference (%s)...\n", script.c_str());
  const std::string ref_out = bench::run_command(fmt::format("/usr/bin/python3 {} {} {}", script, T, D));
  std::printf("%s", ref_out.c_str());
  const auto ref = bench::parse_timings(ref_out);
  const double part_bytes = double(T) * double(D) * 4.0;
  std::printf("machine: %s", bench::run_command("lscpu | grep 'Model name' | sed 's/  */ /g'").c_str());
  for (const auto& [name, run] : {std::pair{"MSD at all lags", msd_run}, std::pair{"all pair statistics", pairs_run}}) {
    std::printf("anodiff %s: %.3f s, peak memory %.3f GB = %.2fx the part (%.3f GB float32)\n", name, run.seconds,
                run.peak_bytes / 1e9, run.peak_bytes / part_bytes, part_bytes / 1e9);
    std::printf("  ratio numpy gram / anodiff = %.2f (target >= 1.5)\n", ref.at("gram") / run.seconds);
    std::printf("  ratio numpy fft  / anodiff = %.2f (target >= 10)\n", ref.at("fft") / run.seconds);
    std::printf("  memory ratio = %.2f (target <= 1.5)\n", run.peak_bytes / part_bytes);
  }
  fs::remove(data);
  return 0;
}
