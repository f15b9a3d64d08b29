// Faults while writing: a file-size limit (RLIMIT_FSIZE, as `ulimit -f`; a full disk fails the same write() with
// ENOSPC instead of EFBIG), a vanished folder. Each write fails with an IoError naming the file, leaves what was
// committed before intact, and a later attempt (space back) completes. tests/cli_faults.sh does the same to the
// programs, with `ulimit -f` and a small tmpfs.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <fstream>

#include "anodiff/io/csv.hpp"
#include "anodiff/base/error.hpp"
#include "anodiff/trajectory/trajectory_writer.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "detail/append_file.hpp"
#include "detail/npy.hpp"
#include "test_helpers.hpp"

using namespace anodiff;
using anodiff::test::TempDir;
namespace fs = std::filesystem;

namespace {

using test::FileSizeLimit;

std::string io_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "no IoError";
}

void append_rows(TrajectoryWriter& w, std::size_t from, std::size_t n) {
  std::vector<float> row(w.dimension());
  for (std::size_t t = from; t < from + n; ++t) {
    for (std::size_t j = 0; j < row.size(); ++j) row[j] = float(t * 1000 + j);
    w.append(row.data(), {double(t), 0.0, 1.0});
  }
}

std::size_t tmp_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".tmp";
  return n;
}

}  // namespace

TEST_CASE("faults: a durable write past a file-size limit names the file and leaves the last version", "[faults]") {
  TempDir dir;
  const std::vector<double> small = {1, 2, 3};
  write_npy(dir / "a.npy", small.data(), {3});
  const std::vector<double> big(100000, 7.0);  // 800 KB
  std::string msg;
  {
    FileSizeLimit limit(64 * 1024);
    msg = io_message([&] { write_npy(dir / "a.npy", big.data(), {big.size()}); });
  }
  CHECK_THAT(msg, Catch::Contains("a.npy") && Catch::Contains("write failed") && Catch::Contains("File too large"));
  CHECK(load_series(dir / "a.npy") == small);  // the last complete version
  CHECK(tmp_files(dir.path) == 0);               // the partial temporary file is gone, its space free again
  write_npy(dir / "a.npy", big.data(), {big.size()});
  CHECK(load_series(dir / "a.npy").size() == big.size());
}

TEST_CASE("faults: recording past a file-size limit fails at commit and resumes with nothing lost", "[faults]") {
  TempDir dir;
  const std::size_t D = 1000;  // 4 KB a snapshot
  {
    TrajectoryWriter w(dir.path, D);
    append_rows(w, 0, 5);
    w.commit();  // 20 KB
    append_rows(w, 5, 20);
    std::string msg;
    {
      FileSizeLimit limit(40 * 1024);  // the second chunk (80 KB) does not fit
      msg = io_message([&] { w.commit(); });
    }
    CHECK_THAT(msg, Catch::Contains("chunk_000001.npy") && Catch::Contains("File too large"));
    CHECK(w.committed() == 5);
    // What was committed is intact: a reader sees the first chunk, steps.csv's extra rows are ignored.
    const auto t = WeightTrajectory::load(dir.path);
    CHECK(t.size() == 5);
    CHECK(t.snapshot(4)[7] == 4007);
    CHECK(tmp_files(dir.path) == 0);
    // The process dies with the error; the next session (space back) reopens the directory and records on.
  }
  TrajectoryWriter again(dir.path, D);
  CHECK(again.committed() == 5);
  append_rows(again, 5, 20);
  again.commit();
  const auto t = WeightTrajectory::load(dir.path);
  REQUIRE(t.size() == 25);
  CHECK(t.snapshot(24)[999] == 24999);
  CHECK((*t.steps().column("step"))[24] == 24);
}

TEST_CASE("faults: a vanished or read-only recording folder is an IoError naming the file", "[faults]") {
  TempDir dir;
  TrajectoryWriter w(dir / "traj", 4);
  append_rows(w, 0, 2);
  fs::remove_all(dir / "traj");
  CHECK_THAT(io_message([&] { w.commit(); }), Catch::Contains("traj/steps.csv") && Catch::Contains("cannot create"));
  // A folder where a file is: the writer cannot even start (std::filesystem's error names the path).
  test::write_bytes(dir / "file", "x");
  CHECK_THROWS_WITH(TrajectoryWriter(dir / "file" / "traj", 4), Catch::Contains("file/traj"));
}

TEST_CASE("faults: a CSV past a file-size limit fails at the row or flush, naming the file", "[faults][csv]") {
  TempDir dir;
  std::string msg;
  {
    FileSizeLimit limit(16 * 1024);
    msg = io_message([&] {
      CsvWriter w(dir / "big.csv", "a,b");
      for (int i = 0; i < 10000; ++i) w.row("{},{}", i, i * 0.5);
      w.flush();
    });
  }
  CHECK_THAT(msg, Catch::Contains("big.csv") && Catch::Contains("write failed"));
}

TEST_CASE("faults: a line cut short is dropped before appending, whole lines are kept", "[faults]") {
  TempDir dir;
  const auto f = dir / "surface.csv";
  detail::drop_torn_line(f);  // missing: nothing to do
  CHECK_FALSE(fs::exists(f));
  test::write_bytes(f, "i,j\n1,2\n3,");
  detail::drop_torn_line(f);
  CHECK(CsvTable::read(f).rows() == 1);
  CHECK(fs::file_size(f) == 8);
  detail::drop_torn_line(f);  // ends in a newline: unchanged
  CHECK(fs::file_size(f) == 8);
  test::write_bytes(f, "i,j");  // the header itself torn
  detail::drop_torn_line(f);
  CHECK(fs::file_size(f) == 0);
  std::string long_line(10000, 'x');  // the last newline more than one read block back
  test::write_bytes(f, "i,j\n" + long_line);
  detail::drop_torn_line(f);
  CHECK(fs::file_size(f) == 4);
}
