#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "anodiff/io/csv.hpp"
#include "anodiff/landscape/landscape_2d.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/toy/simplified_model.hpp"
#include "test_helpers.hpp"

using namespace anodiff;

namespace {

// A run small enough for a unit test: three landscapes of 33^2 heights, 4 walkers of 120 steps on a 65^2 grid.
SimplifiedModelOptions tiny() {
  SimplifiedModelOptions o;
  o.n = 5;
  o.grid = 65;
  o.sgd.steps = 120;
  o.sgd.repeats = 4;
  o.sgd.seed = 3;
  return o;
}

// tiny() with anodiff's earlier choices: one landscape for all walkers, the rescaled shuffle, R1 after its start.
SimplifiedModelOptions tiny_earlier() {
  SimplifiedModelOptions o = tiny();
  o.draw = LandscapeDraw::shared;
  o.shuffle = ShuffleRecipe::rescaled;
  o.analysis.r1_rule = R1Rule::after_start;
  return o;
}

// Equal element by element, NaN equal to NaN.
bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  }
  return true;
}
bool same(double a, double b) { return same(std::vector<double>{a}, std::vector<double>{b}); }

}  // namespace

TEST_CASE("simplified model: the earlier options give the earlier results (the direct calls)", "[simplified][toy]") {
  auto options = tiny_earlier();
  std::vector<std::string> lines;
  options.log = [&](const std::string& line) { lines.push_back(line); };
  const auto result = run_simplified_model(options);
  REQUIRE(result.landscapes.size() == 3);
  CHECK(!result.options.log);
  CHECK(result.options.grid == 65);
  const Surface fractal = diamond_square(5, 3.0, 3);
  const std::vector<Surface> heights = {fractal, cone_surface(33),
                                        shuffled_surface(fractal, 8.0, 0.7, 4, ShuffleRecipe::rescaled)};
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& r = result.landscapes[k];
    CHECK(r.kind == options.landscapes[k]);
    CHECK(r.heights.z == heights[k].z);
    CHECK(r.landscape_index == std::vector<std::size_t>(4, 0));
    const auto landscape = Landscape2D::from_heights(heights[k], 65);
    CHECK(r.loss.z == landscape.surface().z);
    const auto walks = run_toy_sgd(landscape, options.sgd);
    REQUIRE(r.walks.paths.size() == 4);
    REQUIRE(r.walker_msd.size() == 4);
    REQUIRE(r.walker_beta.size() == 4);
    std::size_t positive_steps = 0;
    for (std::size_t w = 0; w < 4; ++w) {
      REQUIRE(r.walks.paths[w].size() == 121);
      for (std::size_t t = 0; t <= 120; t += 20) CHECK(r.walks.paths[w].snapshot(t) == walks.paths[w].snapshot(t));
      const auto curve = msd(walks.paths[w]).front();
      CHECK(r.walker_msd[w].msd == curve.msd);
      CHECK(same(r.walker_beta[w].beta, local_exponent(curve, 20).beta));
      for (std::size_t t = 1; t <= 120; ++t) {
        const auto p = walks.paths[w].snapshot(t), q = walks.paths[w].snapshot(t - 1);
        positive_steps += std::hypot(p[0] - q[0], p[1] - q[1]) > 0;
      }
    }
    // The mean MSD over walkers is ensemble_msd of the paths, and the fits are those of its curves.
    const auto ensemble = ensemble_msd(walks.paths).front();
    CHECK(r.ensemble.time_averaged_msd == ensemble.time_averaged_msd);
    CHECK(r.ensemble.ensemble_msd == ensemble.ensemble_msd);
    const std::vector<double> lags(ensemble.lag.begin(), ensemble.lag.end());
    const auto fit = fit_crossover(lags, ensemble.time_averaged_msd);
    CHECK(same(r.fit.early_exponent, fit.early_exponent));
    CHECK(same(r.fit.crossover, fit.crossover));
    CHECK(same(r.from_start.late_exponent, fit_crossover(lags, ensemble.ensemble_msd).late_exponent));
    CHECK(same(r.short_lags.exponent, fit_power_law(lags, ensemble.time_averaged_msd, 1, 20).exponent));
    CHECK(same(r.hurst.hurst, hurst_exponent(structure_function(landscape.surface(), 2, 16), 1, 16).hurst));
    // The walkers one by one, and the distribution of each measure over them.
    const auto walkers = analyse_walkers(walks, options.sgd, options.analysis);
    REQUIRE(r.walkers.size() == 4);
    std::size_t pinned = 0, skipped = 0;
    for (std::size_t w = 0; w < 4; ++w) {
      CHECK(same(r.walkers[w].whole_exponent, walkers[w].whole_exponent));
      CHECK(r.walkers[w].trap_step == walkers[w].trap_step);
      pinned += walkers[w].pinned;
      skipped += walkers[w].skipped;
    }
    CHECK(r.pinned_walkers == pinned);
    CHECK(r.skipped_steps == skipped);
    CHECK(r.skipped_share == double(skipped) / 480.0);
    for (const auto m : kWalkerMeasures) {
      std::vector<double> values;
      for (const auto& w : walkers) values.push_back(walker_exponent(w, m));
      const auto e = exponent_distribution(values);
      CHECK(r.exponent(m).walkers == e.walkers);
      CHECK(same(r.exponent(m).median, e.median));
    }
    // The step-length histogram counts every positive step once; the density integrates to that share.
    const auto& h = r.step_lengths;
    CHECK(h.steps == 480);
    REQUIRE(h.count.size() == 30);
    std::size_t counted = 0;
    double mass = 0;
    for (std::size_t b = 0; b < 30; ++b) {
      CHECK(h.lo[b] < h.hi[b]);
      counted += h.count[b];
      mass += h.density[b] * (h.hi[b] - h.lo[b]);
    }
    CHECK(counted == positive_steps);
    CHECK(mass == Approx(double(positive_steps) / 480.0));
  }
  // The numbers of anodiff before the pool, the study's shuffle and R1 rule (commit 01edddc, this build's compiler).
  const double before[3][3] = {{-0.16131464762985132, 0.75766857787721564, -0.7453471689633171},
                               {0.65483246821289809, 0.0029866747496468723, -0.0021049124961822498},
                               {0.59105833050675716, 0.41741452446450172, -0.38198167027260294}};
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& r = result.landscapes[k];
    CHECK(r.heights.z[500] == Approx(before[k][0]).epsilon(1e-12));
    CHECK(r.walks.paths[1].snapshot(120)[0] == Approx(before[k][1]).epsilon(1e-9));
    CHECK(r.walks.paths[1].snapshot(120)[1] == Approx(before[k][2]).epsilon(1e-9));
  }
  // Progress through the LogSink, nothing else.
  REQUIRE(!lines.empty());
  CHECK(lines.front().find("simplified model (fractal)") != std::string::npos);
}

TEST_CASE("simplified model: each walker runs on a landscape drawn from a seeded pool (the study's land_ind)",
          "[simplified][toy]") {
  auto options = tiny();
  REQUIRE(options.draw == LandscapeDraw::pool);  // the defaults: the study's choices
  REQUIRE(options.shuffle == ShuffleRecipe::study);
  REQUIRE(options.analysis.r1_rule == R1Rule::whole_path);
  REQUIRE(options.pool_size == 10);
  options.sgd.repeats = 100;
  options.sgd.steps = 40;
  options.grid = 33;
  const auto result = run_simplified_model(options);
  const auto again = run_simplified_model(options);
  const auto draw = pool_draw(options);
  REQUIRE(draw.size() == 100);
  std::vector<std::size_t> used;
  for (auto i : draw) {
    CHECK(i < 10);
    if (std::find(used.begin(), used.end(), i) == used.end()) used.push_back(i);
  }
  CHECK(used.size() > 1);  // more than one landscape over 100 walkers
  auto other = options;
  other.sgd.seed = 4;
  CHECK(pool_draw(other) != draw);  // seeded: another seed, another draw
  CHECK(pool_landscape(options, 0).z != pool_landscape(options, 1).z);
  CHECK(pool_landscape(options, 1).z == pool_landscape(options, 1).z);
  CHECK(pool_landscape(options, 1).z != pool_landscape(other, 1).z);
  REQUIRE(result.landscapes.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& r = result.landscapes[k];
    INFO(to_string(r.kind));
    const bool cone = r.kind == LandscapeKind::convex;
    CHECK(r.landscape_index == (cone ? std::vector<std::size_t>(100, 0) : draw));
    CHECK(again.landscapes[k].landscape_index == r.landscape_index);  // reproducible
    // Walker 0's heights are stored; every walker ran on its own draw, as walker w of run_toy_sgd on that landscape.
    CHECK(r.heights.z == walker_heights(r.kind, options, r.landscape_index[0], 0).z);
    for (std::size_t w = 0; w < 100; w += 7) {
      const auto heights = walker_heights(r.kind, options, r.landscape_index[w], w);
      if (r.kind == LandscapeKind::fractal) CHECK(heights.z == pool_landscape(options, draw[w]).z);
      const auto alone = run_toy_sgd(Landscape2D::from_heights(heights, 33), options.sgd, {w});
      CHECK(r.walks.paths[w].snapshot(40) == alone.paths[0].snapshot(40));
      CHECK(r.walks.paths[w].snapshot(40) == again.landscapes[k].walks.paths[w].snapshot(40));
    }
  }
  // The shuffled control shuffles each walker's draw with the walker's own permutation (the study shuffles inside its
  // loop over walkers), by the study's recipe.
  std::size_t a = 0, b = 1;
  while (draw[b] != draw[a]) ++b;
  CHECK(walker_heights(LandscapeKind::random, options, draw[a], a).z !=
        walker_heights(LandscapeKind::random, options, draw[b], b).z);
  auto shared_random = options;  // one shuffle (seed + 1) of one landscape (seed) for all walkers
  shared_random.draw = LandscapeDraw::shared;
  CHECK(walker_heights(LandscapeKind::random, shared_random, 0, 5).z ==
        shuffled_surface(diamond_square(5, 3.0, 3), 8.0, 0.7, 4, ShuffleRecipe::study).z);
  // walkers.csv records the draw.
  test::TempDir dir;
  write_simplified_model(result, dir.path, {false, {}});
  const auto walkers = CsvTable::read(dir / "fractal" / "walkers.csv");
  REQUIRE(walkers.rows() == 100);
  for (std::size_t w = 0; w < 100; ++w) CHECK(walkers.text(w, "landscape") == std::to_string(draw[w]));
  // One landscape for all walkers: LandscapeDraw::shared.
  auto shared = options;
  shared.draw = LandscapeDraw::shared;
  CHECK(pool_draw(shared) == std::vector<std::size_t>(100, 0));
  CHECK(pool_landscape(shared, 7).z == diamond_square(5, 3.0, 3).z);
}

TEST_CASE("simplified model: validate() refuses each bad value before any work", "[simplified][errors]") {
  CHECK_NOTHROW(tiny().validate());
  CHECK_NOTHROW(SimplifiedModelOptions{}.validate());
  struct Bad {
    const char* message;
    void (*spoil)(SimplifiedModelOptions&);
  };
  const Bad bad[] = {
      {"landscapes must name at least one", [](SimplifiedModelOptions& o) { o.landscapes.clear(); }},
      {"landscapes lists convex twice",
       [](SimplifiedModelOptions& o) { o.landscapes = {LandscapeKind::convex, LandscapeKind::convex}; }},
      {"sgd.eta must be finite and >= 0, got -1", [](SimplifiedModelOptions& o) { o.sgd.eta = -1; }},
      {"sgd.eta must be finite and >= 0, got nan",
       [](SimplifiedModelOptions& o) { o.sgd.eta = std::numeric_limits<double>::quiet_NaN(); }},
      {"sgd.sigma must be finite and >= 0, got -0.5", [](SimplifiedModelOptions& o) { o.sgd.sigma = -0.5; }},
      {"sgd.steps must be at least 1, got 0", [](SimplifiedModelOptions& o) { o.sgd.steps = 0; }},
      {"sgd.repeats must be at least 2", [](SimplifiedModelOptions& o) { o.sgd.repeats = 1; }},
      {"must lie in [-1, 1]^2, got (2, 0)",
       [](SimplifiedModelOptions& o) { o.sgd.fixed_start = true, o.sgd.start_x = 2; }},
      {"needs 1 <= lo < hi, got 0.5:20", [](SimplifiedModelOptions& o) { o.analysis.band_lo = 0.5; }},
      {"needs 1 <= lo < hi, got 20:20", [](SimplifiedModelOptions& o) { o.analysis.band_lo = 20; }},
      {"analysis.trap_radius must be positive, got 0", [](SimplifiedModelOptions& o) { o.analysis.trap_radius = 0; }},
      {"analysis.pin_sigmas must be finite and >= 0, got -1",
       [](SimplifiedModelOptions& o) { o.analysis.pin_sigmas = -1; }},
      {"analysis.r1_x and analysis.r1_y must be finite",
       [](SimplifiedModelOptions& o) { o.analysis.r1_x = std::numeric_limits<double>::infinity(); }},
      {"n must lie in 1..13, got 0", [](SimplifiedModelOptions& o) { o.n = 0; }},
      {"n must lie in 1..13, got 20", [](SimplifiedModelOptions& o) { o.n = 20; }},
      {"grid must be at least 3, got 2", [](SimplifiedModelOptions& o) { o.grid = 2; }},
      {"window must be at least 1, got 0", [](SimplifiedModelOptions& o) { o.window = 0; }},
      {"histogram_bins must be at least 1, got 0", [](SimplifiedModelOptions& o) { o.histogram_bins = 0; }},
      {"draw must be pool or shared, got 5", [](SimplifiedModelOptions& o) { o.draw = static_cast<LandscapeDraw>(5); }},
      {"pool_size must lie in 1..100000, got 0", [](SimplifiedModelOptions& o) { o.pool_size = 0; }},
      {"pool_size must lie in 1..100000, got 100001", [](SimplifiedModelOptions& o) { o.pool_size = 100001; }},
      {"shuffle must be study or rescaled, got 2",
       [](SimplifiedModelOptions& o) { o.shuffle = static_cast<ShuffleRecipe>(2); }},
      {"sgd.boundary must be skip, redraw or study_origin, got 3",
       [](SimplifiedModelOptions& o) { o.sgd.boundary = static_cast<BoundaryRule>(3); }},
      {"analysis.r1_rule must be whole_path or after_start, got 4",
       [](SimplifiedModelOptions& o) { o.analysis.r1_rule = static_cast<R1Rule>(4); }},
  };
  for (const auto& b : bad) {
    INFO(b.message);
    auto o = tiny();
    b.spoil(o);
    CHECK_THROWS_AS(o.validate(), std::invalid_argument);
    CHECK_THROWS_WITH(o.validate(), Catch::StartsWith("SimplifiedModelOptions: ") && Catch::Contains(b.message));
    // run_simplified_model refuses too, before building a landscape (which would log "landscape built").
    std::size_t logged = 0;
    o.log = [&](const std::string&) { ++logged; };
    CHECK_THROWS_WITH(run_simplified_model(o), Catch::Contains(b.message));
    CHECK(logged == 0);
  }
}

TEST_CASE("simplified model: write_simplified_model writes every file, simplified_model_table both tables",
          "[simplified]") {
  namespace fs = std::filesystem;
  auto options = tiny();
  options.landscapes = {LandscapeKind::fractal, LandscapeKind::random};
  const auto result = run_simplified_model(options);
  test::TempDir dir;
  write_simplified_model(result, dir.path, {false, {}});
  CHECK(!fs::exists(dir / "convex"));
  CHECK(!fs::exists(dir / "walker_exponents.png"));
  for (const char* kind : {"fractal", "random"}) {
    INFO(kind);
    const fs::path d = dir / kind;
    for (const char* file : {"heights.npy", "landscape.csv", "paths.csv", "msd.csv", "local_exponent.csv",
                             "walkers.csv", "msd_mean.csv", "fit.csv", "step_length_histogram.csv"}) {
      CHECK(fs::exists(d / file));
    }
    CHECK(!fs::exists(d / "msd.png"));
    CHECK(CsvTable::read(d / "paths.csv").rows() == 4 * 121);
    CHECK(CsvTable::read(d / "msd.csv").rows() == 4 * 120);
    CHECK(CsvTable::read(d / "walkers.csv").rows() == 4);
    CHECK(CsvTable::read(d / "step_length_histogram.csv").rows() == 30);
    const auto fit = CsvTable::read(d / "fit.csv");
    REQUIRE(fit.rows() == 1);
    CHECK(fit.text(0, "landscape") == kind);
    const auto mean = CsvTable::read(d / "msd_mean.csv");
    const auto& r = result.landscapes[std::string(kind) == "fractal" ? 0 : 1];
    REQUIRE(mean.rows() == r.ensemble.lag.size());
    CHECK(mean.text(7, "time_averaged_msd") == csv_number(r.ensemble.time_averaged_msd[7]));
  }
  const auto w = CsvTable::read(dir / "walker_exponents.csv");
  REQUIRE(w.rows() == 2 * kWalkerMeasures.size());
  CHECK(w.text(0, "landscape") == "fractal");
  CHECK(w.text(0, "measure") == "whole_path");
  CHECK(w.text(7, "landscape") == "random");
  CHECK(w.text(7, "measure") == "study_r1_segment");
  CHECK(w.text(1, "walkers") == std::to_string(result.landscapes[0].exponent(WalkerMeasure::before_trapping).walkers));

  const std::string table = simplified_model_table(result);
  CHECK(table.find("two-regime fits") != std::string::npos);
  CHECK(table.find("per walker, exponent of the MSD over lags 1-20") != std::string::npos);
  CHECK(table.find("\nfractal ") != std::string::npos);
  CHECK(table.find("\nrandom ") != std::string::npos);
  CHECK(table.find("\nconvex ") == std::string::npos);
}
