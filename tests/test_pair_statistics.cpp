#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "anodiff/analysis/msd.hpp"
#include "anodiff/analysis/pair_statistics.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/trajectory/synthetic.hpp"
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

namespace {
// The precision tests' walk: T x D, steps of 1e-5 per coordinate from an offset of 1000, and a jump of 0.35 half-way.
std::vector<double> tiny_steps_walk(std::size_t T, std::size_t D) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> n(0.0, 1e-5);
  std::vector<double> rows(T * D);
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t j = 0; j < D; ++j) {
      const double prev = t ? rows[(t - 1) * D + j] : 1000.0;
      rows[t * D + j] = prev + n(rng) + (t == T / 2 ? 0.35 : 0.0);
    }
  }
  return rows;
}
}  // namespace

TEST_CASE("pair distances: MSD exact to 1e-9 for 5000 snapshots whose steps are 1e-5 of their spread",
          "[pairs][precision]") {
  // Steps of 1e-5 per coordinate, a jump of 1 half-way and an offset of 1000: the centred Gram identity loses
  // (spread/step)^2 * 1e-16 ~ 1e-6 here; the increment recursion must not.
  const std::size_t T = 5000, D = 8;
  std::vector<double> rows = tiny_steps_walk(T, D);
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

namespace {

void close_to(double a, double b, double rel = 1e-12) {
  if (std::isnan(a) || std::isnan(b)) {
    CHECK(std::isnan(a) == std::isnan(b));
    return;
  }
  CHECK(std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + 1e-300);
}

void close_to(const std::vector<double>& a, const std::vector<double>& b, double rel = 1e-12) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) close_to(a[k], b[k], rel);
}

void same_curve(const BinnedCurve& a, const BinnedCurve& b) {
  CHECK(a.count == b.count);
  close_to(a.lo, b.lo);
  close_to(a.hi, b.hi);
  close_to(a.x, b.x);
  close_to(a.mean, b.mean);
}

void same_histograms(const std::vector<DisplacementHistogram>& a, const std::vector<DisplacementHistogram>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    CHECK(a[k].lag == b[k].lag);
    close_to(a[k].scale, b[k].scale);
    CHECK(a[k].count == b[k].count);
    close_to(a[k].lo, b[k].lo);
    close_to(a[k].hi, b[k].hi);
    close_to(a[k].density, b[k].density);
  }
}

// A Brownian part with a loss series (none at snapshot 0, as in a recorded run).
WeightTrajectory brownian_with_loss(std::size_t T, std::size_t D, unsigned seed) {
  auto t = synthetic::brownian(T, D, 0.1, seed);
  std::vector<double> loss(T);
  for (std::size_t i = 0; i < T; ++i) loss[i] = std::exp(-0.01 * double(i)) + 0.1 * std::sin(0.37 * double(i));
  loss[0] = std::nan("");
  t.set_loss(loss);
  return t;
}

}  // namespace

TEST_CASE("pair distance tiles equal the brute force and the untiled matrix for any tile size", "[pairs][tiles]") {
  const auto t = WeightTrajectory::from_rows(test::random_rows(61, 700, 5), 700);  // two data chunks of 512
  const auto slow = PairDistances::brute_force(t, 3, 53);
  const auto fast = PairDistances::compute(t, 3, 53);
  for (std::size_t rows : {1, 3, 7, 20, 53, 80}) {
    INFO("tiles of " << rows << " rows");
    std::vector<std::size_t> seen(53 * 53, 0);
    double worst = 0, worst_untiled = 0;
    for_each_distance_tile(t, 3, 53, rows, [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, const double* tile) {
      CHECK(i1 - i0 <= rows);
      CHECK(j1 - j0 <= rows);
      for (std::size_t c = j0; c < j1; ++c) {
        for (std::size_t i = i0; i < std::min(i1, c); ++i) {
          const double d = tile[(i - i0) + (c - j0) * (i1 - i0)];
          ++seen[i + c * 53];
          worst = std::max(worst, std::fabs(d - slow(i, c)) / slow(i, c));
          worst_untiled = std::max(worst_untiled, std::fabs(d - fast(i, c)) / fast(i, c));
        }
      }
    });
    for (std::size_t c = 0; c < 53; ++c) {
      for (std::size_t i = 0; i < 53; ++i) CHECK(seen[i + c * 53] == (i < c ? 1u : 0u));
    }
    INFO("worst relative error " << worst << " (against the untiled " << worst_untiled << ")");
    CHECK(worst < 1e-12);
    CHECK(worst_untiled < 1e-12);
  }
  CHECK_THROWS_AS(for_each_distance_tile(t, 0, 61, 0, [](auto...) {}), std::invalid_argument);
}

TEST_CASE("tiled pair statistics equal the untiled ones under any memory budget", "[pairs][tiles]") {
  const std::size_t T = 150, D = 40;
  const auto t = brownian_with_loss(T, D, 11);
  const auto loss = t.loss();
  const PairStatisticsOptions o;
  const auto d = PairDistances::compute(t, 0, T);
  const auto msl_lin = msl_vs_distance(d, loss, Binning::linear, o.msl_bins);
  const auto msl_log = msl_vs_distance(d, loss, Binning::logarithmic, o.msl_bins);
  const std::size_t lags = 8;  // 1..128 below 150
  for (std::size_t rows : {1, 3, 7, 64, 150}) {
    INFO("budget for tiles of " << rows << " rows");
    const std::size_t budget = tiled_pair_memory(T, rows, lags);
    CHECK(tile_rows_within(T, lags, budget) == rows);
    CHECK(tile_rows_within(T, lags, budget - 1) == rows - 1);
    const auto p = tiled_pair_statistics(t, 0, T, loss, o, budget);
    CHECK(p.tile_rows == rows);
    CHECK(p.passes == (rows < T ? 2u : 1u));
    CHECK(p.working_bytes <= budget);
    close_to(p.msd, d.msd());
    close_to(p.from_start, d.from_start());
    close_to(p.step_lengths, d.step_lengths());
    close_to(p.mean_contour, mean_contour_length(d));
    same_curve(p.msd_contour, msd_vs_contour(d, o.contour_bins));
    same_curve(p.msl_linear, msl_lin);
    same_curve(p.msl_log, msl_log);
    same_histograms(p.histograms, displacement_histograms(d, o.histogram_lags, false, o.histogram_bins));
    same_histograms(p.rescaled, displacement_histograms(d, o.histogram_lags, true, o.histogram_bins));
  }
  SECTION("without a loss series: one pass, no MSL") {
    const auto p = tiled_pair_statistics(t, 10, 100, {}, o, tiled_pair_memory(100, 9, 7));
    CHECK(p.passes == 1);
    CHECK(p.msl_linear.count.empty());
    const auto part = PairDistances::compute(t, 10, 100);
    close_to(p.msd, part.msd());
    same_curve(p.msd_contour, msd_vs_contour(part, o.contour_bins));
  }
  SECTION("errors name what was expected") {
    CHECK_THROWS_AS(tiled_pair_statistics(t, 0, T, loss, o, tiled_pair_memory(T, 1, lags) - 1), std::invalid_argument);
    CHECK_THROWS_AS(tiled_pair_statistics(t, 0, T, std::vector<double>(3), o, 1 << 30), std::invalid_argument);
    CHECK_THROWS_AS(tiled_pair_statistics(t, 0, 1, {}, o, 1 << 30), std::invalid_argument);
  }
}

TEST_CASE("tiled pair distances stay exact to 1e-9 when steps are 1e-5 of the spread", "[pairs][precision][tiles]") {
  // The trajectory of the untiled precision test, in tiles of 700 rows (8 row blocks; off-diagonal tiles as far as
  // 4300 snapshots from their rows, across the jump).
  const std::size_t T = 5000, D = 8;
  std::vector<double> rows = tiny_steps_walk(T, D);
  std::vector<double> x = rows;
  const auto traj = WeightTrajectory::from_rows(std::move(rows), D);
  double worst_pair = 0;
  std::vector<double> msd_sum(T, 0.0);
  for_each_distance_tile(traj, 0, T, 700, [&](std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, const double* tile) {
    for (std::size_t c = j0; c < j1; ++c) {
      for (std::size_t i = i0; i < std::min(i1, c); ++i) {
        const double d = tile[(i - i0) + (c - j0) * (i1 - i0)];
        msd_sum[c - i] += d;
        if (i % 97 != 0) continue;
        double s = 0;
        for (std::size_t k = 0; k < D; ++k) s += (x[c * D + k] - x[i * D + k]) * (x[c * D + k] - x[i * D + k]);
        worst_pair = std::max(worst_pair, std::fabs(d - s) / s);
      }
    }
  });
  INFO("worst relative pair error " << worst_pair);
  CHECK(worst_pair < 1e-9);
  const auto ref = test::brute_msd(traj);
  double worst = 0;
  for (std::size_t tau = 1; tau < T; ++tau) worst = std::max(worst, std::fabs(msd_sum[tau] / double(T - tau) - ref[tau]) / ref[tau]);
  INFO("worst relative MSD error " << worst);
  CHECK(worst < 1e-9);
}

TEST_CASE("post-analysis takes tiles when the pair matrix exceeds the budget, with the same results", "[pairs][tiles]") {
  const auto t = brownian_with_loss(260, 30, 4);
  PostAnalysisOptions o;
  o.part_length = 130;
  const auto untiled = post_analysis(t, o);
  for (std::size_t rows : {5, 40}) {
    o.pair_memory_budget = tiled_pair_memory(130, rows, 8);
    const auto tiled = post_analysis(t, o);
    REQUIRE(tiled.size() == untiled.size());
    for (std::size_t p = 0; p < tiled.size(); ++p) {
      INFO("part " << p << ", tiles of " << rows << " rows");
      CHECK(untiled[p].pair_tile_rows == 0);
      CHECK(tiled[p].pair_tile_rows == rows);
      CHECK(tiled[p].all_pairs);
      close_to(tiled[p].msd.msd, untiled[p].msd.msd);
      close_to(tiled[p].aging.msd, untiled[p].aging.msd);
      close_to(tiled[p].step_length, untiled[p].step_length);
      close_to(tiled[p].mean_contour, untiled[p].mean_contour);
      same_curve(tiled[p].msd_contour, untiled[p].msd_contour);
      same_curve(tiled[p].msl_linear, untiled[p].msl_linear);
      same_curve(tiled[p].msl_log, untiled[p].msl_log);
      same_histograms(tiled[p].histograms, untiled[p].histograms);
      same_histograms(tiled[p].rescaled, untiled[p].rescaled);
      close_to(tiled[p].contour_fit.exponent, untiled[p].contour_fit.exponent, 1e-10);
      close_to(tiled[p].msl_fit.exponent, untiled[p].msl_fit.exponent, 1e-10);
    }
  }
}

TEST_CASE("a pair memory budget below one row of tiles is refused by validate()", "[pairs][tiles]") {
  PostAnalysisOptions o;
  o.part_length = 1000;
  o.pair_memory_budget = tiled_pair_memory(1000, 1, 9) - 1;
  CHECK_THROWS_AS(o.validate(5000), std::invalid_argument);
  try {
    o.validate(5000);
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("pair_memory_budget") != std::string::npos);
  }
  o.pair_memory_budget = tiled_pair_memory(1000, 1, 9);
  CHECK_NOTHROW(o.validate(5000));
  o.pair_memory_budget = 1000;
  o.exact_limit = 999;  // no pair statistics: any budget
  CHECK_NOTHROW(o.validate(5000));
}

namespace {

// The pair summary of `shards` coordinate shards of t, each in its own thread binning its share of the pairs:
// untiled (budget 0: the shards' distance matrices summed, then pair_summary) or tiled within `budget`.
std::vector<PairSummary> split_summaries(const WeightTrajectory& t, const std::vector<double>& loss,
                                         const PairStatisticsOptions& o, std::size_t shards, std::size_t budget) {
  test::ThreadReduction all(shards);
  std::vector<PairSummary> out(shards);
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < shards; ++s) {
    threads.emplace_back([&, s] {
      const ShardSum sum = [&all, s](double* data, std::size_t count) { all.sum(s, data, count); };
      const Shard share{s, shards};
      const std::size_t base = t.dimension() / shards, extra = t.dimension() % shards;
      const auto part = t.columns(s * base + std::min(s, extra), base + (s < extra ? 1 : 0));
      if (budget == 0) {
        auto squared = PairDistances::compute(part, 0, t.size()).squared_distances();
        sum(squared.data(), squared.size());
        const auto d = PairDistances::from_squared_distances(t.size(), std::move(squared));
        out[s] = pair_summary(d, loss, o, sum, share);
      } else {
        out[s] = tiled_pair_statistics(part, 0, t.size(), loss, o, budget, sum, share);
      }
    });
  }
  for (auto& th : threads) th.join();
  return out;
}

}  // namespace

TEST_CASE("pair binning split over 2 and 3 shards equals the single process, untiled and tiled", "[pairs][shards]") {
  const std::size_t T = 97, D = 30;
  const auto t = brownian_with_loss(T, D, 23);
  const PairStatisticsOptions o;
  const auto d = PairDistances::compute(t, 0, T);
  const std::size_t lags = 7;  // 1..64 below 97
  for (bool with_loss : {true, false}) {
    const std::vector<double> loss = with_loss ? t.loss() : std::vector<double>{};
    for (std::size_t shards : {2, 3}) {
      for (std::size_t rows : {0, 5, 13, 97}) {  // 0: untiled
        INFO((with_loss ? "with" : "without") << " a loss series, " << shards << " shards, tiles of " << rows
                                              << " rows (0: untiled)");
        const auto all = split_summaries(t, loss, o, shards, rows ? tiled_pair_memory(T, rows, lags) : 0);
        for (const auto& p : all) {
          close_to(p.msd, d.msd());
          close_to(p.from_start, d.from_start());
          close_to(p.step_lengths, d.step_lengths());
          close_to(p.mean_contour, mean_contour_length(d));
          same_curve(p.msd_contour, msd_vs_contour(d, o.contour_bins));
          if (with_loss) {
            same_curve(p.msl_linear, msl_vs_distance(d, loss, Binning::linear, o.msl_bins));
            same_curve(p.msl_log, msl_vs_distance(d, loss, Binning::logarithmic, o.msl_bins));
          } else {
            CHECK(p.msl_linear.count.empty());
            CHECK(p.msl_log.count.empty());
          }
          same_histograms(p.histograms, displacement_histograms(d, o.histogram_lags, false, o.histogram_bins));
          same_histograms(p.rescaled, displacement_histograms(d, o.histogram_lags, true, o.histogram_bins));
        }
        // Every shard gets the same summary, bit for bit (NaN in the empty bins).
        auto identical = [](const std::vector<double>& a, const std::vector<double>& b) {
          REQUIRE(a.size() == b.size());
          for (std::size_t k = 0; k < a.size(); ++k) CHECK((a[k] == b[k] || (std::isnan(a[k]) && std::isnan(b[k]))));
        };
        for (const auto& p : all) {
          identical(p.msd, all.front().msd);
          identical(p.msd_contour.x, all.front().msd_contour.x);
          identical(p.msl_log.mean, all.front().msl_log.mean);
        }
      }
    }
  }
  SECTION("one shard bins every pair; a split needs a ShardSum") {
    const auto loss = t.loss();
    const auto p = pair_summary(d, loss, o);
    same_curve(p.msd_contour, msd_vs_contour(d, o.contour_bins));
    same_curve(p.msl_linear, msl_vs_distance(d, loss, Binning::linear, o.msl_bins));
    CHECK_THROWS_AS(pair_summary(d, loss, o, {}, Shard{0, 2}), std::invalid_argument);
    CHECK_THROWS_AS(pair_summary(d, loss, o, [](double*, std::size_t) {}, Shard{2, 2}), std::invalid_argument);
    CHECK_THROWS_AS(pair_summary(d, std::vector<double>(3), o), std::invalid_argument);
    CHECK_THROWS_AS(tiled_pair_statistics(t, 0, T, loss, o, 1 << 30, {}, Shard{1, 3}), std::invalid_argument);
  }
}

TEST_CASE("displacement histograms: every bin's count is a direct loop over the pairs at its lag, each in its half-open bin",
          "[pairs]") {
  // |w_{t+tau} - w_t| straight from the coordinates (not from PairDistances), placed by a linear scan in the bin
  // [lo, hi) the result reports, the largest value in the last bin (its upper edge); density = count / (total width).
  const std::size_t T = 90, D = 6, bins = 11;
  const auto t = synthetic::brownian(T, D, 0.1, 5);
  std::vector<double> x(T * D);
  t.read(0, T, 0, D, x.data());
  const auto msd_ref = test::brute_msd(t);
  const auto d = PairDistances::compute(t, 0, T);
  const std::vector<std::size_t> lags = {1, 3, 10, 40, 89, 90, 200};  // 90 and 200 are not below T: no histogram
  const std::vector<std::size_t> kept = {1, 3, 10, 40, 89};
  for (const bool rescale : {false, true}) {
    INFO((rescale ? "rescaled" : "plain"));
    const auto h = displacement_histograms(d, lags, rescale, bins);
    REQUIRE(h.size() == kept.size());
    std::vector<std::vector<double>> r(kept.size());
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (std::size_t k = 0; k < kept.size(); ++k) {
      const std::size_t lag = kept[k];
      CHECK(h[k].lag == lag);
      const double scale = rescale ? std::sqrt(msd_ref[lag]) : 1.0;
      CHECK(h[k].scale == Approx(scale).epsilon(1e-12));
      for (std::size_t i = 0; i + lag < T; ++i) {
        double s = 0;
        for (std::size_t q = 0; q < D; ++q) s += (x[(i + lag) * D + q] - x[i * D + q]) * (x[(i + lag) * D + q] - x[i * D + q]);
        r[k].push_back(std::sqrt(s) / scale);
        lo = std::min(lo, r[k].back());
        hi = std::max(hi, r[k].back());
      }
    }
    REQUIRE(lo > 0);  // no zero displacement in this fixture
    for (std::size_t k = 0; k < kept.size(); ++k) {
      INFO("lag " << kept[k]);
      const auto& one = h[k];
      REQUIRE(one.lo.size() == bins);
      REQUIRE(one.hi.size() == bins);
      REQUIRE(one.count.size() == bins);
      REQUIRE(one.density.size() == bins);
      // Log bins common to all lags, from the smallest to the largest displacement of any lag.
      for (std::size_t b = 0; b < bins; ++b) {
        CHECK(one.lo[b] == Approx(lo * std::pow(hi / lo, double(b) / double(bins))).epsilon(1e-10));
        CHECK(one.hi[b] == Approx(lo * std::pow(hi / lo, double(b + 1) / double(bins))).epsilon(1e-10));
      }
      std::vector<std::size_t> count(bins, 0);
      std::size_t unplaced = 0, ambiguous = 0;
      for (const double v : r[k]) {
        std::size_t bin = bins;
        if (v <= one.lo.front() * (1 + 1e-12)) {
          bin = 0;  // the smallest displacement is the first edge (up to the rounding of the two computations)
        } else if (v >= one.hi.back() * (1 - 1e-12)) {
          bin = bins - 1;  // the largest is the last edge: in the last bin
        } else {
          for (std::size_t b = 0; b < bins; ++b) {
            if (one.lo[b] <= v && v < one.hi[b]) bin = b;
            if (b > 0 && std::fabs(v - one.lo[b]) <= 1e-12 * v) ++ambiguous;  // too close to an inner edge to tell
          }
        }
        if (bin == bins) ++unplaced; else ++count[bin];
      }
      REQUIRE(unplaced == 0);
      REQUIRE(ambiguous == 0);
      CHECK(one.count == count);
      const double total = double(T - kept[k]);
      for (std::size_t b = 0; b < bins; ++b) {
        CHECK(one.density[b] == Approx(double(count[b]) / (total * (one.hi[b] - one.lo[b]))).epsilon(1e-12));
      }
    }
  }
}
