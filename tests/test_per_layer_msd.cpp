#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <thread>

#include "anodiff/base/error.hpp"
#include "anodiff/analysis/per_layer_msd.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/trajectory/synthetic.hpp"
#include "test_helpers.hpp"

using namespace anodiff;

namespace {

ParameterLayout three_tensors() {
  // conv.weight (2x3x2 = 12, group 0), conv.bias (2, group 0), fc.weight (4x4 = 16, no group): D = 30.
  ParameterLayout l;
  l.tensors = {{"conv.weight", {2, 3, 2}, 0, 12, 0}, {"conv.bias", {2}, 12, 2, 0}, {"fc.weight", {4, 4}, 14, 16, -1}};
  return l;
}

}  // namespace

TEST_CASE("per-layer MSD: the MSD of each tensor's coordinates, adding up to the whole", "[msd][per_layer]") {
  const auto t = synthetic::brownian(300, 30, 0.1, 17);
  MsdOptions o;
  o.part_length = 100;
  const auto whole = msd(t, o);
  const auto layout = three_tensors();
  for (auto grouping : {LayerGrouping::tensor, LayerGrouping::layer, LayerGrouping::group}) {
    const auto layers = per_layer_msd(t, layout, grouping, o);
    std::size_t dimension = 0;
    for (const auto& l : layers) {
      REQUIRE(l.parts.size() == 3);
      dimension += l.dimension;
    }
    CHECK(dimension == 30);
    for (std::size_t k = 0; k < 3; ++k) {
      for (std::size_t i = 0; i < whole[k].msd.size(); ++i) {
        double sum = 0;
        for (const auto& l : layers) sum += l.parts[k].msd[i];
        CHECK(sum == Approx(whole[k].msd[i]).epsilon(1e-12));
      }
    }
  }
  const auto tensors = per_layer_msd(t, layout, LayerGrouping::tensor, o);
  REQUIRE(tensors.size() == 3);
  CHECK(tensors[0].name == "conv.weight");
  // One tensor's MSD is the MSD of its coordinates alone, by the direct sum.
  const auto& c = tensors[2].parts[1];
  for (std::size_t lag : {1u, 10u, 99u}) {
    double direct = 0;
    for (std::size_t i = 100; i + lag < 200; ++i) {
      const auto a = t.snapshot(i), b = t.snapshot(i + lag);
      for (std::size_t j = 14; j < 30; ++j) direct += (b[j] - a[j]) * (b[j] - a[j]);
    }
    CHECK(c.msd[lag - 1] == Approx(direct / double(100 - lag)).epsilon(1e-10));
  }
  const auto layers = per_layer_msd(t, layout, LayerGrouping::layer, o);
  REQUIRE(layers.size() == 2);
  CHECK(layers[0].name == "conv");
  CHECK(layers[0].dimension == 14);
  const auto groups = per_layer_msd(t, layout, LayerGrouping::group, o);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].name == "group_0");
  CHECK(groups[1].name == "ungrouped");
}

TEST_CASE("per-layer MSD: a layout of another dimension, an unknown grouping, the CSV", "[msd][per_layer]") {
  const auto t = synthetic::brownian(50, 31, 0.1, 1);
  CHECK_THROWS_AS(per_layer_msd(t, three_tensors()), InputError);
  CHECK(parse_layer_grouping("layer") == LayerGrouping::layer);
  CHECK_THROWS_AS(parse_layer_grouping("neuron"), std::invalid_argument);
  const auto ok = synthetic::brownian(50, 30, 0.1, 1);
  MsdOptions o;
  o.max_lag = 5;
  const auto layers = per_layer_msd(ok, three_tensors(), LayerGrouping::tensor, o);
  test::TempDir dir;
  write_per_layer_msd(layers, dir / "per_layer_msd.csv");
  std::ifstream in(dir / "per_layer_msd.csv");
  std::string line;
  std::getline(in, line);
  CHECK(line == "part,start,name,dimension,lag,msd");
  std::size_t rows = 0;
  while (std::getline(in, line)) ++rows;
  CHECK(rows == 3 * 5);
}

TEST_CASE("per-layer MSD over coordinate shards: each shard its columns, summed, equals the whole", "[msd][per_layer]") {
  const auto t = synthetic::brownian(200, 30, 0.1, 5);
  const auto layout = three_tensors();
  MsdOptions o;
  o.part_length = 100;
  for (auto grouping : {LayerGrouping::tensor, LayerGrouping::layer, LayerGrouping::group}) {
    const auto whole = per_layer_msd(t, layout, grouping, o);
    for (std::size_t shards : {2, 3, 7}) {  // ranges that cut tensors, and shards holding no column of some tensor
      test::ThreadReduction all(shards);
      std::vector<std::vector<LayerMsd>> got(shards);
      std::vector<std::thread> threads;
      for (std::size_t s = 0; s < shards; ++s) {
        threads.emplace_back([&, s] {
          test::ThreadReduction::Member member(all, s);
          const auto [first, count] = shard_columns(t.dimension(), {s, shards});
          got[s] = per_layer_msd(t.columns(first, count), layout, grouping, o, member);
        });
      }
      for (auto& th : threads) th.join();
      for (const auto& g : got) {
        REQUIRE(g.size() == whole.size());
        for (std::size_t i = 0; i < whole.size(); ++i) {
          CHECK(g[i].name == whole[i].name);
          CHECK(g[i].dimension == whole[i].dimension);
          REQUIRE(g[i].parts.size() == whole[i].parts.size());
          for (std::size_t p = 0; p < whole[i].parts.size(); ++p) {
            REQUIRE(g[i].parts[p].msd.size() == whole[i].parts[p].msd.size());
            for (std::size_t k = 0; k < whole[i].parts[p].msd.size(); ++k) {
              CHECK(g[i].parts[p].msd[k] == Approx(whole[i].parts[p].msd[k]).epsilon(1e-12));
            }
          }
        }
      }
    }
  }
  // A shard's columns beyond the layout: refused, naming where they start.
  test::ThreadReduction one(1);
  test::ThreadReduction::Member member(one, 0);
  CHECK_THROWS_WITH(per_layer_msd(synthetic::brownian(50, 40, 0.1, 1), layout, LayerGrouping::tensor, o, member),
                    Catch::Contains("covers 30 coordinates, the trajectory has 40 from column 0"));
}
