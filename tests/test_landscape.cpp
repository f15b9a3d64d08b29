#define CATCH_CONFIG_PREFIX_ALL  // glog (pulled in by LibTorch) redefines CHECK
#include <catch2/catch.hpp>

#include <fstream>

#include <torch/torch.h>

#include "anodiff/base/error.hpp"
#include "anodiff/torch/landscape_probe.hpp"
#include "anodiff/torch/trainer.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/torch/parameters.hpp"
#include "test_helpers.hpp"

using namespace anodiff;
namespace fs = std::filesystem;

namespace {
Dataset toy(std::int64_t n) {
  torch::manual_seed(7);
  Dataset d;
  d.labels = torch::randint(0, 10, {n}, torch::kInt64);
  d.images = torch::randint(0, 255, {n, 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
  d.mean = {0.5, 0.5, 0.5};
  d.std = {0.25, 0.25, 0.25};
  return d;
}

// Equal up to the 10 significant digits of the CSV that resumed points are read back from.
void check_same(const std::vector<double>& a, const std::vector<double>& b) {
  CATCH_REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CATCH_CHECK(a[i] == Approx(b[i]).epsilon(1e-9));
}

LandscapeOptions grid3() {
  LandscapeOptions o;
  o.x = Axis::parse("-1:1:3");
  o.y = Axis::parse("-1:1:3");
  o.batch_size = 32;
  return o;
}
}  // namespace

CATCH_TEST_CASE("directions: every filter gets the norm of the weight's filter, biasbn zeroes 1-D parameters",
                "[landscape]") {
  auto model = make_model("resnet14", 3, 10, 1);
  const auto d = random_direction(*model, 5, DirectionNorm::filter, true);
  std::vector<float> w;
  flatten_parameters(*model, w);
  CATCH_REQUIRE(d.size() == w.size());
  std::size_t offset = 0;
  for (const auto& p : model->parameters()) {
    const std::size_t n = std::size_t(p.numel());
    if (p.dim() <= 1) {
      for (std::size_t k = 0; k < n; ++k) CATCH_CHECK(d[offset + k] == 0.0f);
    } else {
      const std::size_t per = n / std::size_t(p.size(0));
      for (std::int64_t f = 0; f < p.size(0); ++f) {
        double dn = 0, wn = 0;
        for (std::size_t k = 0; k < per; ++k) {
          dn += double(d[offset + f * per + k]) * d[offset + f * per + k];
          wn += double(w[offset + f * per + k]) * w[offset + f * per + k];
        }
        CATCH_CHECK(std::sqrt(dn) == Approx(std::sqrt(wn)).epsilon(1e-4));
      }
    }
    offset += n;
  }
  // Without biasbn, the direction of a 1-D parameter is the parameter itself; the seed decides the rest.
  const auto e = random_direction(*model, 5, DirectionNorm::filter, false);
  CATCH_CHECK(e[w.size() - 1] == w[w.size() - 1]);
  CATCH_CHECK(random_direction(*model, 5) == d);
  CATCH_CHECK(random_direction(*model, 6) != d);
}

CATCH_TEST_CASE("landscape: the loss at the origin is the checkpoint's, resumed and sharded grids equal one run",
                "[landscape]") {
  test::TempDir dir;
  auto model = make_model("resnet14", 3, 10, 2);
  model->eval();
  const auto data = toy(64);
  const auto d1 = random_direction(*model, 1), d2 = random_direction(*model, 2);
  const auto o = grid3();
  const auto whole = evaluate_landscape(*model, d1, d2, data, o, dir / "whole" / "surface.csv");
  CATCH_REQUIRE(whole.evaluated() == 9);
  const auto centre = evaluate(*model, data, 32, torch::kCPU);
  const double loss0 = centre.loss, acc0 = centre.accuracy();
  CATCH_CHECK(whole.loss[4] == Approx(loss0).epsilon(1e-6));  // (0, 0) is the centre of the 3 x 3 grid
  CATCH_CHECK(whole.accuracy[4] == Approx(acc0));
  // The model's weights are restored afterwards.
  CATCH_CHECK(evaluate(*model, data, 32, torch::kCPU).loss == Approx(loss0).epsilon(1e-7));

  // Interrupted after 4 points, the last line torn: the rerun computes only what is missing.
  fs::create_directories(dir / "resumed");
  {
    std::ifstream in(dir / "whole" / "surface.csv");
    std::ofstream out(dir / "resumed" / "surface.csv");
    std::string line;
    for (int k = 0; k < 5 && std::getline(in, line); ++k) out << line << '\n';
    std::getline(in, line);
    out << line.substr(0, line.size() / 2);  // killed mid-write
  }
  const auto resumed = evaluate_landscape(*model, d1, d2, data, o, dir / "resumed" / "surface.csv");
  check_same(resumed.loss, whole.loss);
  // The file itself (regression test of issue 15): the torn line was cut off before appending, not glued to the
  // next line, so that a later session reads it back.
  check_same(read_landscape(dir / "resumed", o.x, o.y).loss, whole.loss);

  // Two shards in two "processes", merged.
  for (std::size_t s = 0; s < 2; ++s) {
    auto so = o;
    so.shard = {s, 2};
    const auto part = evaluate_landscape(*model, d1, d2, data, so, landscape_file(dir / "sharded", so.shard));
    CATCH_CHECK(part.evaluated() == (s == 0 ? 5u : 9u));
  }
  const auto merged = read_landscape(dir / "sharded", o.x, o.y);
  check_same(merged.loss, whole.loss);
  check_same(merged.accuracy, whole.accuracy);

  // Points of another grid in the directory are refused.
  auto other = o;
  other.x = Axis::parse("-2:2:3");
  CATCH_CHECK_THROWS_WITH(evaluate_landscape(*model, d1, d2, data, other, dir / "whole" / "surface.csv"),
                          Catch::Contains("surface.csv") && Catch::Contains("does not belong to this grid"));
}

CATCH_TEST_CASE("landscape: every grid point is the loss and accuracy of the model set to w + x d1 + y d2",
                "[landscape]") {
  // 5 x 3 points on unequal axes (a swap of x and y, or of d1 and d2, changes the values), a small ResNet whose BN
  // layers behave differently in train mode, every parameter moving (1-D ones along themselves), 12 samples in
  // batches of 5. Each point recomputed here from the directions the result returned: the parameters set with torch
  // ops, the images normalised by hand, the mean cross-entropy and the argmax accuracy in eval mode.
  test::TempDir dir;
  auto model = make_model("resnet14", 3, 10, 3);
  const auto data = toy(12);
  ModelLandscapeOptions o;
  o.x = Axis::parse("-1:0.6:5");
  o.y = Axis::parse("-0.3:0.5:3");
  o.ignore_biasbn = false;
  o.grid.batch_size = 5;
  o.device = "cpu";
  const std::vector<double> xs = {-1.0, -0.6, -0.2, 0.2, 0.6}, ys = {-0.3, 0.1, 0.5};
  auto params = model->parameters();
  std::vector<torch::Tensor> w0;
  for (const auto& p : params) w0.push_back(p.detach().clone());
  const auto r = landscape_of_model(*model, data, o, dir.path);
  CATCH_REQUIRE(r.complete());
  CATCH_REQUIRE(r.grid.x.points == 5);
  CATCH_REQUIRE(r.grid.y.points == 3);
  for (std::size_t q = 0; q < params.size(); ++q) CATCH_CHECK(torch::equal(params[q].detach(), w0[q]));  // restored
  // The directions, tensor by tensor in the order of parameters().
  std::vector<torch::Tensor> d1, d2;
  std::int64_t offset = 0;
  for (const auto& p : params) {
    d1.push_back(torch::tensor(std::vector<float>(r.direction1.begin() + offset, r.direction1.begin() + offset + p.numel())).view(p.sizes()));
    d2.push_back(torch::tensor(std::vector<float>(r.direction2.begin() + offset, r.direction2.begin() + offset + p.numel())).view(p.sizes()));
    offset += p.numel();
  }
  CATCH_REQUIRE(std::size_t(offset) == r.direction1.size());
  CATCH_REQUIRE(std::size_t(offset) == r.direction2.size());
  const auto mean = torch::tensor(std::vector<float>(data.mean.begin(), data.mean.end())).view({1, 3, 1, 1});
  const auto stdv = torch::tensor(std::vector<float>(data.std.begin(), data.std.end())).view({1, 3, 1, 1});
  const auto images = (data.images.to(torch::kFloat32) / 255.0 - mean) / stdv;
  torch::NoGradGuard no_grad;
  model->eval();
  for (std::size_t j = 0; j < 3; ++j) {
    for (std::size_t i = 0; i < 5; ++i) {
      CATCH_INFO("point (" << xs[i] << ", " << ys[j] << ")");
      for (std::size_t q = 0; q < params.size(); ++q) params[q].copy_(w0[q] + xs[i] * d1[q] + ys[j] * d2[q]);
      const auto logits = model->forward(images);
      const double loss = torch::nn::functional::cross_entropy(logits, data.labels).item<double>();
      const double accuracy = logits.argmax(1).eq(data.labels).to(torch::kFloat64).mean().item<double>();
      const std::size_t point = j * 5 + i;  // rows of y, columns of x
      CATCH_CHECK(r.grid.x.at(i) == Approx(xs[i]).margin(1e-12));
      CATCH_CHECK(r.grid.y.at(j) == Approx(ys[j]).margin(1e-12));
      CATCH_CHECK(r.grid.loss[point] == Approx(loss).epsilon(1e-5));
      CATCH_CHECK(r.grid.accuracy[point] == Approx(accuracy).margin(1e-12));
    }
  }
  for (std::size_t q = 0; q < params.size(); ++q) params[q].copy_(w0[q]);
}

CATCH_TEST_CASE("landscape: malformed ranges and shards are refused", "[landscape][errors]") {
  CATCH_CHECK_THROWS_WITH(Axis::parse("1:0:5"), Catch::Contains("malformed range '1:0:5'"));
  CATCH_CHECK_THROWS_WITH(Axis::parse("-1:1"), Catch::Contains("LO:HI:N"));
  CATCH_CHECK_THROWS_AS(Axis::parse("-1:1:0"), std::invalid_argument);
  CATCH_CHECK(Axis::parse("-1:1:51").at(25) == Approx(0.0).margin(1e-12));
  test::TempDir dir;
  auto model = make_model("resnet14");
  auto o = grid3();
  o.shard = {2, 2};
  const auto d = random_direction(*model, 1);
  CATCH_CHECK_THROWS_WITH(evaluate_landscape(*model, d, d, toy(8), o, dir / "s.csv"),
                          Catch::Contains("LandscapeOptions: shard 2 of 2: expected 0 <= index < count"));
  o = grid3();
  o.batch_size = 0;
  CATCH_CHECK_THROWS_WITH(o.validate(), Catch::Contains("LandscapeOptions: batch_size must be >= 1, got 0"));
  // A parent's grid keeps no axes of its own: x and y are the parent's, and grid.x set would be replaced unseen.
  RunLandscapeOptions run;
  run.epoch = 3;
  run.grid.x = Axis{-2, 2, 11};
  CATCH_CHECK_THROWS_WITH(run.validate(), Catch::Contains("RunLandscapeOptions: set the axes in x and y, not in grid.x"));
  run.grid = LandscapeOptions{};
  run.x = Axis{-2, 2, 11};
  CATCH_CHECK_NOTHROW(run.validate());
  run.grid.samples = -1;
  CATCH_CHECK_THROWS_WITH(run.validate(), Catch::Contains("LandscapeOptions: samples must be >= 0, got -1"));
  ModelLandscapeOptions own;
  own.grid.y = Axis{0, 1, 5};
  CATCH_CHECK_THROWS_WITH(own.validate(), Catch::Contains("ModelLandscapeOptions: set the axes in x and y"));
}

CATCH_TEST_CASE("landscape: a shard past a file-size limit fails naming its file, then resumes", "[landscape][faults]") {
  test::TempDir dir;
  auto model = make_model("fc3", 3, 10, 2);
  model->eval();
  const auto data = toy(32);
  const auto d1 = random_direction(*model, 1), d2 = random_direction(*model, 2);
  auto o = grid3();
  o.x = Axis::parse("-1:1:6");
  o.y = Axis::parse("-1:1:6");
  const auto whole = evaluate_landscape(*model, d1, d2, data, o, dir / "whole" / "surface.csv");
  std::string msg;
  try {
    test::FileSizeLimit limit(1024);  // about 16 of the 36 lines: the limit falls mid-line
    (void)evaluate_landscape(*model, d1, d2, data, o, dir / "limited" / "surface.csv");
  } catch (const IoError& e) {
    msg = e.what();
  }
  CATCH_CHECK_THAT(msg, Catch::Contains("limited/surface.csv") && Catch::Contains("write failed"));
  const auto kept = read_landscape(dir / "limited", o.x, o.y).evaluated();
  CATCH_CHECK(kept > 5);
  CATCH_CHECK(kept < 36);
  const auto resumed = evaluate_landscape(*model, d1, d2, data, o, dir / "limited" / "surface.csv");
  check_same(resumed.loss, whole.loss);
  check_same(read_landscape(dir / "limited", o.x, o.y).loss, whole.loss);
}
