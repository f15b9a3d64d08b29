// The study's own files (study_trajectory.hpp) and Li et al.'s loss-landscape .h5 layout (loss_landscape_h5.hpp),
// written by tests/study_files.py with scipy and h5py as the study's and loss-landscape's scripts write them.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

#include "anodiff/base/error.hpp"
#include "anodiff/io/loss_landscape_h5.hpp"
#include "anodiff/io/study_trajectory.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "test_helpers.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

namespace {

// Writes the files into `dir`; false when Python, scipy or h5py are missing.
bool write_study_files(const fs::path& dir) {
  const std::string command = "/usr/bin/python3 " + std::string(ANODIFF_TESTS_DIR) + "/study_files.py " + dir.string() +
                              " > " + (dir.parent_path() / "study_files.log").string() + " 2>&1";
  return std::system(command.c_str()) == 0;
}

void require_same_positions(const WeightTrajectory& got, const WeightTrajectory& want, std::size_t first) {
  REQUIRE(got.dimension() == want.dimension());
  for (std::size_t t = 0; t < got.size(); ++t) {
    const auto a = got.snapshot(t), b = want.snapshot(first + t);
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (a[k] != b[k]) FAIL("step " << t << " coordinate " << k << ": " << a[k] << " != " << b[k]);
    }
  }
}

}  // namespace

TEST_CASE("the study's .mat, .h5 and v7.3 trajectories load to the positions of the .npy they came from",
          "[study_files]") {
  if (!have_matio() || !have_hdf5()) ANODIFF_SKIP("built without libmatio or HDF5");
  test::TempDir tmp;
  const fs::path dir = tmp / "files";
  // numpy, scipy and h5py are dependencies of the test command (scripts/install-deps.sh): missing, the test fails.
  if (!write_study_files(dir)) FAIL("python3 with numpy, scipy and h5py is needed to write the files");
  const auto npy = WeightTrajectory::load(dir / "traj.npy");
  const auto loss = load_series(dir / "loss.npy");
  const auto grad_norm = load_series(dir / "grad_norm.npy");
  const auto noise_norm = load_series(dir / "noise_norm.npy");
  REQUIRE(npy.size() == 15);

  for (const char* run : {"mat", "h5"}) {
    INFO(run);
    const auto t = WeightTrajectory::load(dir / run);
    REQUIRE(t.size() == npy.size());
    require_same_positions(t, npy, 0);
    CHECK(t.source() == dir / run);
    const auto& steps = t.steps();
    REQUIRE(steps.column("step"));
    REQUIRE(steps.column("epoch"));
    REQUIRE(steps.column("grad_norm"));
    REQUIRE(steps.column("noise_norm"));
    for (std::size_t s = 0; s < t.size(); ++s) {
      CHECK((*steps.column("step"))[s] == double(s + 1));
      CHECK((*steps.column("epoch"))[s] == double(s / 5 + 1));
      CHECK(t.loss()[s] == loss[s]);
      CHECK((*steps.column("grad_norm"))[s] == Approx(grad_norm[s]).epsilon(1e-12));
      CHECK((*steps.column("noise_norm"))[s] == noise_norm[s]);
    }
  }
  SECTION("one epoch's file alone: its steps and positions") {
    const auto t = WeightTrajectory::load(dir / "mat" / "model_2_sub_loss_w.mat");  // compressed (v7)
    REQUIRE(t.size() == 5);
    require_same_positions(t, npy, 5);
    CHECK((*t.steps().column("step"))[0] == 6);
    const auto h = load_study_trajectory({dir / "h5" / "model_3_sub_loss_w.h5"});
    require_same_positions(h, npy, 10);
    CHECK((*h.steps().column("step"))[4] == 15);
  }
  SECTION("the post-analysis's MSD_feed in a MATLAB v7.3 file") {
    const auto t = WeightTrajectory::load(dir / "part.mat");
    REQUIRE(t.size() == 15);
    require_same_positions(t, npy, 0);
    for (std::size_t s = 0; s < t.size(); ++s) CHECK(t.loss()[s] == loss[s]);
    CHECK((*t.steps().column("step"))[14] == 15);
  }
  SECTION("files of another layout, damaged files, a gap and another network are refused naming the file") {
    auto refused = [&](const fs::path& p, const std::string& what) {
      INFO(p.string());
      CHECK_THROWS_AS(WeightTrajectory::load(p), InputError);
      CHECK_THROWS_WITH(WeightTrajectory::load(p), Catch::Contains(p.string()) && Catch::Contains(what));
    };
    refused(dir / "bad" / "no_weights.mat", "no variable 'sub_weights' or 'MSD_feed'");
    refused(dir / "bad" / "truncated.mat", "truncated or damaged");
    refused(dir / "bad" / "text.mat", "not a MATLAB .mat file");
    refused(dir / "bad" / "huge_claim.mat", "variable 'sub_weights' (shape 100000x100000) claims more data than a");
    refused(dir / "bad" / "truncated.h5", "not a readable HDF5 file");
    refused(dir / "bad" / "one_d.h5", "expected (steps, D)");
    refused(dir / "bad" / "no_weights.h5", "the file has: weights");
    refused(dir / "bad" / "gap" / "model_2_sub_loss_w.mat", "no such file");
    CHECK_THROWS_WITH(WeightTrajectory::load(dir / "bad" / "gap"),
                      Catch::Contains("model_2_sub_loss_w.mat") && Catch::Contains("epoch 2 is missing"));
    CHECK_THROWS_WITH(WeightTrajectory::load(dir / "bad" / "mixed"),
                      Catch::Contains("model_2_sub_loss_w.h5: 227 parameters per step"));
  }
}

TEST_CASE("without HDF5 the .h5 readers refuse with InputError", "[study_files]") {
  if (have_hdf5()) {
    SUCCEED("built with HDF5: the round-trip tests below run");
    return;
  }
  CHECK_THROWS_AS(read_loss_landscape_surface("x.h5"), InputError);
}

// A skip is the first statement of a test case and never inside a SECTION: an ANODIFF_SKIP after a failed CHECK would
// turn the failure into "skipped" (ctest's SKIP_REGULAR_EXPRESSION), one inside a SECTION hides the next SECTION.
TEST_CASE("loss-landscape .h5 surfaces and direction files round-trip", "[study_files]") {
  if (!have_hdf5()) ANODIFF_SKIP("built without HDF5");
  test::TempDir tmp;
  SECTION("a surface written by loss-landscape's own code (its (nx, ny) shape, meshgrid order)") {
    const fs::path dir = tmp / "files";
    if (!write_study_files(dir)) FAIL("python3 with numpy, scipy and h5py is needed to write the files");
    const auto g = read_loss_landscape_surface(dir / "surface_ll.h5");
    REQUIRE(g.x.points == 9);
    REQUIRE(g.y.points == 7);
    CHECK(g.x.lo == -1);
    CHECK(g.y.hi == 0.5);
    const auto z = WeightTrajectory::load(dir / "surface_ll.npy");  // (ny, nx)
    for (std::size_t j = 0; j < 7; ++j) {
      const auto row = z.snapshot(j);
      for (std::size_t i = 0; i < 9; ++i) {
        CHECK(g.loss[j * 9 + i] == row[i]);
        CHECK(g.accuracy[j * 9 + i] == Approx((50 + 10 * g.x.at(i)) / 100));
      }
    }
    CHECK_THROWS_WITH(read_loss_landscape_surface(dir / "bad" / "surface_no_loss.h5"),
                      Catch::Contains("surface_no_loss.h5: no dataset 'train_loss'"));
    CHECK_THROWS_WITH(read_loss_landscape_surface(dir / "bad" / "truncated.h5"), Catch::Contains("truncated.h5"));
    CHECK_THROWS_WITH(read_loss_landscape_surface(dir / "bad" / "surface_huge_claim.h5"),
                      Catch::Contains("dataset 'xcoordinates' of shape (100000000) claims 800000000 bytes but the file "
                                      "stores 0 for it"));
    // Found by fuzz_landscape_h5: a contiguous layout that claims more storage than the file holds.
    CHECK_THROWS_WITH(read_loss_landscape_directions(dir / "bad" / "directions_huge_storage.h5"),
                      Catch::Contains("dataset '0' of shape (1099511627776, 3, 3, 3) claims 118747255799808 bytes but "
                                      "the file stores"));
    CHECK_THROWS_WITH(read_loss_landscape_surface(dir / "bad" / "surface_no_type_size.h5"),
                      Catch::Contains("dataset 'xcoordinates' has a numeric type of no size"));
  }
  SECTION("anodiff's own surface and directions") {
    LandscapeGrid g;
    g.x = Axis{-1, 1, 7};
    g.y = Axis{-2, 0.5, 3};
    for (std::size_t p = 0; p < 21; ++p) {
      g.loss.push_back(p == 4 ? std::nan("") : 0.5 + 0.25 * double(p));
      g.accuracy.push_back(p == 4 ? std::nan("") : 0.01 * double(p));
    }
    write_loss_landscape_surface(g, tmp / "surface.h5", "directions.h5");
    const auto back = read_loss_landscape_surface(tmp / "surface.h5");
    CHECK(back.x.points == 7);
    CHECK(back.y.points == 3);
    CHECK(back.y.lo == -2);
    for (std::size_t p = 0; p < 21; ++p) {
      if (p == 4) {
        CHECK(std::isnan(back.loss[p]));
        CHECK(std::isnan(back.accuracy[p]));
      } else {
        CHECK(back.loss[p] == g.loss[p]);
        CHECK(back.accuracy[p] == Approx(g.accuracy[p]).epsilon(1e-15));
      }
    }
    LandscapeGrid line;
    line.x = Axis{0, 1, 4};
    line.y = Axis{0, 0, 1};
    line.loss = {1, 2, 3, 4};
    line.accuracy = {0.1, 0.2, 0.3, 0.4};
    write_loss_landscape_surface(line, tmp / "line.h5");
    CHECK(read_loss_landscape_surface(tmp / "line.h5").loss == line.loss);

    ParameterLayout layout;
    layout.tensors = {{"conv.weight", {2, 1, 2, 2}, 0, 8, -1}, {"conv.bias", {2}, 8, 2, -1}};
    std::vector<float> d1(10), d2(10);
    for (std::size_t k = 0; k < 10; ++k) d1[k] = float(k), d2[k] = -float(k) / 3;
    write_loss_landscape_directions(d1, d2, layout, tmp / "directions.h5");
    const auto dirs = read_loss_landscape_directions(tmp / "directions.h5");
    REQUIRE(dirs.size() == 2);
    CHECK(dirs[0] == d1);
    CHECK(dirs[1] == d2);
    CHECK_THROWS_AS(write_loss_landscape_directions(std::vector<float>(9), {}, layout, tmp / "d.h5"),
                    std::invalid_argument);
  }
}
