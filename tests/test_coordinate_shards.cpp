// Coordinate shards (issue 16): the analyses of column ranges merged by a reduction equal the whole-trajectory ones.
#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "anodiff/base/error.hpp"
#include "anodiff/analysis/pair_statistics.hpp"
#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/trajectory/synthetic.hpp"
#include "anodiff/trajectory/trajectory_writer.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "test_helpers.hpp"

using namespace anodiff;

namespace {

void close(double a, double b, double rel = 1e-12) {
  if (std::isnan(a) || std::isnan(b)) {
    CHECK(std::isnan(a) == std::isnan(b));
    return;
  }
  CHECK(std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + 1e-300);
}
void close(const std::vector<double>& a, const std::vector<double>& b, double rel = 1e-12) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) close(a[k], b[k], rel);
}

// A trajectory with a few frozen coordinates (zero increments for the tail index) and a loss series.
WeightTrajectory test_trajectory() {
  auto t = synthetic::demo(240, 130, 3);
  std::vector<double> rows(t.size() * t.dimension());
  t.read(0, t.size(), 0, t.dimension(), rows.data());
  for (std::size_t r = 0; r < t.size(); ++r) {
    for (std::size_t j = 60; j < 64; ++j) rows[r * t.dimension() + j] = 0.25;
  }
  auto out = WeightTrajectory::from_rows(std::move(rows), t.dimension(), t.steps());
  out.set_loss(t.loss());
  return out;
}

ParameterLayout test_layout(std::size_t D) {
  ParameterLayout l;
  const std::vector<std::pair<std::size_t, int>> tensors{{30, 0}, {25, -1}, {40, 1}, {D - 95, 0}};
  std::size_t offset = 0;
  for (const auto& [size, group] : tensors) {
    ParameterTensor p;
    p.name = "t" + std::to_string(offset);
    p.shape = {std::int64_t(size)};
    p.offset = offset;
    p.size = size;
    p.group = group;
    l.tensors.push_back(p);
    offset += size;
  }
  return l;
}

// post_analysis of S coordinate shards, each a thread (with `omp_threads` OpenMP threads of its own when nonzero).
std::vector<std::vector<PartResult>> sharded(const WeightTrajectory& t, const PostAnalysisOptions& o, std::size_t S,
                                             int omp_threads = 0) {
  test::ThreadReduction all(S);
  std::vector<std::vector<PartResult>> out(S);
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < S; ++s) {
    threads.emplace_back([&, s] {
      if (omp_threads > 0) omp_set_num_threads(omp_threads);
      test::ThreadReduction::Member member(all, s);
      const auto [first, count] = shard_columns(t.dimension(), {s, S});
      out[s] = post_analysis(t.columns(first, count), o, member);
    });
  }
  for (auto& th : threads) th.join();
  return out;
}

void same(const PartResult& a, const PartResult& b) {
  CHECK(a.all_pairs == b.all_pairs);
  close(a.msd.msd, b.msd.msd);
  close(a.aging.msd, b.aging.msd);
  close(a.beta.beta, b.beta.beta);
  close(a.step_length, b.step_length);
  close(a.mean_contour, b.mean_contour);
  CHECK(a.msd_contour.count == b.msd_contour.count);
  close(a.msd_contour.mean, b.msd_contour.mean);
  CHECK(a.msl_log.count == b.msl_log.count);
  close(a.msl_log.mean, b.msl_log.mean);
  close(a.msl_linear.mean, b.msl_linear.mean);
  REQUIRE(a.histograms.size() == b.histograms.size());
  for (std::size_t h = 0; h < a.histograms.size(); ++h) {
    CHECK(a.histograms[h].count == b.histograms[h].count);
    CHECK(a.rescaled[h].count == b.rescaled[h].count);
  }
  REQUIRE(a.motion.size() == b.motion.size());
  for (std::size_t m = 0; m < a.motion.size(); ++m) {
    CHECK(a.motion[m].component == b.motion[m].component);
    CHECK(a.motion[m].dimension == b.motion[m].dimension);
    close(a.motion[m].msd.msd, b.motion[m].msd.msd);
  }
  close(a.fit.early_exponent, b.fit.early_exponent);
  CHECK(std::isfinite(b.tail_index));
  CHECK(a.motion.size() == 3);
  close(a.fit.late_exponent, b.fit.late_exponent);
  close(a.short_band.median, b.short_band.median);
  close(a.tail_index, b.tail_index);
}

}  // namespace

TEST_CASE("WeightTrajectory::columns is a view of a coordinate range", "[shards]") {
  const auto t = test_trajectory();
  const auto c = t.columns(10, 20);
  CHECK(c.dimension() == 20);
  CHECK(c.size() == t.size());
  CHECK(c.column_offset() == 10);
  std::vector<double> a(5 * 3), b(5 * 3);
  t.read(7, 5, 14, 3, a.data());
  c.slice(2, 10).read(5, 5, 4, 3, b.data());
  CHECK(a == b);
  CHECK(c.columns(5, 5).column_offset() == 15);
  CHECK_THROWS_AS(t.columns(120, 11), std::out_of_range);
  CHECK_THROWS_AS(c.read(0, 1, 15, 6, a.data()), std::out_of_range);
}

TEST_CASE("PairDistances of coordinate shards add up to the whole", "[shards][pairs]") {
  const auto t = test_trajectory();
  const auto whole = PairDistances::compute(t, 20, 90);
  auto merged = PairDistances::compute(t.columns(0, 50), 20, 90);
  merged += PairDistances::compute(t.columns(50, 80), 20, 90);
  const auto rebuilt = PairDistances::from_squared_distances(90, merged.squared_distances());
  for (std::size_t j = 0; j < 90; ++j) {
    for (std::size_t i = 0; i < 90; ++i) {
      close(merged(i, j), whole(i, j));
      CHECK(rebuilt(i, j) == merged(i, j));
    }
  }
  close(merged.step_lengths(), whole.step_lengths());
  close(merged.msd(), whole.msd());
  CHECK_THROWS_AS(PairDistances::from_squared_distances(3, std::vector<double>(8)), std::invalid_argument);
  CHECK_THROWS_AS(merged += PairDistances::compute(t, 0, 10), std::invalid_argument);
  // sum_over_shards: the packed upper triangle summed over three threads, equal to adding the shards' matrices.
  test::ThreadReduction all(3);
  std::vector<PairDistances> shards(3);
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < 3; ++s) {
    threads.emplace_back([&, s] {
      const auto [first, count] = shard_columns(t.dimension(), {s, 3});
      shards[s] = PairDistances::compute(t.columns(first, count), 20, 90);
      test::ThreadReduction::Member member(all, s);
      shards[s].sum_over_shards([&member](double* data, std::size_t n) { member.sum(data, n); });
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& shard : shards) {
    for (std::size_t j = 0; j < 90; ++j) {
      for (std::size_t i = 0; i < 90; ++i) close(shard(i, j), whole(i, j));
    }
    close(shard.step_lengths(), whole.step_lengths());
    close(shard.msd(), whole.msd());
    CHECK(shard.squared_distances()[5 + 3 * 90] == 0.0);  // below the diagonal: still zero
  }
}

TEST_CASE("shard_columns splits the coordinates into contiguous ranges", "[shards]") {
  std::size_t next = 0;
  for (std::size_t s = 0; s < 3; ++s) {
    const auto [first, count] = shard_columns(130, {s, 3});
    CHECK(first == next);
    CHECK((count == 43 || count == 44));
    next = first + count;
  }
  CHECK(next == 130);
  CHECK_THROWS_AS(shard_columns(10, {2, 2}), std::invalid_argument);
}

TEST_CASE("post_analysis of two and three coordinate shards equals the single process", "[shards][msd]") {
  const auto t = test_trajectory();
  PostAnalysisOptions o;
  o.part_length = 120;
  o.layout = test_layout(t.dimension());
  for (std::size_t exact_limit : {std::size_t{5000}, std::size_t{50}}) {  // all pairs, then the FFT branch
    o.exact_limit = exact_limit;
    const auto single = post_analysis(t, o);
    REQUIRE(single.size() == 2);
    for (std::size_t S : {std::size_t{2}, std::size_t{3}}) {
      INFO("exact_limit " << exact_limit << ", " << S << " shards");
      const auto shards = sharded(t, o, S);
      for (const auto& shard : shards) {
        REQUIRE(shard.size() == single.size());
        for (std::size_t p = 0; p < single.size(); ++p) same(shard[p], single[p]);
      }
    }
  }
}

TEST_CASE("the post-analysis tail index equals TailIndexEstimator on the flattened increments, whatever the threads",
          "[shards][tail]") {
  // D = 20,000: three units of 8,192 coordinates a row and batches of 26 rows (two units and 52 rows for two shards),
  // so that blocks cross units, rows and batches. First the default block (floor(sqrt(149 D)) = 1,726 samples) with
  // a frozen stretch of coordinates (zero increments, skipped) inside a unit; then blocks of 20,000 samples, larger
  // than a unit, with the whole second unit of every row frozen (units without samples).
  const std::size_t T = 150, D = 20000;
  struct Case {
    std::size_t frozen_lo, frozen_hi, block;
  };
  for (const Case c : {Case{9000, 9500, 0}, Case{8192, 16384, 20000}}) {
    std::mt19937_64 rng(5);
    std::student_t_distribution<double> heavy(1.5);
    std::vector<double> rows(T * D, 0.0);
    for (std::size_t r = 1; r < T; ++r) {
      for (std::size_t j = 0; j < D; ++j) {
        rows[r * D + j] = rows[(r - 1) * D + j] + (j >= c.frozen_lo && j < c.frozen_hi ? 0.0 : heavy(rng));
      }
    }
    std::vector<double> increments;
    for (std::size_t r = 1; r < T; ++r) {
      for (std::size_t j = 0; j < D; ++j) increments.push_back(rows[r * D + j] - rows[(r - 1) * D + j]);
    }
    const std::size_t block = c.block ? c.block : static_cast<std::size_t>(std::floor(std::sqrt((T - 1.0) * D)));
    const double expected = tail_index(increments, block);
    REQUIRE(std::isfinite(expected));
    const auto t = WeightTrajectory::from_rows(std::move(rows), D);
    PostAnalysisOptions o;
    o.exact_limit = 10;  // the FFT branch: the tail index is the point here
    o.tail_block = c.block;
    const int threads = omp_get_max_threads();
    for (int n : {1, 2}) {
      INFO("frozen [" << c.frozen_lo << ", " << c.frozen_hi << "), block " << block << ", " << n << " threads");
      omp_set_num_threads(n);
      close(post_analysis(t, o).front().tail_index, expected);
      for (std::size_t S : {std::size_t{2}, std::size_t{3}}) {
        for (const auto& shard : sharded(t, o, S, n)) close(shard.front().tail_index, expected);
      }
    }
    omp_set_num_threads(threads);
  }
}

TEST_CASE("tiled pair statistics of two coordinate shards equal the single process", "[shards][pairs][tiles]") {
  // A budget of tiles of 6 rows: 20 row blocks per part of 120, every tile summed over the shards before use.
  const auto t = test_trajectory();
  PostAnalysisOptions o;
  o.part_length = 120;
  o.layout = test_layout(t.dimension());
  const auto single = post_analysis(t, o);  // untiled
  o.pair_memory_budget = tiled_pair_memory(120, 6, 7);
  const auto shards = sharded(t, o, 2);
  for (const auto& shard : shards) {
    REQUIRE(shard.size() == single.size());
    for (std::size_t p = 0; p < single.size(); ++p) {
      INFO("part " << p);
      CHECK(single[p].pair_tile_rows == 0);
      CHECK(shard[p].pair_tile_rows == 6);
      same(shard[p], single[p]);
      CHECK(shard[p].msd_contour.count == single[p].msd_contour.count);
      close(shard[p].msd_contour.x, single[p].msd_contour.x);
      CHECK(shard[p].msl_linear.count == single[p].msl_linear.count);
      close(shard[p].msl_log.x, single[p].msl_log.x);
      for (std::size_t h = 0; h < single[p].histograms.size(); ++h) {
        close(shard[p].rescaled[h].scale, single[p].rescaled[h].scale);
        close(shard[p].histograms[h].density, single[p].histograms[h].density);
      }
    }
  }
}

namespace {

namespace fs = std::filesystem;

// Writes columns [first, first + count) of `t` as the trajectory directory `dir` (a chunk every 100 snapshots, the
// first `snapshots` only), with the matching slice of `layout` (offsets from 0).
void write_columns(const WeightTrajectory& t, const ParameterLayout& layout, std::size_t first, std::size_t count,
                   const fs::path& dir, std::size_t snapshots) {
  TrajectoryWriter writer(dir, count);
  std::vector<double> row(count);
  std::vector<float> rowf(count);
  const auto& steps = t.steps();
  const auto loss = t.loss();
  for (std::size_t r = 0; r < snapshots; ++r) {
    t.read(r, 1, first, count, row.data());
    for (std::size_t j = 0; j < count; ++j) rowf[j] = static_cast<float>(row[j]);
    writer.append(rowf.data(), {steps.columns[0][r], steps.columns[1][r], loss[r]});
    if ((r + 1) % 100 == 0) writer.commit();
  }
  writer.commit();
  ParameterLayout part;
  for (const auto& tensor : layout.tensors) {
    if (tensor.offset < first || tensor.offset >= first + count) continue;
    part.tensors.push_back(tensor);
    part.tensors.back().offset -= first;
  }
  part.write_csv(dir / "layout.csv");
}

// The test trajectory as float32 values (what a recorded directory holds).
WeightTrajectory float32_trajectory() {
  const auto t = test_trajectory();
  std::vector<double> all(t.size() * t.dimension());
  t.read(0, t.size(), 0, t.dimension(), all.data());
  std::vector<float> rows(all.begin(), all.end());
  auto out = WeightTrajectory::from_rows(std::move(rows), t.dimension(), t.steps());
  out.set_loss(t.loss());
  return out;
}

}  // namespace

TEST_CASE("a sharded trajectory directory reads as one trajectory, and shard by shard", "[shards][trajectory]") {
  const auto t = float32_trajectory();
  const auto layout = test_layout(t.dimension());  // tensors of 30, 25, 40, 35 coordinates
  test::TempDir whole_dir, sharded_dir;
  write_columns(t, layout, 0, t.dimension(), whole_dir.path, t.size());
  // Two shards of whole tensors: [0, 55) and [55, 130).
  write_columns(t, layout, 0, 55, sharded_dir.path / "shard_000", t.size());
  write_columns(t, layout, 55, 75, sharded_dir.path / "shard_001", t.size());
  fs::create_directories(sharded_dir.path / "shard_002.tmp");  // other names are ignored
  fs::create_directories(sharded_dir.path / "shard_3");

  const auto whole = WeightTrajectory::load(whole_dir.path);
  const auto sharded = WeightTrajectory::load(sharded_dir.path);
  REQUIRE(sharded.size() == whole.size());
  REQUIRE(sharded.dimension() == whole.dimension());
  CHECK(sharded.column_offset() == 0);
  CHECK(WeightTrajectory::shard_directories(sharded_dir.path).size() == 2);
  CHECK(WeightTrajectory::shard_directories(whole_dir.path).empty());
  std::vector<double> a(t.size() * t.dimension()), b(a.size());
  whole.read(0, t.size(), 0, t.dimension(), a.data());
  sharded.read(0, t.size(), 0, t.dimension(), b.data());
  CHECK(a == b);
  // A block across the shard boundary and the chunk boundaries, and one inside shard 1.
  std::vector<double> c(150 * 20), d(c.size());
  whole.read(50, 150, 45, 20, c.data());
  sharded.read(50, 150, 45, 20, d.data());
  CHECK(c == d);
  whole.slice(10, 200).columns(60, 50).read(5, 150, 3, 20, c.data());
  sharded.slice(10, 200).columns(60, 50).read(5, 150, 3, 20, d.data());
  CHECK(c == d);
  CHECK(sharded.steps().names == whole.steps().names);
  close(sharded.loss(), whole.loss());

  // The layout of the whole: the shards' concatenated, offsets shifted, groups renumbered.
  const auto joined = ParameterLayout::read_sharded(sharded_dir.path);
  REQUIRE(joined.tensors.size() == 4);
  CHECK(joined.dimension() == 130);
  CHECK(joined.tensors[2].offset == 55);
  CHECK(joined.tensors[0].group == 0);
  CHECK(joined.tensors[2].group == 2);  // shard 1's groups 1 and 0 follow shard 0's one group
  CHECK(joined.tensors[3].group == 1);
  CHECK(ParameterLayout::find(sharded_dir.path).has_value());
  CHECK(ParameterLayout::find(whole_dir.path)->dimension() == 130);

  // Shard by shard: column_offset() places each in the whole, and the sharded analysis equals the single one.
  const auto s1 = WeightTrajectory::load_shard(sharded_dir.path, 1);
  CHECK(s1.column_offset() == 55);
  CHECK(s1.dimension() == 75);
  CHECK(s1.size() == t.size());
  whole.read(0, t.size(), 55, 75, a.data());
  std::vector<double> e(t.size() * 75);
  s1.read(0, t.size(), 0, 75, e.data());
  CHECK(std::equal(e.begin(), e.end(), a.begin()));
  CHECK(s1.columns(5, 10).column_offset() == 60);
  CHECK_THROWS_AS(WeightTrajectory::load_shard(sharded_dir.path, 2), InputError);
  CHECK_THROWS_AS(WeightTrajectory::load_shard(whole_dir.path, 0), InputError);

  PostAnalysisOptions o;
  o.part_length = 120;
  o.layout = joined;
  const auto single = post_analysis(whole, o);
  CHECK(single.size() == 2);
  const auto as_one = post_analysis(sharded, o);
  for (std::size_t p = 0; p < single.size(); ++p) same(as_one[p], single[p]);
  test::ThreadReduction all(2);
  std::vector<std::vector<PartResult>> out(2);
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < 2; ++s) {
    threads.emplace_back([&, s] {
      test::ThreadReduction::Member member(all, s);
      out[s] = post_analysis(WeightTrajectory::load_shard(sharded_dir.path, s), o, member);
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& shard : out) {
    REQUIRE(shard.size() == single.size());
    for (std::size_t p = 0; p < single.size(); ++p) same(shard[p], single[p]);
  }
}

TEST_CASE("sharded trajectory directories: a shard one chunk ahead is cut, other mismatches refused",
          "[shards][errors]") {
  const auto t = float32_trajectory();  // 240 snapshots
  const auto layout = test_layout(t.dimension());
  auto message = [](const fs::path& dir) {
    try {
      (void)WeightTrajectory::load(dir);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  SECTION("a shard ahead by its last chunk (killed between the shards' writes) is read to the common count") {
    test::TempDir dir;
    write_columns(t, layout, 0, 55, dir.path / "shard_000", 240);
    write_columns(t, layout, 55, 75, dir.path / "shard_001", 200);
    const auto s = WeightTrajectory::load(dir.path);
    CHECK(s.size() == 200);
    CHECK(s.steps().rows() == 200);
    CHECK(s.loss().size() == 200);
    CHECK(WeightTrajectory::load_shard(dir.path, 0).size() == 200);
    std::vector<double> a(130), b(130);
    s.read(199, 1, 0, 130, a.data());
    t.read(199, 1, 0, 130, b.data());
    for (std::size_t j = 0; j < 130; ++j) CHECK(a[j] == static_cast<double>(static_cast<float>(b[j])));
  }
  SECTION("shards further apart are refused, naming the shard and both counts") {
    test::TempDir dir;
    write_columns(t, layout, 0, 55, dir.path / "shard_000", 240);
    write_columns(t, layout, 55, 75, dir.path / "shard_001", 100);
    const auto m = message(dir.path);
    CHECK(m.find("shard_000") != std::string::npos);
    CHECK(m.find("expected 100 snapshots") != std::string::npos);
    CHECK(m.find("found 240") != std::string::npos);
    CHECK_THROWS_AS(WeightTrajectory::load_shard(dir.path, 1), InputError);
  }
  SECTION("a gap in the shard numbers, or chunks beside the shards, is refused") {
    test::TempDir dir;
    write_columns(t, layout, 0, 55, dir.path / "shard_000", 240);
    write_columns(t, layout, 55, 75, dir.path / "shard_002", 240);
    CHECK(message(dir.path).find("found no shard_001") != std::string::npos);
    fs::rename(dir.path / "shard_002", dir.path / "shard_001");
    CHECK(WeightTrajectory::load(dir.path).dimension() == 130);
    write_columns(t, layout, 0, 130, dir.path, 240);
    CHECK(message(dir.path).find("found both") != std::string::npos);
  }
  SECTION("shards of other steps are refused") {
    test::TempDir dir;
    write_columns(t, layout, 0, 55, dir.path / "shard_000", 239);
    write_columns(t.slice(1, 239), layout, 55, 75, dir.path / "shard_001", 239);
    const auto m = message(dir.path);
    CHECK(m.find("shard_001") != std::string::npos);
    CHECK(m.find("expected step 0 in row 1") != std::string::npos);
  }
  SECTION("a shard whose layout.csv is not its dimension is refused by read_sharded") {
    test::TempDir dir;
    write_columns(t, layout, 0, 55, dir.path / "shard_000", 240);
    write_columns(t, layout, 55, 75, dir.path / "shard_001", 240);
    test_layout(130).write_csv(dir.path / "shard_001" / "layout.csv");
    CHECK_THROWS_AS(ParameterLayout::read_sharded(dir.path), InputError);
  }
}
