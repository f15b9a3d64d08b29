#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "anodiff/msd.hpp"
#include "anodiff/pair_statistics.hpp"
#include "anodiff/synthetic.hpp"
#include "test_helpers.hpp"

using namespace anodiff;

namespace {

double max_rel_error(const PairDistances& a, const PairDistances& b) {
  double worst = 0;
  for (std::size_t j = 1; j < a.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      const double ref = b(i, j);
      worst = std::max(worst, std::fabs(a(i, j) - ref) / ref);
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("pair distances: the Gram fast path equals the brute force over several column blocks", "[pairs]") {
  // 600 snapshots x 15000 parameters: three column blocks of the syrk path.
  const auto t = WeightTrajectory::from_rows(test::random_rows(600, 15000, 1), 15000);
  const auto fast = PairDistances::compute(t, 0, 600);
  const auto slow = PairDistances::brute_force(t, 0, 600);
  const double worst = max_rel_error(fast, slow);
  INFO("worst relative error " << worst);
  // Independent random points are the hard case for the recursion (every step as long as the distances):
  // the error grows like T * 1e-16 and stays far below the 1e-9 requirement.
  CHECK(worst < 1e-10);
  for (std::size_t k = 1; k < 600; ++k) CHECK(fast.step_lengths()[k] == Approx(slow.step_lengths()[k]).epsilon(1e-13));
  // A part in the middle of the trajectory.
  const auto mid = PairDistances::compute(t, 100, 50);
  const auto mid_slow = PairDistances::brute_force(t, 100, 50);
  CHECK(max_rel_error(mid, mid_slow) < 1e-10);
}

TEST_CASE("pair distances: MSD exact to 1e-9 for 5000 snapshots whose steps are 1e-5 of their spread",
          "[pairs][precision]") {
  // Steps of 1e-5 per coordinate, a jump of 1 half-way and an offset of 1000: the centred Gram identity loses
  // (spread/step)^2 * 1e-16 ~ 1e-6 here; the increment recursion must not.
  const std::size_t T = 5000, D = 8;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> n(0.0, 1e-5);
  std::vector<double> rows(T * D);
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t j = 0; j < D; ++j) {
      const double prev = t ? rows[(t - 1) * D + j] : 1000.0;
      rows[t * D + j] = prev + n(rng) + (t == T / 2 ? 0.35 : 0.0);
    }
  }
  const auto traj = WeightTrajectory::from_rows(std::move(rows), D);
  const auto fast = PairDistances::compute(traj, 0, T);
  const auto m = fast.msd();
  const auto ref = test::brute_msd(traj);
  double worst = 0;
  for (std::size_t tau = 1; tau < T; ++tau) worst = std::max(worst, std::fabs(m[tau] - ref[tau]) / ref[tau]);
  INFO("worst relative MSD error " << worst);
  CHECK(worst < 1e-9);
  // Every pair distance too (sampled rows of the brute force).
  double worst_pair = 0;
  std::vector<double> x(T * D);
  traj.read(0, T, 0, D, x.data());
  for (std::size_t i = 0; i < T; i += 97) {
    for (std::size_t j = i + 1; j < T; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < D; ++k) s += (x[j * D + k] - x[i * D + k]) * (x[j * D + k] - x[i * D + k]);
      worst_pair = std::max(worst_pair, std::fabs(fast(i, j) - s) / s);
    }
  }
  INFO("worst relative pair error " << worst_pair);
  CHECK(worst_pair < 1e-9);
}

TEST_CASE("contour length, MSD against contour, MSL and histograms equal direct computations", "[pairs]") {
  const std::size_t T = 120, D = 30;
  const auto t = synthetic::brownian(T, D, 0.1, 3);
  const auto d = PairDistances::compute(t, 0, T);
  std::vector<double> x(T * D);
  t.read(0, T, 0, D, x.data());
  auto dist = [&](std::size_t i, std::size_t j) {
    double s = 0;
    for (std::size_t k = 0; k < D; ++k) s += (x[j * D + k] - x[i * D + k]) * (x[j * D + k] - x[i * D + k]);
    return std::sqrt(s);
  };
  SECTION("mean contour length per lag: C_ij = sum_{k=i+1}^{j} s_k") {
    const auto c = mean_contour_length(d);
    for (std::size_t tau : {1, 2, 17, 119}) {
      double acc = 0;
      for (std::size_t i = 0; i + tau < T; ++i) {
        for (std::size_t k = i + 1; k <= i + tau; ++k) acc += dist(k - 1, k);
      }
      CHECK(c[tau] == Approx(acc / double(T - tau)).epsilon(1e-12));
    }
  }
  SECTION("MSD against contour length: every pair counted once, bins average |dw|^2") {
    const auto b = msd_vs_contour(d, 10);
    std::size_t pairs = 0;
    for (auto c : b.count) pairs += c;
    CHECK(pairs == T * (T - 1) / 2);
    // Recompute one bin directly.
    std::size_t k = 5;
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t j = 1; j < T; ++j) {
      for (std::size_t i = 0; i < j; ++i) {
        double c = 0;
        for (std::size_t q = i + 1; q <= j; ++q) c += dist(q - 1, q);
        if (c >= b.lo[k] && (c < b.hi[k] || k + 1 == b.lo.size())) sum += dist(i, j) * dist(i, j), ++n;
      }
    }
    CHECK(n == b.count[k]);
    CHECK(b.mean[k] == Approx(sum / double(n)).epsilon(1e-9));
  }
  SECTION("MSL against distance skips pairs without a loss") {
    std::vector<double> loss(T);
    for (std::size_t i = 0; i < T; ++i) loss[i] = std::sin(0.1 * double(i));
    loss[0] = std::nan("");
    const auto lin = msl_vs_distance(d, loss, Binning::linear, 7);
    std::size_t pairs = 0;
    double total = 0;
    for (std::size_t b = 0; b < lin.count.size(); ++b) pairs += lin.count[b], total += lin.count[b] * lin.mean[b];
    CHECK(pairs == (T - 1) * (T - 2) / 2);
    double direct = 0;
    for (std::size_t j = 2; j < T; ++j) {
      for (std::size_t i = 1; i < j; ++i) direct += (loss[j] - loss[i]) * (loss[j] - loss[i]);
    }
    CHECK(total == Approx(direct).epsilon(1e-9));
    const auto lg = msl_vs_distance(d, loss, Binning::logarithmic, 7);
    CHECK(lg.hi.back() / lg.lo.back() == Approx(lg.hi.front() / lg.lo.front()));
    CHECK_THROWS_AS(msl_vs_distance(d, std::vector<double>(3), Binning::linear), std::invalid_argument);
  }
  SECTION("displacement histograms hold every displacement at each lag, rescaled by sqrt(MSD)") {
    const auto h = displacement_histograms(d, default_histogram_lags(), false, 12);
    REQUIRE(h.size() == 7);  // 1..64 are below T = 120
    for (const auto& one : h) {
      std::size_t n = 0;
      double integral = 0;
      for (std::size_t b = 0; b < one.count.size(); ++b) n += one.count[b], integral += one.density[b] * (one.hi[b] - one.lo[b]);
      CHECK(n == T - one.lag);
      CHECK(integral == Approx(1.0));
    }
    const auto r = displacement_histograms(d, {4}, true, 12);
    CHECK(r[0].scale == Approx(std::sqrt(d.msd()[4])));
  }
}
