// The MSD at all lags (exact to 1e-9) and all pair statistics of one trajectory part (T = 1000 snapshots of
// D = 272,474 float32 parameters, a ResNet-20 part) against numpy's Gram and FFT methods
// (benchmarks/reference/msd_numpy.py) run in the same invocation.
// Usage: bench_pair_statistics [T] [D] [workdir]
//
// Tiled mode (issue 16 item 4): all pair statistics of a P-snapshot part (default 10^4 x 50,000 float32, a random
// walk generated here with a fixed seed) in tiles under a memory budget (default 256 MiB), against a 1,000-snapshot
// part of the same dimension (untiled, and tiled under the same budget), each in its own child process: time,
// time per pair, tile buffers held and the child's max RSS (getrusage; it includes the part itself).
// Usage: bench_pair_statistics --tiled [P] [D] [budget MiB] [small P]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <cstdlib>
#include <string>
#include <vector>
#include <utility>

#include <fmt/format.h>

#include "anodiff/analysis/msd.hpp"
#include "anodiff/analysis/pair_statistics.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "common.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

namespace {

// A random walk of T x D float32 (steps uniform in [-1e-3, 1e-3], start 0.05), xorshift64* with a fixed seed.
WeightTrajectory random_walk(std::size_t T, std::size_t D, std::uint64_t seed) {
  std::vector<float> rows(T * D);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t j = 0; j < D; ++j) {
      x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
      const double u = double((x * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;  // [0, 1)
      const float step = float((2 * u - 1) * 1e-3);
      rows[t * D + j] = t == 0 ? 0.05f + step : rows[(t - 1) * D + j] + step;
    }
  }
  return WeightTrajectory::from_rows(std::move(rows), D);
}

std::vector<double> test_loss(std::size_t T) {
  std::vector<double> loss(T);
  for (std::size_t i = 0; i < T; ++i) loss[i] = std::exp(-1e-3 * double(i));
  return loss;
}

int tiled_mode(int argc, char** argv) {
  const std::size_t P = argc > 2 ? std::stoul(argv[2]) : 10000;
  const std::size_t D = argc > 3 ? std::stoul(argv[3]) : 50000;
  const std::size_t budget = (argc > 4 ? std::stoul(argv[4]) : 256) << 20;
  const std::size_t small = argc > 5 ? std::stoul(argv[5]) : 1000;
  std::printf("machine: %s", bench::run_command("lscpu | grep 'Model name' | sed 's/  */ /g'").c_str());
  std::printf("threads: OMP_NUM_THREADS=%s\n", std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "(unset)");
  std::fflush(stdout);
  struct Row {
    std::string name;
    std::size_t n;
    bool tiled;
  };
  for (const Row& row : {Row{"untiled", small, false}, Row{"tiled", small, true}, Row{"tiled", P, true}}) {
    std::fprintf(stderr, "%s pair statistics of a %zu x %zu part...\n", row.name.c_str(), row.n, D);
    const auto run = bench::in_child([&] {
      const auto traj = random_walk(row.n, D, 1);
      const auto loss = test_loss(row.n);
      const PairStatisticsOptions o;
      const double t0 = bench::now();
      double msd1 = 0, msd_half = 0;
      std::size_t held = 0, tiles = 1, rows = row.n, passes = 1;
      if (row.tiled) {
        const auto p = tiled_pair_statistics(traj, 0, row.n, loss, o, budget);
        msd1 = p.msd[1], msd_half = p.msd[row.n / 2];
        held = p.working_bytes, tiles = p.tiles, rows = p.tile_rows, passes = p.passes;
      } else {
        const auto d = PairDistances::compute(traj, 0, row.n);
        const auto m = d.msd();
        const auto aging = d.from_start();
        const auto contour = mean_contour_length(d);
        const auto mc = msd_vs_contour(d, o.contour_bins);
        const auto msl_lin = msl_vs_distance(d, loss, Binning::linear, o.msl_bins);
        const auto msl_log = msl_vs_distance(d, loss, Binning::logarithmic, o.msl_bins);
        const auto h = displacement_histograms(d, o.histogram_lags, false, o.histogram_bins);
        const auto hr = displacement_histograms(d, o.histogram_lags, true, o.histogram_bins);
        msd1 = m[1], msd_half = m[row.n / 2];
        held = untiled_pair_memory(row.n, 9);
      }
      const double seconds = bench::now() - t0;
      const double pairs = double(row.n) * double(row.n - 1) / 2;
      std::printf("%s P = %zu: %.2f s, %.2f ns per pair (%.4f ns per pair and coordinate), msd(1) = %.6e, "
                  "msd(P/2) = %.6e\n  tiles %zu of %zu rows, %zu passes; buffers held %.1f MiB (P^2 doubles: %.1f MiB; "
                  "budget %.0f MiB); the part itself %.1f MiB float32\n",
                  row.name.c_str(), row.n, seconds, seconds / pairs * 1e9, seconds / pairs / double(D) * 1e9, msd1,
                  msd_half, tiles, rows, passes, double(held) / 1048576.0, 8.0 * double(row.n) * double(row.n) / 1048576.0,
                  double(budget) / 1048576.0, 4.0 * double(row.n) * double(D) / 1048576.0);
      std::fflush(stdout);
      return seconds;
    });
    std::printf("  child max RSS (getrusage): %.1f MiB\n", run.peak_bytes / 1048576.0);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--tiled") == 0) return tiled_mode(argc, argv);
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
