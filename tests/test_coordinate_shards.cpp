// Coordinate shards (issue 16): the analyses of column ranges merged by a reduction equal the whole-trajectory ones.
#include <catch2/catch.hpp>

#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "anodiff/pair_statistics.hpp"
#include "anodiff/post_analysis.hpp"
#include "anodiff/synthetic.hpp"

using namespace anodiff;

namespace {

// An all-reduce among `shards` threads of one process, summing in shard order.
class ThreadReduction {
 public:
  explicit ThreadReduction(std::size_t shards) : partial_(shards) {}
  class Member : public ShardReduction {
   public:
    Member(ThreadReduction& all, std::size_t index) : all_(all), index_(index) {}
    std::size_t shards() const override { return all_.partial_.size(); }
    std::size_t shard() const override { return index_; }
    void sum(double* data, std::size_t count) override { all_.sum(index_, data, count); }

   private:
    ThreadReduction& all_;
    std::size_t index_;
  };

 private:
  void sum(std::size_t index, double* data, std::size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    const std::size_t generation = generation_;
    partial_[index].assign(data, data + count);
    if (++arrived_ == partial_.size()) {
      result_.assign(count, 0.0);
      for (const auto& p : partial_) {
        for (std::size_t k = 0; k < count; ++k) result_[k] += p[k];
      }
      arrived_ = 0;
      ++generation_;
      ready_.notify_all();
    } else {
      ready_.wait(lock, [&] { return generation_ != generation; });
    }
    std::copy(result_.begin(), result_.end(), data);
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::vector<double>> partial_;
  std::vector<double> result_;
  std::size_t arrived_ = 0, generation_ = 0;
};

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

std::vector<std::vector<PartResult>> sharded(const WeightTrajectory& t, const PostAnalysisOptions& o, std::size_t S) {
  ThreadReduction all(S);
  std::vector<std::vector<PartResult>> out(S);
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < S; ++s) {
    threads.emplace_back([&, s] {
      ThreadReduction::Member member(all, s);
      const auto [first, count] = shard_columns(t.dimension(), S, s);
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
}

TEST_CASE("shard_columns splits the coordinates into contiguous ranges", "[shards]") {
  std::size_t next = 0;
  for (std::size_t s = 0; s < 3; ++s) {
    const auto [first, count] = shard_columns(130, 3, s);
    CHECK(first == next);
    CHECK((count == 43 || count == 44));
    next = first + count;
  }
  CHECK(next == 130);
  CHECK_THROWS_AS(shard_columns(10, 2, 2), std::invalid_argument);
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
