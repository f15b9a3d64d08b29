#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <cmath>
#include <limits>

#include "anodiff/base/error.hpp"
#include "anodiff/analysis/msd.hpp"
#include "anodiff/trajectory/trajectory_writer.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "detail/npy.hpp"
#include "test_helpers.hpp"

using namespace anodiff;
using anodiff::test::TempDir;
namespace fs = std::filesystem;

namespace {
std::vector<double> row_of(std::size_t t, std::size_t D) {
  std::vector<double> w(D);
  for (std::size_t j = 0; j < D; ++j) w[j] = static_cast<double>(t * 100 + j);
  return w;
}

void write_run(const fs::path& dir, std::size_t epochs, std::size_t steps_per_epoch, std::size_t D) {
  TrajectoryWriter w(dir, D);
  std::size_t t = w.size();
  for (std::size_t e = 0; e < epochs; ++e) {
    for (std::size_t s = 0; s < steps_per_epoch; ++s, ++t) {
      const auto row = row_of(t, D);
      const std::vector<float> f(row.begin(), row.end());
      w.append(f.data(), {double(t), double(e), t == 0 ? std::nan("") : 1.0 / double(t)});
    }
    w.commit();
  }
}

long max_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}
}  // namespace

TEST_CASE("trajectory directory: chunks and steps.csv round-trip", "[trajectory]") {
  TempDir dir;
  write_run(dir.path, 3, 4, 5);
  const auto t = WeightTrajectory::load(dir.path);
  REQUIRE(t.size() == 12);
  REQUIRE(t.dimension() == 5);
  for (std::size_t s = 0; s < 12; ++s) CHECK(t.snapshot(s) == row_of(s, 5));
  const auto loss = t.loss();
  REQUIRE(loss.size() == 12);
  CHECK(std::isnan(loss[0]));  // snapshot 0 has no loss
  CHECK(loss[4] == Approx(0.25));
  CHECK((*t.steps().column("epoch"))[11] == 2);
  // A block read across chunk boundaries.
  std::vector<double> block(6 * 2);
  t.read(3, 6, 2, 2, block.data());
  CHECK(block[0] == 302);
  CHECK(block[11] == 803);
}

TEST_CASE("trajectory writer: a killed run leaves only complete chunks and resumes", "[trajectory]") {
  TempDir dir;
  write_run(dir.path, 2, 3, 4);
  // A chunk that was being written when the process died, and rows of steps.csv written for it.
  test::write_bytes(dir / "chunk_000002.npy.tmp", "partial garbage");
  {
    std::ofstream csv(dir / "steps.csv", std::ios::app);
    csv << "6,2,0.1\n7,2,0.1\n";
  }
  auto t = WeightTrajectory::load(dir.path);
  CHECK(t.size() == 6);
  CHECK(t.loss().size() == 6);
  // Reopening for writing cleans the temporary file and continues at snapshot 6.
  write_run(dir.path, 1, 3, 4);
  CHECK_FALSE(fs::exists(dir / "chunk_000002.npy.tmp"));
  t = WeightTrajectory::load(dir.path);
  REQUIRE(t.size() == 9);
  CHECK(t.snapshot(8) == row_of(8, 4));
  CHECK((*t.steps().column("step"))[8] == 8);
  // Truncating to a chunk boundary (resume from an earlier checkpoint).
  {
    TrajectoryWriter w(dir.path, 4);
    CHECK_THROWS_AS(w.truncate(4), std::invalid_argument);
    w.truncate(3);
  }
  CHECK(WeightTrajectory::load(dir.path).size() == 3);
}

TEST_CASE("trajectory: errors name the file, the expectation and the finding", "[trajectory][errors]") {
  TempDir dir;
  SECTION("a chunk whose D differs") {
    const std::vector<float> a(2 * 3, 1.f), b(2 * 4, 1.f);
    detail::npy_write(dir / "chunk_000000.npy", detail::NpyType::float32, {2, 3}, a.data());
    detail::npy_write(dir / "chunk_000001.npy", detail::NpyType::float32, {2, 4}, b.data());
    try {
      WeightTrajectory::load(dir.path);
      FAIL("no error");
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Contains("chunk_000001.npy") && Catch::Contains("expected 3") &&
                               Catch::Contains("found 4"));
    }
    CHECK_THROWS_AS(TrajectoryWriter(dir.path, 3), InputError);
  }
  SECTION("NaN and Inf in the data, with the step") {
    std::vector<float> v(5 * 3, 0.5f);
    v[3 * 3 + 1] = std::numeric_limits<float>::quiet_NaN();
    detail::npy_write(dir / "nan.npy", detail::NpyType::float32, {5, 3}, v.data());
    const auto t = WeightTrajectory::load(dir / "nan.npy");
    try {
      (void)msd(t);
      FAIL("no error");
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Contains("nan.npy") && Catch::Contains("snapshot 3") && Catch::Contains("finite"));
    }
    std::vector<double> d(4 * 2, 1.0);
    d[5] = std::numeric_limits<double>::infinity();
    detail::npy_write(dir / "inf.npy", detail::NpyType::float64, {4, 2}, d.data());
    CHECK_THROWS_WITH(msd(WeightTrajectory::load(dir / "inf.npy")), Catch::Contains("snapshot 2"));
  }
  SECTION("an empty directory and steps.csv with too few rows") {
    CHECK_THROWS_WITH(WeightTrajectory::load(dir.path), Catch::Contains("chunk_NNNNNN.npy"));
    write_run(dir.path, 1, 4, 2);
    test::write_bytes(dir / "steps.csv", "step,epoch,loss\n0,0,\n1,0,1\n");
    CHECK_THROWS_WITH(WeightTrajectory::load(dir.path),
                      Catch::Contains("steps.csv") && Catch::Contains("at least 4") && Catch::Contains("found 2"));
    test::write_bytes(dir / "steps.csv", "step,epoch,loss\n0,0,\n1,0,x\n2,0,1\n3,0,1\n");
    CHECK_THROWS_WITH(WeightTrajectory::load(dir.path), Catch::Contains("steps.csv:3") && Catch::Contains("'x'"));
  }
  SECTION("fewer snapshots than an analysis needs") {
    const auto t = WeightTrajectory::from_rows(std::vector<float>{1, 2}, 2);
    CHECK_THROWS_WITH(msd(t), Catch::Contains("at least 2 snapshots") && Catch::Contains("has 1"));
    const auto u = WeightTrajectory::from_rows(std::vector<float>(10 * 2, 1.f), 2);
    MsdOptions o;
    o.part_length = 11;
    CHECK_THROWS_AS(msd(u, o), std::invalid_argument);
  }
  SECTION("a loss series of the wrong length") {
    std::vector<double> l(3, 1.0);
    detail::npy_write(dir / "loss.npy", detail::NpyType::float64, {3}, l.data());
    auto t = WeightTrajectory::from_rows(std::vector<float>(4 * 2, 1.f), 2);
    CHECK_THROWS_WITH(t.set_loss(load_series(dir / "loss.npy"), dir / "loss.npy"),
                      Catch::Contains("loss.npy") && Catch::Contains("expected 4") && Catch::Contains("found 3"));
  }
}

TEST_CASE("trajectory: loading is memory-mapped, not read into RAM", "[trajectory]") {
  TempDir dir;
  const std::size_t T = 64, D = 1 << 20;  // 256 MiB of float32
  {  // written row by row, so that this process never holds the whole array
    std::ofstream out(dir / "big.npy", std::ios::binary);
    const std::string header = detail::npy_header(detail::NpyType::float32, {T, D});
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    const std::vector<float> row(D, 0.25f);
    for (std::size_t t = 0; t < T; ++t) out.write(reinterpret_cast<const char*>(row.data()), D * sizeof(float));
  }
  const long before = max_rss_kb();
  const auto t = WeightTrajectory::load(dir / "big.npy");
  std::vector<double> one(8);
  t.read(T - 1, 1, D - 8, 8, one.data());
  CHECK(one[7] == 0.25);
  CHECK(max_rss_kb() - before < 16 * 1024);  // well below the 256 MiB of the file
}

TEST_CASE("trajectory: a slice shares data and keeps per-step columns aligned", "[trajectory]") {
  TempDir dir;
  write_run(dir.path, 2, 5, 3);
  const auto t = WeightTrajectory::load(dir.path).slice(4, 4);
  REQUIRE(t.size() == 4);
  CHECK(t.snapshot(0) == row_of(4, 3));
  CHECK(t.loss()[0] == Approx(0.25));
  CHECK_THROWS_AS(t.slice(2, 3), std::out_of_range);
}

TEST_CASE("WeightTrajectory: temporary files beside the chunks are never read as chunks", "[trajectory]") {
  TempDir dir;
  write_run(dir.path, 2, 3, 4);
  // What a killed writer leaves: this library's temporary name and the one numpy's np.save makes of "x.tmp".
  std::filesystem::copy_file(dir / "chunk_000001.npy", dir / "chunk_000002.npy.1234.tmp");
  std::filesystem::copy_file(dir / "chunk_000001.npy", dir / "chunk_000002.npy.tmp.npy");
  std::filesystem::copy_file(dir / "chunk_000001.npy", dir / "chunk_backup.npy");
  CHECK(WeightTrajectory::load(dir.path).size() == 6);
}
