// One convention per concern (docs/architecture.md, "Conventions"): every options struct's validate() refuses a bad
// value naming its owner, the field (with the path a parent gives it) and the value; one Shard type; the library's
// parts of the programs (load_shard_columns, describe_run with the flags' values).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "anodiff/analysis/claims.hpp"
#include "anodiff/analysis/fit.hpp"
#include "anodiff/analysis/follow.hpp"
#include "anodiff/analysis/msd.hpp"
#include "anodiff/analysis/pair_statistics.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/base/error.hpp"
#include "anodiff/spectrum/spectrum.hpp"
#include "anodiff/toy/simplified_model.hpp"
#include "anodiff/toy/toy_sgd.hpp"
#include "anodiff/trajectory/shard_reduction.hpp"
#include "anodiff/trajectory/synthetic.hpp"
#include "test_helpers.hpp"

using namespace anodiff;

namespace {

// Every default validates; each spoiled copy throws std::invalid_argument whose message is exactly `message`.
template <typename Options>
void refused(const std::function<void(Options&)>& spoil, const std::string& message) {
  INFO(message);
  Options o;
  CHECK_NOTHROW(o.validate());
  spoil(o);
  CHECK_THROWS_AS(o.validate(), std::invalid_argument);
  CHECK_THROWS_WITH(o.validate(), message);
}

}  // namespace

TEST_CASE("options: require() throws OWNER: MESSAGE, and only when the condition fails", "[options]") {
  CHECK_NOTHROW(require(true, "Owner", "never seen"));
  CHECK_THROWS_AS(require(false, "Owner", "x must be positive, got 0"), std::invalid_argument);
  CHECK_THROWS_WITH(require(false, "Owner", "x must be positive, got 0"), "Owner: x must be positive, got 0");
}

TEST_CASE("options: every validate() names its owner, the field and the value", "[options]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  refused<CrossoverOptions>([](auto& o) { o.min_lag = 0; }, "CrossoverOptions: min_lag must be at least 1, got 0");
  refused<CrossoverOptions>([](auto& o) { o.max_lag = -2; },
                            "CrossoverOptions: max_lag must be 0 (automatic) or positive, got -2");
  refused<CrossoverOptions>([](auto& o) { o.max_lag_fraction = 1.5; },
                            "CrossoverOptions: max_lag_fraction must lie in (0, 1], got 1.5");
  refused<CrossoverOptions>([](auto& o) { o.points_per_decade = 0; },
                            "CrossoverOptions: points_per_decade must be at least 1, got 0");
  refused<CrossoverOptions>([nan](auto& o) { o.min_exponent_change = nan; },
                            "CrossoverOptions: min_exponent_change must be finite and >= 0, got nan");
  refused<FollowOptions>([](auto& o) { o.poll_seconds = 0; }, "FollowOptions: poll_seconds must be positive, got 0");
  refused<FollowOptions>([](auto& o) { o.write_seconds = -1; }, "FollowOptions: write_seconds must be positive, got -1");
  refused<FollowOptions>([](auto& o) { o.idle_seconds = -3; },
                         "FollowOptions: idle_seconds must be finite and >= 0, got -3");
  refused<MsdOptions>([](auto& o) { o.method = static_cast<MsdMethod>(7); },
                      "MsdOptions: method must be automatic, pairs or fft, got 7");
  refused<PairStatisticsOptions>([](auto& o) { o.msl_bins = 0; }, "PairStatisticsOptions: msl_bins must be at least 1, got 0");
  refused<EigenOptions>([](auto& o) { o.k = 0; }, "EigenOptions: k must be >= 1, got 0");
  refused<EigenOptions>([](auto& o) { o.ncv = 20; }, "EigenOptions: ncv must be 0 (automatic) or > k = 20, got 20");
  refused<EigenOptions>([](auto& o) { o.tolerance = 0; }, "EigenOptions: tolerance must be positive, got 0");
  refused<EigenOptions>([](auto& o) { o.end = static_cast<SpectrumEnd>(4); },
                        "EigenOptions: end must be largest or smallest, got 4");
  refused<ToySgdOptions>([](auto& o) { o.eta = -1; }, "ToySgdOptions: eta must be finite and >= 0, got -1");
  refused<ToySgdOptions>([](auto& o) { o.repeats = 0; }, "ToySgdOptions: repeats must be at least 1, got 0");
  refused<ToySgdOptions>([](auto& o) { o.fixed_start = true, o.start_y = -3; },
                         "ToySgdOptions: the fixed start (start_x, start_y) must lie in [-1, 1]^2, got (0, -3)");
  refused<WalkerAnalysisOptions>([](auto& o) { o.band_hi = 1; },
                                 "WalkerAnalysisOptions: the band (band_lo, band_hi) needs 1 <= lo < hi, got 1:1");
  refused<WalkerAnalysisOptions>([](auto& o) { o.trap_radius = 0; },
                                 "WalkerAnalysisOptions: trap_radius must be positive, got 0");
}

TEST_CASE("options: a parent calls its children's validate() with the path to them", "[options]") {
  PostAnalysisOptions post;
  post.fit.min_lag = 0.5;
  CHECK_THROWS_WITH(post.validate(100), "PostAnalysisOptions: fit.min_lag must be at least 1, got 0.5");
  SimplifiedModelOptions model;
  model.analysis.pin_sigmas = -1;
  CHECK_THROWS_WITH(model.validate(), "SimplifiedModelOptions: analysis.pin_sigmas must be finite and >= 0, got -1");
  // The functions that take the options check them too, before any work.
  EigenOptions eigen;
  eigen.tolerance = -1;
  DenseSymmetricOperator op(Eigen::MatrixXd::Identity(4, 4));
  CHECK_THROWS_WITH((void)extreme_eigenpairs(op, eigen),
                    "extreme_eigenpairs: EigenOptions: tolerance must be positive, got -1");
  MsdOptions msd_options;
  msd_options.method = static_cast<MsdMethod>(9);
  CHECK_THROWS_WITH((void)msd(synthetic::brownian(10, 3, 1.0, 1), msd_options),
                    "msd: MsdOptions: method must be automatic, pairs or fft, got 9");
}

TEST_CASE("options: one Shard type, refused outside its count", "[options][shards]") {
  CHECK_NOTHROW(Shard{}.validate());
  CHECK_NOTHROW(Shard{2, 3}.validate());
  CHECK_THROWS_WITH((Shard{3, 3}.validate("LandscapeOptions")), "LandscapeOptions: shard 3 of 3: expected 0 <= index < count");
  CHECK_THROWS_AS((Shard{0, 0}.validate()), std::invalid_argument);
  // Three shards of 10 columns: 4, 3, 3, contiguous.
  CHECK(shard_columns(10, {0, 3}) == std::pair<std::size_t, std::size_t>{0, 4});
  CHECK(shard_columns(10, {1, 3}) == std::pair<std::size_t, std::size_t>{4, 3});
  CHECK(shard_columns(10, {2, 3}) == std::pair<std::size_t, std::size_t>{7, 3});
}

TEST_CASE("load_shard_columns: an MPI rank's columns of a whole trajectory", "[options][shards]") {
  test::TempDir dir;
  synthetic::write_trajectory(synthetic::brownian(30, 11, 0.5, 3), dir.path / "t");
  const auto whole = WeightTrajectory::load(dir.path / "t");
  std::vector<std::string> lines;
  const auto mine = load_shard_columns(dir.path / "t", {1, 3}, [&](const std::string& l) { lines.push_back(l); });
  const auto [first, count] = shard_columns(11, {1, 3});
  REQUIRE(mine.size() == 30);
  REQUIRE(mine.dimension() == count);
  CHECK(mine.column_offset() == first);
  for (std::size_t t = 0; t < 30; t += 7) {
    const auto row = mine.snapshot(t), full = whole.snapshot(t);
    REQUIRE(row.size() == count);
    for (std::size_t c = 0; c < count; ++c) CHECK(row[c] == full[first + c]);
  }
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "3 ranks, each a column range of about 4 parameters");
  const Shard too_many{0, 12}, outside{12, 12};
  CHECK_THROWS_WITH(load_shard_columns(dir.path / "t", too_many),
                    Catch::Contains("11 parameters cannot be split among 12 ranks"));
  CHECK_THROWS_AS(load_shard_columns(dir.path / "t", outside), std::invalid_argument);
}

TEST_CASE("describe_run: the flags' model, batch and lr over the run's config.txt", "[options][claims]") {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path / "run" / "trajectory");
  std::ofstream(dir.path / "run" / "config.txt") << "model = resnet14\nbatch_size = 128\nlr = 0.1\n";
  const auto traj = dir.path / "run" / "trajectory";
  CHECK(describe_run(traj, 40).label == "resnet14, batch 128, lr 0.1, 40 steps");
  CHECK(describe_run(traj, 40, RunDescription{}).label == "resnet14, batch 128, lr 0.1, 40 steps");
  RunDescription known;
  known.lr = 0.05;
  const auto d = describe_run(traj, 40, known);
  CHECK(d.model == "resnet14");
  CHECK(d.batch_size == 128);
  CHECK(d.lr == 0.05);
  CHECK(d.label == "resnet14, batch 128, lr 0.05, 40 steps");
  known.model = "vgg9";
  known.batch_size = 1024;
  CHECK(describe_run(dir.path / "elsewhere", 7, known).label == "vgg9, batch 1024, lr 0.05, 7 steps");
}
