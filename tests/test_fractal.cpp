#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <omp.h>

#include "anodiff/analysis/fit.hpp"
#include "anodiff/toy/fractal_surface.hpp"
#include "anodiff/landscape/landscape_2d.hpp"
#include "anodiff/analysis/msd.hpp"
#include "anodiff/landscape/roughness.hpp"
#include "anodiff/toy/toy_sgd.hpp"

using namespace anodiff;

TEST_CASE("diamond-square: the study's construction", "[fractal]") {
  const auto s = diamond_square(6, 3.0, 1);
  REQUIRE(s.rows == 65);
  CHECK(s.x(0) == 1.0);
  CHECK(s.x(64) == 2.0);
  CHECK(s.at(0, 0) == 0.0);
  CHECK(s.at(64, 64) == 0.0);
  // The first centre is the mean of the four zero corners plus (U - 0.5) * 3: within [-1.5, 1.5].
  CHECK(std::fabs(s.at(32, 32)) <= 1.5);
  // Same seed, same surface; other seed, other surface.
  CHECK(diamond_square(6, 3.0, 1).z == s.z);
  CHECK(diamond_square(6, 3.0, 2).z != s.z);
  CHECK_THROWS_WITH(diamond_square(0), Catch::Contains("n must lie in 1..13"));
  CHECK_THROWS_WITH(diamond_square(14), Catch::Contains("got 14"));
  CHECK_THROWS_AS(diamond_square(5, -1.0), std::invalid_argument);
}

TEST_CASE("roughness: spectral surfaces with H = 0.3, 0.5, 0.8 give back H within 0.05", "[fractal][known]") {
  // Fit range fixed in advance: lags 4 .. 64 pixels of a 4096^2 surface. Below ~4 px the square lattice's cutoff
  // biases H up (most for small H); beyond ~size/64 the periodic surface saturates and biases H down (most for
  // large H). docs/roughness.md lists the measured biases.
  const std::size_t size = 4096;
  for (double H : {0.3, 0.5, 0.8}) {
    const auto s = spectral_surface(size, H, 42);
    const auto sf = structure_function(s, 2, 64);
    const auto h = hurst_exponent(sf, 4, 64);
    INFO("H = " << H << " estimated " << h.hurst << " +- " << h.error);
    CHECK(h.hurst == Approx(H).margin(0.05));
    CHECK(h.lag_min == Approx(4));
    CHECK(h.lag_max == Approx(64));
  }
  CHECK_THROWS_AS(spectral_surface(64, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(spectral_surface(64, 0.0), std::invalid_argument);
}

TEST_CASE("roughness: box counting and mean |dz| on surfaces with known answers", "[fractal][known]") {
  SECTION("a plane has box-counting dimension 2 and mean |dz| linear in distance") {
    Surface plane;
    plane.rows = plane.cols = 257;
    plane.z.resize(257 * 257);
    for (std::size_t i = 0; i < 257; ++i) {
      for (std::size_t j = 0; j < 257; ++j) plane.z[i * 257 + j] = 0.3 * double(j) + 0.1 * double(i);
    }
    CHECK(box_counting(plane).dimension == Approx(2.0).margin(0.05));
    CHECK(mean_abs_difference(plane, 50000, 20, 1).fit.exponent == Approx(1.0).margin(0.05));
  }
  SECTION("a spectral surface with H = 0.5: mean |dz| ~ r^H, box counting between 2 and 3 - H") {
    const auto s = spectral_surface(512, 0.5, 3);
    const auto m = mean_abs_difference(s, 2000000, 40, 2);
    // The same range as the structure function, 4 .. 32 pixels, in the surface's coordinates.
    const auto f = fit_power_law(m.curve.x, m.curve.mean, 4.0 / 511, 32.0 / 511);
    INFO("mean |dz| exponent " << f.exponent << " over " << f.points << " bins");
    CHECK(f.exponent == Approx(0.5).margin(0.05));
    const auto b = box_counting(s);
    INFO("box-counting dimension " << b.dimension);
    CHECK(b.dimension > 2.0);
    CHECK(b.dimension < 2.6);
  }
}

TEST_CASE("roughness: the 1-D structure function of a Brownian profile gives H = 0.5", "[fractal][known]") {
  std::vector<double> p(100000, 0.0);
  std::srand(1);
  for (std::size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] + (std::rand() % 2 ? 1.0 : -1.0);
  const auto h = hurst_exponent(structure_function(p, 2, 100), 1, 100);
  CHECK(h.hurst == Approx(0.5).margin(0.03));
  CHECK_THROWS_AS(structure_function(p, 0.0), std::invalid_argument);
}

TEST_CASE("landscape: the cone's gradient matches the analytic one", "[toy]") {
  const auto l = Landscape2D::from_heights(cone_surface(1025), 2001);
  CHECK(l.size() == 2001);
  CHECK(l.spacing() == Approx(1e-3));
  // L = 10 - (1 - |p - c|) with source coordinates s = 1.5 + x / 2: dL/dx = (x / 2) / r * (1 / 2), r = |p - c|.
  for (auto [x, y] : {std::pair{0.5, 0.3}, std::pair{-0.7, 0.2}, std::pair{0.1, -0.9}}) {
    const double r = std::hypot(x / 2, y / 2);
    const auto g = l.gradient(x, y);
    CHECK(g[0] == Approx(0.5 * (x / 2) / r).margin(2e-3));
    CHECK(g[1] == Approx(0.5 * (y / 2) / r).margin(2e-3));
    CHECK(l.loss(x, y) == Approx(9.0 + r).margin(1e-6));
  }
  CHECK_THROWS_AS(Landscape2D::from_heights(cone_surface(5), 2), std::invalid_argument);
}

TEST_CASE("toy SGD: deterministic across thread counts, inside the box, trajectories analysable", "[toy]") {
  const auto l = Landscape2D::from_heights(diamond_square(7, 3.0, 5), 401);
  ToySgdOptions o;
  o.steps = 300;
  o.repeats = 6;
  o.seed = 9;
  omp_set_num_threads(1);
  const auto one = run_toy_sgd(l, o);
  omp_set_num_threads(2);
  const auto two = run_toy_sgd(l, o);
  REQUIRE(one.paths.size() == 6);
  for (std::size_t w = 0; w < 6; ++w) {
    REQUIRE(one.paths[w].size() == 301);
    REQUIRE(one.paths[w].dimension() == 2);
    for (std::size_t t = 0; t <= 300; t += 50) CHECK(one.paths[w].snapshot(t) == two.paths[w].snapshot(t));
    for (std::size_t t = 0; t <= 300; ++t) {
      const auto p = one.paths[w].snapshot(t);
      CHECK(std::fabs(p[0]) <= 1.0);
      CHECK(std::fabs(p[1]) <= 1.0);
    }
  }
  // A walker path is a WeightTrajectory: the MSD and its fits apply unchanged.
  const auto c = msd(one.paths[0]).front();
  CHECK(c.lag.size() == 300);
  CHECK(c.msd[0] > 0);
}

namespace {
// One walker of 50 steps started in the corner (0.99, 0.99).
ToySgdOptions corner_walker() {
  ToySgdOptions o;
  o.steps = 50;
  o.repeats = 1;
  o.fixed_start = true;
  o.start_x = 0.99;
  o.start_y = 0.99;
  return o;
}
}  // namespace

TEST_CASE("toy SGD: the boundary redraws the noise and skips a step only after max_redraws", "[toy]") {
  // L = |p - c| - 1 (a cone, minimum at the centre). From a corner, large noise makes many proposals leave the box.
  const auto l = Landscape2D::from_heights(cone_surface(65), 65, /*offset=*/0.0);
  ToySgdOptions o = corner_walker();
  o.eta = 0.0;
  o.sigma = 0.5;
  const auto r = run_toy_sgd(l, o);
  CHECK(r.redraws[0] > 0);
  CHECK(r.skipped[0] == 0);
  o.eta = 10.0;  // the drift alone jumps past the opposite edge: every proposal fails
  o.sigma = 1e-6;
  o.max_redraws = 5;
  const auto s = run_toy_sgd(l, o);
  CHECK(s.skipped[0] == 50);
  CHECK(s.paths[0].snapshot(50) == std::vector<double>{0.99, 0.99});
}

TEST_CASE("toy SGD: the redraw rule never skips, samples the truncated normal, and stays inside", "[toy]") {
  const auto l = Landscape2D::from_heights(cone_surface(65), 65, /*offset=*/0.0);
  ToySgdOptions o = corner_walker();
  o.boundary = BoundaryRule::redraw;
  o.eta = 10.0;  // the drift alone lands far outside: the draw comes from the far tail, just inside the edge
  o.sigma = 1e-3;
  const auto r = run_toy_sgd(l, o);
  CHECK(r.skipped[0] == 0);
  for (std::size_t t = 1; t <= 50; ++t) {
    const auto p = r.paths[0].snapshot(t);
    CHECK(std::fabs(p[0]) <= 1.0);
    CHECK(std::fabs(p[1]) <= 1.0);
    CHECK(1 - std::max(std::fabs(p[0]), std::fabs(p[1])) < 0.05);  // within a few sigma / lambda of an edge
  }
  // A flat landscape from the centre edge: x' = 0.999 + sigma z conditioned on x' <= 1 has the mean of a normal
  // truncated at z <= 0.1/sigma... here sigma = 0.01 and the bound is 0.1 sigma away: E[z | z <= 0.1] = -phi(0.1)/Phi(0.1).
  o.eta = 0.0;
  o.sigma = 0.01;
  o.start_x = 0.999;
  o.start_y = 0.0;
  o.steps = 1;
  o.repeats = 4000;
  o.fixed_start = true;
  Surface flat;
  flat.rows = flat.cols = 5;
  flat.z.assign(25, 0.0);
  const auto s = run_toy_sgd(Landscape2D::from_heights(flat, 5, 0.0), o);
  double mean = 0;
  for (const auto& p : s.paths) mean += (p.snapshot(1)[0] - 0.999) / 0.01;
  mean /= 4000;
  const double phi = std::exp(-0.005) / std::sqrt(2 * M_PI), Phi = 0.5 * std::erfc(-0.1 / std::sqrt(2.0));
  CHECK(mean == Approx(-phi / Phi).margin(0.05));
}

TEST_CASE("toy SGD: walkers are judged one by one: trapping, pinning, the study's R1 segment", "[toy]") {
  // Walker 0: ballistic along x from -0.9 for 200 steps, then still (trapped from step 200, exponent 2 before).
  // Walker 1: still at the edge x = 1 (pinned). Walker 2: crosses y = -0.3385 at step 10 and x = -0.5 at step 260.
  ToySgdResult r;
  const std::size_t T = 401;
  std::vector<double> a(2 * T), b(2 * T), c(2 * T);
  for (std::size_t t = 0; t < T; ++t) {
    a[2 * t] = -0.9 + 0.004 * double(std::min<std::size_t>(t, 200)), a[2 * t + 1] = 0;
    b[2 * t] = 1.0, b[2 * t + 1] = 0.2;
    c[2 * t] = 0.5 - 0.004 * double(t), c[2 * t + 1] = -0.4 + 0.006 * double(t);
  }
  for (auto* v : {&a, &b, &c}) r.paths.push_back(WeightTrajectory::from_rows(*v, 2));
  r.redraws = {0, 7, 0};
  r.skipped = {0, 3, 0};
  ToySgdOptions o;
  const auto w = analyse_walkers(r, o);
  REQUIRE(w.size() == 3);
  CHECK(w[0].trap_step == 188);  // the first snapshot within 0.05 of the end: 0.004 (200 - t) <= 0.05
  CHECK(w[0].trapped);
  CHECK(w[1].trapped);            // still from the start
  CHECK(w[1].trap_step == 0);
  CHECK_FALSE(w[2].trapped);      // moving to the end: only its last steps are near its end
  CHECK(w[2].trap_step == 400);
  CHECK(w[0].before_trap_exponent == Approx(2.0).margin(1e-9));
  CHECK(w[0].from_start_exponent == Approx(2.0).margin(1e-9));
  CHECK_FALSE(w[0].pinned);
  CHECK(w[1].pinned);
  CHECK(w[1].skipped == 3);
  CHECK(w[1].redraws == 7);
  CHECK(std::isnan(w[1].r1_exponent));
  CHECK(w[2].r1_start == 211);  // y > -0.3385 first at t = 11 (-0.334), + 200
  CHECK(w[2].r1_end == 252);    // x < -0.5 first at t = 251: the study's bb:aa includes aa
  CHECK(w[2].r1_exponent == Approx(2.0).margin(1e-9));
  WalkerAnalysisOptions old;
  old.r1_rule = R1Rule::after_start;
  const auto v = analyse_walkers(r, o, old);
  CHECK(v[2].r1_start == 211);
  CHECK(v[2].r1_end == 251);  // anodiff's earlier rule stops before the first x < -0.5
  CHECK(v[2].r1_exponent == Approx(2.0).margin(1e-9));
  CHECK(v[0].trap_step == w[0].trap_step);
  const auto d = exponent_distribution({0.5, 1.5, 2.0, NAN, 1.0});
  CHECK(d.walkers == 4);
  CHECK(d.median == Approx(1.25));
  CHECK(d.share_above_1 == Approx(0.5));
  CHECK(std::isnan(exponent_distribution({}).median));
}

TEST_CASE("toy SGD: the study's R1 rule searches x < -0.5 over the whole path (plot_fig4.m)", "[toy]") {
  // y rises through -0.3385 at t = 11 (bb = 211); x falls steadily and is below -0.5 first at t = 251. Walker 1 also
  // dips below -0.5 at t = 5..8, before the segment's start.
  const std::size_t T = 401;
  std::vector<double> after(2 * T), before(2 * T);
  for (std::size_t t = 0; t < T; ++t) {
    after[2 * t] = 0.5 - 0.004 * double(t), after[2 * t + 1] = -0.4 + 0.006 * double(t);
    before[2 * t] = t >= 5 && t <= 8 ? -0.6 : after[2 * t], before[2 * t + 1] = after[2 * t + 1];
  }
  ToySgdResult r;
  r.paths = {WeightTrajectory::from_rows(after, 2), WeightTrajectory::from_rows(before, 2)};
  r.redraws = {0, 0};
  r.skipped = {0, 0};
  WalkerAnalysisOptions study;
  REQUIRE(study.r1_rule == R1Rule::whole_path);  // the default
  const auto w = analyse_walkers(r, ToySgdOptions{}, study);
  // x drops below -0.5 after the start: the segment is bb:aa = snapshots 211..251, both included.
  CHECK(w[0].r1_start == 211);
  CHECK(w[0].r1_end == 252);
  CHECK(w[0].r1_exponent == Approx(2.0).margin(1e-9));
  // ... before it: aa = 5 < bb = 211 and MATLAB's 211:5 is empty, so no segment.
  CHECK(w[1].r1_start == 0);
  CHECK(w[1].r1_end == 0);
  CHECK(std::isnan(w[1].r1_exponent));
  // anodiff's earlier rule looks for x < -0.5 only from bb on and stops before it: [211, 251) for both.
  WalkerAnalysisOptions old = study;
  old.r1_rule = R1Rule::after_start;
  const auto v = analyse_walkers(r, ToySgdOptions{}, old);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(v[k].r1_start == 211);
    CHECK(v[k].r1_end == 251);
    CHECK(v[k].r1_exponent == Approx(2.0).margin(1e-9));
  }
  // y never above r1_y: find(...) is empty, no segment under either rule.
  study.r1_y = 5;
  old.r1_y = 5;
  CHECK(analyse_walkers(r, ToySgdOptions{}, study)[0].r1_end == 0);
  CHECK(analyse_walkers(r, ToySgdOptions{}, old)[0].r1_end == 0);
  study.r1_rule = static_cast<R1Rule>(7);
  CHECK_THROWS_WITH(analyse_walkers(r, ToySgdOptions{}, study), Catch::Contains("WalkerAnalysisOptions: r1_rule must be whole_path or after_start, got 7"));
}

TEST_CASE("toy SGD: the study_origin rule records the origin for a skipped step and walks on from where it was", "[toy]") {
  // From a corner with large noise some steps fail every draw. With max_redraws 6 (skip) and 5 (study_origin: 1 + 5
  // draws) both rules use the same draws, so the paths agree except at the skipped steps.
  const auto l = Landscape2D::from_heights(cone_surface(65), 65, /*offset=*/0.0);
  ToySgdOptions skip = corner_walker();
  skip.eta = 0.0;
  skip.sigma = 0.5;
  skip.steps = 400;
  skip.max_redraws = 6;
  ToySgdOptions origin = skip;
  origin.boundary = BoundaryRule::study_origin;
  origin.max_redraws = 5;
  const auto a = run_toy_sgd(l, skip), b = run_toy_sgd(l, origin);
  REQUIRE(a.skipped[0] > 0);
  CHECK(b.skipped[0] == a.skipped[0]);
  CHECK(b.redraws[0] == a.redraws[0]);
  std::size_t skipped = 0;
  for (std::size_t t = 1; t <= 400; ++t) {
    const auto p = a.paths[0].snapshot(t), q = b.paths[0].snapshot(t);
    if (p == a.paths[0].snapshot(t - 1)) {  // skipped under the skip rule: the walker stayed
      ++skipped;
      CHECK(q == std::vector<double>{0.0, 0.0});
    } else {
      CHECK(q == p);
    }
  }
  CHECK(skipped == a.skipped[0]);
  // Every draw fails: all steps skipped, 1 + max_redraws draws each, the path at the origin after its start, and the
  // walker's analysis skipped (its last step was skipped).
  origin.eta = 10.0;
  origin.sigma = 1e-6;
  origin.steps = 50;
  const auto c = run_toy_sgd(l, origin);
  CHECK(c.skipped[0] == 50);
  CHECK(c.redraws[0] == 50 * 6);
  REQUIRE(c.ends_skipped.size() == 1);
  CHECK(c.ends_skipped[0] == 1);
  CHECK(c.paths[0].snapshot(0) == std::vector<double>{0.99, 0.99});
  CHECK(c.paths[0].snapshot(50) == std::vector<double>{0.0, 0.0});
  const auto s = analyse_walkers(c, origin);
  CHECK(s[0].unanalysed);
  CHECK(std::isnan(s[0].whole_exponent));
  CHECK(std::isnan(s[0].from_start_exponent));
  CHECK_FALSE(analyse_walkers(a, skip)[0].unanalysed);
}

TEST_CASE("toy SGD: bad parameters are refused with a clear message", "[toy][errors]") {
  const auto l = Landscape2D::from_heights(cone_surface(9), 9);
  ToySgdOptions o;
  o.sigma = -0.1;
  CHECK_THROWS_WITH(run_toy_sgd(l, o), Catch::Contains("ToySgdOptions: sigma must be finite and >= 0, got -0.1"));
  o = {};
  o.eta = -1;
  CHECK_THROWS_WITH(run_toy_sgd(l, o), Catch::Contains("eta must be finite and >= 0"));
  o = {};
  o.fixed_start = true;
  o.start_x = 2;
  CHECK_THROWS_WITH(run_toy_sgd(l, o), Catch::Contains("must lie in [-1, 1]^2, got (2, 0)"));
  o = {};
  o.steps = 0;
  CHECK_THROWS_AS(run_toy_sgd(l, o), std::invalid_argument);
}

namespace {

// Brute force: the Gaussian of (2 radius + 1)^2 taps, normalised to sum 1, replicate padding (indices clamped), at
// every point of z (rows x cols).
std::vector<double> gaussian_reference(const std::vector<double>& z, long rows, long cols, double sigma, long radius) {
  double total = 0;
  for (long di = -radius; di <= radius; ++di) {
    for (long dj = -radius; dj <= radius; ++dj) total += std::exp(-(di * di + dj * dj) / (2 * sigma * sigma));
  }
  std::vector<double> out(z.size());
  for (long i = 0; i < rows; ++i) {
    for (long j = 0; j < cols; ++j) {
      double acc = 0;
      for (long di = -radius; di <= radius; ++di) {
        for (long dj = -radius; dj <= radius; ++dj) {
          const long ii = std::clamp(i + di, 0L, rows - 1), jj = std::clamp(j + dj, 0L, cols - 1);
          acc += std::exp(-(di * di + dj * dj) / (2 * sigma * sigma)) / total * z[ii * cols + jj];
        }
      }
      out[i * cols + j] = acc;
    }
  }
  return out;
}

// A 40 x 37 surface of N(0, 1) heights with mean 0, so that the smoothed shuffle takes both signs.
Surface small_surface() {
  Surface s;
  s.rows = 40, s.cols = 37;
  std::srand(7);
  double mean = 0;
  for (std::size_t k = 0; k < 40 * 37; ++k) {
    double u = 0;
    for (int i = 0; i < 12; ++i) u += double(std::rand()) / RAND_MAX;
    s.z.push_back(u - 6);
    mean += s.z.back() / (40 * 37);
  }
  for (auto& v : s.z) v -= mean;
  return s;
}

// The permutation shuffled_surface draws from `seed` for `surface`'s size: it shuffles the indices 0, 1, ... (no
// filter, power 1, which leaves them exact).
std::vector<std::size_t> permutation_of(const Surface& surface, std::uint64_t seed) {
  Surface index = surface;
  for (std::size_t k = 0; k < index.z.size(); ++k) index.z[k] = double(k);
  const auto shuffled = shuffled_surface(index, 0.0, 1.0, seed, ShuffleRecipe::study);
  std::vector<std::size_t> p;
  for (double v : shuffled.z) p.push_back(std::size_t(v));
  return p;
}

}  // namespace

TEST_CASE("shuffled surface: the study's recipe equals a brute-force imgaussfilt of 33 taps then power 0.7", "[fractal]") {
  const Surface s = small_surface();
  const auto perm = permutation_of(s, 5);
  std::vector<std::size_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t k = 0; k < sorted.size(); ++k) REQUIRE(sorted[k] == k);  // a permutation
  std::vector<double> shuffled;
  for (auto k : perm) shuffled.push_back(s.z[k]);
  // imgaussfilt's default FilterSize 2 ceil(2 sigma) + 1 = 33 taps for sigma 8; then .^0.7, whose complex value for a
  // negative v anodiff replaces by its real part |v|^0.7 cos(0.7 pi).
  const auto smooth = gaussian_reference(shuffled, 40, 37, 8.0, 16);
  const auto r = shuffled_surface(s, 8.0, 0.7, 5);  // the study's recipe is the default
  REQUIRE(r.z.size() == smooth.size());
  std::size_t negative = 0;
  double worst = 0;
  for (std::size_t k = 0; k < smooth.size(); ++k) {
    const double v = smooth[k];
    const double expected = v >= 0 ? std::pow(v, 0.7) : std::pow(-v, 0.7) * std::cos(0.7 * M_PI);
    negative += v < 0;
    worst = std::max(worst, std::fabs(r.z[k] - expected));
  }
  CHECK(worst <= 1e-12);
  CHECK(negative > 0);  // both branches of the power are exercised
  CHECK(negative < smooth.size());
  CHECK(r.rows == 40);
  CHECK(r.cols == 37);
  CHECK(to_string(ShuffleRecipe::study) == std::string("study"));
}

TEST_CASE("shuffled surface: the earlier recipe (4 sigma then rescaled to 0..1) is unchanged", "[fractal]") {
  const Surface s = small_surface();
  const auto perm = permutation_of(s, 5);
  std::vector<double> shuffled;
  for (auto k : perm) shuffled.push_back(s.z[k]);
  const auto smooth = gaussian_reference(shuffled, 40, 37, 3.0, 12);  // radius ceil(4 sigma)
  const auto [lo, hi] = std::minmax_element(smooth.begin(), smooth.end());
  const auto r = shuffled_surface(s, 3.0, 0.7, 5, ShuffleRecipe::rescaled);
  double worst = 0;
  for (std::size_t k = 0; k < smooth.size(); ++k) {
    worst = std::max(worst, std::fabs(r.z[k] - std::pow((smooth[k] - *lo) / (*hi - *lo), 0.7)));
  }
  CHECK(worst <= 1e-12);
  const auto d = shuffled_surface(diamond_square(7, 3.0, 1), 8.0, 0.7, 2, ShuffleRecipe::rescaled);
  CHECK(*std::min_element(d.z.begin(), d.z.end()) == 0.0);
  CHECK(*std::max_element(d.z.begin(), d.z.end()) == Approx(1.0));
  CHECK_THROWS_AS(shuffled_surface(s, -1.0), std::invalid_argument);
  CHECK_THROWS_WITH(shuffled_surface(s, 8.0, 0.7, 0, static_cast<ShuffleRecipe>(9)), Catch::Contains("unknown recipe"));
}
