#include "anodiff/analysis/post_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/io/csv.hpp"
#include "anodiff/base/error.hpp"
#include "anodiff/base/progress.hpp"
#include "detail/parallel_rows.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> as_double(const std::vector<std::size_t>& v) { return {v.begin(), v.end()}; }

PowerLawFit fit_bins(const BinnedCurve& c) {
  return fit_power_law(c.x, c.mean, 0.0, std::numeric_limits<double>::infinity());
}

std::pair<double, double> long_band(const PostAnalysisOptions& o, std::size_t count) {
  const double T = static_cast<double>(count);
  return {o.long_band_lo > 0 ? o.long_band_lo : std::floor(0.3 * T), o.long_band_hi > 0 ? o.long_band_hi : std::floor(0.9 * T)};
}

MotionResult analyse_motion(const std::string& component, std::size_t dimension, MsdCurve curve,
                            const PostAnalysisOptions& o, std::size_t count) {
  MotionResult m;
  m.component = component;
  m.dimension = dimension;
  m.msd = std::move(curve);
  const auto beta = local_exponent(m.msd, o.window);
  m.fit = fit_crossover(as_double(m.msd.lag), m.msd.msd, o.fit);
  m.short_band = band_exponent(beta, o.window, o.short_band_lo, o.short_band_hi);
  const auto [lo, hi] = long_band(o, count);
  m.long_band = band_exponent(beta, o.window, lo, hi);
  return m;
}

// The MSD of the norms of the scale-invariant groups (radial) and of their directions w / |w| (angular; a sum over
// groups, since the MSD is a sum over coordinates), group by group so that memory stays T x (largest group).
std::pair<std::vector<double>, std::vector<double>> scale_invariant_msd(const WeightTrajectory& view,
                                                                          const ParameterLayout& layout) {
  const std::size_t T = view.size(), G = layout.groups();
  std::vector<double> norms(T * G, 0.0), angular(T, 0.0);
  for (std::size_t g = 0; g < G; ++g) {
    const std::size_t width = layout.group_dimension(int(g));
    if (width == 0) continue;
    std::vector<double> block(T * width), tensor;
    std::size_t col = 0;
    for (const auto& t : layout.tensors) {
      if (t.group != int(g)) continue;
      tensor.resize(T * t.size);
      view.read(0, T, t.offset, t.size, tensor.data());
      for (std::size_t r = 0; r < T; ++r) {
        std::copy(tensor.begin() + std::ptrdiff_t(r * t.size), tensor.begin() + std::ptrdiff_t((r + 1) * t.size),
                  block.begin() + std::ptrdiff_t(r * width + col));
      }
      col += t.size;
    }
    for (std::size_t r = 0; r < T; ++r) {
      double s = 0;
      for (std::size_t j = 0; j < width; ++j) s += block[r * width + j] * block[r * width + j];
      const double n = std::sqrt(s);
      norms[r * G + g] = n;
      if (n > 0) {
        for (std::size_t j = 0; j < width; ++j) block[r * width + j] /= n;
      }
    }
    const auto m = msd_fft(WeightTrajectory::from_rows(std::move(block), width), 0, T);
    for (std::size_t k = 0; k < T; ++k) angular[k] += m[k];
  }
  return {msd_fft(WeightTrajectory::from_rows(std::move(norms), G), 0, T), angular};
}

// The same for one coordinate shard: the squared group norms (T x G) are reduced, then each shard adds the MSD of
// its columns of the directions and the angular MSD (T) is reduced; the shards may cut tensors and groups anywhere.
std::pair<std::vector<double>, std::vector<double>> sharded_scale_invariant_msd(const WeightTrajectory& view,
                                                                                const ParameterLayout& layout,
                                                                                ShardReduction& reduction) {
  const std::size_t T = view.size(), G = layout.groups();
  const std::size_t c0 = view.column_offset(), c1 = c0 + view.dimension();
  auto overlap = [&](const ParameterTensor& t) {
    const std::size_t lo = std::max(t.offset, c0), hi = std::min(t.offset + t.size, c1);
    return std::pair<std::size_t, std::size_t>{lo, hi > lo ? hi - lo : 0};
  };
  std::vector<double> norms(T * G, 0.0), angular(T, 0.0), tensor;
  for (const auto& t : layout.tensors) {
    if (t.group < 0) continue;
    const auto [lo, w] = overlap(t);
    if (w == 0) continue;
    tensor.resize(T * w);
    view.read(0, T, lo - c0, w, tensor.data());
    for (std::size_t r = 0; r < T; ++r) {
      double s = 0;
      for (std::size_t j = 0; j < w; ++j) s += tensor[r * w + j] * tensor[r * w + j];
      norms[r * G + std::size_t(t.group)] += s;
    }
  }
  reduction.sum(norms.data(), norms.size());
  for (double& v : norms) v = std::sqrt(v);
  for (std::size_t g = 0; g < G; ++g) {
    std::size_t width = 0;
    for (const auto& t : layout.tensors) width += t.group == int(g) ? overlap(t).second : 0;
    if (width == 0) continue;
    std::vector<double> block(T * width);
    std::size_t col = 0;
    for (const auto& t : layout.tensors) {
      if (t.group != int(g)) continue;
      const auto [lo, w] = overlap(t);
      if (w == 0) continue;
      tensor.resize(T * w);
      view.read(0, T, lo - c0, w, tensor.data());
      for (std::size_t r = 0; r < T; ++r) {
        const double n = norms[r * G + g];
        for (std::size_t j = 0; j < w; ++j) block[r * width + col + j] = n > 0 ? tensor[r * w + j] / n : tensor[r * w + j];
      }
      col += w;
    }
    const auto m = msd_fft(WeightTrajectory::from_rows(std::move(block), width), 0, T);
    for (std::size_t k = 0; k < T; ++k) angular[k] += m[k];
  }
  reduction.sum(angular.data(), angular.size());
  return {msd_fft(WeightTrajectory::from_rows(std::move(norms), G), 0, T), angular};
}

// The tail index of the coordinates of the step increments (TailIndexEstimator's blocks of `block` consecutive
// nonzero samples in row-major (step, coordinate) order) of a trajectory of `dimension` coordinates in all, or, with
// a reduction, of one coordinate shard of it; in one pass over the data and in parallel. The steps are read in
// batches of at most kBatchRows rows (the batch depends only on the dimension and the number of shards, so that
// every shard makes the same reductions), each cut into units of kUnit coordinates. Per batch: every unit's count
// of nonzero samples and sum of log|x| (in parallel); the rows' counts summed over the shards, so that every unit
// knows the global index of its first sample; then every unit's samples summed into blocks (in parallel): a block
// that lies within one unit is written by it, the partial sums of the unit's first and last block are added in
// unit order afterwards. The result does not depend on the number of threads; the partial block sums and the sum
// of log|x| are summed over the shards at the end.
double step_tail_index(const WeightTrajectory& t, std::size_t block, std::size_t dimension,
                       ShardReduction* reduction) {
  constexpr std::size_t kBatchRows = 64, kBatchBytes = std::size_t{4} << 20, kUnit = 8192;
  const std::size_t D = t.dimension(), rows = t.size() - 1;
  const std::size_t S = reduction ? reduction->shards() : 1, me = reduction ? reduction->shard() : 0;
  if (rows == 0) return kNaN;
  const std::size_t samples = rows * dimension;
  if (block == 0) block = static_cast<std::size_t>(std::floor(std::sqrt(static_cast<double>(samples))));
  if (block < 2) return kNaN;
  const std::size_t widest = (dimension + S - 1) / S;
  const std::size_t batch = std::clamp<std::size_t>(kBatchBytes / (8 * std::max<std::size_t>(widest, 1)), 1,
                                                    std::min(rows, kBatchRows));
  const std::size_t per_row = std::max<std::size_t>(1, (D + kUnit - 1) / kUnit);
  std::vector<double> values((batch + 1) * D), counts(batch * S);  // values: the row before the batch, then it
  std::vector<std::size_t> unit_count(batch * per_row), unit_first(batch * per_row);
  std::vector<double> unit_log(batch * per_row), head(batch * per_row), tail(batch * per_row);
  std::vector<double> y;  // the partial sum of each block reached so far
  double log_x = 0;
  std::size_t base = 0;  // samples of every shard in the rows before
  t.read(0, 1, 0, D, values.data());
  for (std::size_t r0 = 0; r0 < rows; r0 += batch) {
    const std::size_t nb = std::min(batch, rows - r0), units = nb * per_row;
    auto unit_columns = [&](std::size_t u) {
      const std::size_t c0 = (u % per_row) * kUnit;
      return std::pair<std::size_t, std::size_t>{c0, std::min(kUnit, D - std::min(D, c0))};
    };
    detail::parallel_rows(units, [&](std::size_t u) {
      const auto [c0, w] = unit_columns(u);
      const std::size_t k = u / per_row;
      if (w > 0) t.read(r0 + 1 + k, 1, c0, w, values.data() + (k + 1) * D + c0);
    });
#pragma omp parallel for schedule(static)
    for (std::size_t u = 0; u < units; ++u) {  // after the reads: a unit's previous row is another unit's
      const auto [c0, w] = unit_columns(u);
      const std::size_t k = u / per_row;
      std::size_t c = 0;
      double lg = 0;
      const double* cur = values.data() + (k + 1) * D + c0;
      const double* prev = cur - D;
      for (std::size_t j = 0; j < w; ++j) {
        const double x = cur[j] - prev[j];
        if (x == 0.0 || x != x) continue;
        lg += std::log(std::fabs(x));
        ++c;
      }
      unit_count[u] = c;
      unit_log[u] = lg;
    }
    std::fill(counts.begin(), counts.end(), 0.0);
    for (std::size_t u = 0; u < units; ++u) {
      counts[(u / per_row) * S + me] += double(unit_count[u]);
      log_x += unit_log[u];
    }
    if (reduction) reduction->sum(counts.data(), nb * S);
    for (std::size_t k = 0; k < nb; ++k) {
      std::size_t g = base;
      for (std::size_t s = 0; s < me; ++s) g += std::size_t(counts[k * S + s]);
      for (std::size_t s = 0; s < S; ++s) base += std::size_t(counts[k * S + s]);
      for (std::size_t u = k * per_row; u < (k + 1) * per_row; ++u) {
        unit_first[u] = g;
        g += unit_count[u];
      }
    }
    const std::size_t end = unit_first[units - 1] + unit_count[units - 1];
    if (end > 0) y.resize(std::max(y.size(), (end - 1) / block + 1), 0.0);
#pragma omp parallel for schedule(static)
    for (std::size_t u = 0; u < units; ++u) {
      head[u] = tail[u] = 0.0;
      if (unit_count[u] == 0) continue;
      const auto [c0, w] = unit_columns(u);
      const double* cur = values.data() + (u / per_row + 1) * D + c0;
      const double* prev = cur - D;
      const std::size_t b0 = unit_first[u] / block;
      std::size_t b = b0, at = unit_first[u] % block;
      double acc = 0.0;
      for (std::size_t j = 0; j < w; ++j) {
        const double x = cur[j] - prev[j];
        if (x == 0.0 || x != x) continue;
        acc += x;
        if (++at == block) {
          (b == b0 ? head[u] : y[b]) = acc;  // a block after the first, complete here, is this unit's alone
          acc = 0.0;
          at = 0;
          ++b;
        }
      }
      if (at > 0) (b == b0 ? head[u] : tail[u]) = acc;
    }
    for (std::size_t u = 0; u < units; ++u) {
      if (unit_count[u] == 0) continue;
      const std::size_t b0 = unit_first[u] / block, b1 = (unit_first[u] + unit_count[u] - 1) / block;
      y[b0] += head[u];
      if (b1 > b0) y[b1] += tail[u];
    }
    std::copy(values.begin() + std::ptrdiff_t(nb * D), values.begin() + std::ptrdiff_t((nb + 1) * D), values.begin());
  }
  const std::size_t n = base, blocks = n / block;  // complete blocks only, as TailIndexEstimator
  y.resize(blocks, 0.0);  // drops the incomplete last block; zeros for blocks this shard has no samples of
  std::vector<double> totals(blocks + 1);
  std::copy(y.begin(), y.end(), totals.begin());
  totals[blocks] = log_x;
  if (reduction) reduction->sum(totals.data(), totals.size());
  if (blocks < 2) return kNaN;
  log_x = totals[blocks];
  std::size_t k = 0;
  double log_y = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    if (totals[b] != 0.0) {
      log_y += std::log(std::fabs(totals[b]));
      ++k;
    }
  }
  if (k < 2 || n == 0) return kNaN;
  return std::log(static_cast<double>(block)) / (log_y / double(k) - log_x / double(n));
}

}  // namespace

void PostAnalysisOptions::validate(std::size_t snapshots) const {
  constexpr const char* owner = "PostAnalysisOptions";
  (void)split_parts(snapshots, part_length);
  require(window != 0, owner, "window must be at least 1, got 0");
  fit.validate(owner, "fit.");
  require(short_band_lo >= 1 && short_band_hi > short_band_lo, owner,
          fmt::format("the short band needs 1 <= lo < hi, got {}:{}", short_band_lo, short_band_hi));
  require((long_band_lo == 0 && long_band_hi == 0) || (long_band_lo >= 1 && long_band_hi > long_band_lo), owner,
          fmt::format("the long band needs 1 <= lo < hi, got {}:{}", long_band_lo, long_band_hi));
  const std::size_t part = part_length == 0 ? snapshots : part_length;
  if (part >= 2 && part <= exact_limit) {
    std::size_t lags = 0;
    for (std::size_t lag : histogram_lags) lags += lag >= 1 && lag < part ? 1 : 0;
    require(untiled_pair_memory(part, lags) <= pair_memory_budget || tile_rows_within(part, lags, pair_memory_budget) > 0,
            owner,
            fmt::format("pair_memory_budget must hold tiles of at least one row for parts of {} snapshots ({} bytes), "
                        "got {} bytes",
                        part, tiled_pair_memory(part, 1, lags), pair_memory_budget));
  }
}

PairStatisticsOptions pair_statistics_options(const PostAnalysisOptions& options) {
  PairStatisticsOptions p;
  p.contour_bins = options.contour_bins;
  p.msl_bins = options.msl_bins;
  p.histogram_bins = options.histogram_bins;
  p.histogram_lags = options.histogram_lags;
  return p;
}

void pair_statistics(const PairDistances& d, const std::vector<double>& loss, const PostAnalysisOptions& options,
                     PartResult& r) {
  const Part& part = r.part;
  r.msd = msd_curve(part, d.msd());
  r.aging = msd_curve(part, d.from_start());
  r.step_length = d.step_lengths();
  r.mean_contour = mean_contour_length(d);
  r.msd_contour = msd_vs_contour(d, options.contour_bins);
  r.contour_fit = fit_bins(r.msd_contour);
  if (!loss.empty()) {
    r.msl_linear = msl_vs_distance(d, loss, Binning::linear, options.msl_bins);
    r.msl_log = msl_vs_distance(d, loss, Binning::logarithmic, options.msl_bins);
    r.msl_fit = fit_bins(r.msl_log);
  }
  r.histograms = displacement_histograms(d, options.histogram_lags, false, options.histogram_bins);
  r.rescaled = displacement_histograms(d, options.histogram_lags, true, options.histogram_bins);
}

namespace {

// The fields of a PairSummary into a part's result (r.part set), with the power-law fits of its bins.
void take_pair_summary(PairSummary p, bool with_loss, PartResult& r) {
  r.msd = msd_curve(r.part, p.msd);
  r.aging = msd_curve(r.part, p.from_start);
  r.step_length = std::move(p.step_lengths);
  r.mean_contour = std::move(p.mean_contour);
  r.msd_contour = std::move(p.msd_contour);
  r.contour_fit = fit_bins(r.msd_contour);
  if (with_loss) {
    r.msl_linear = std::move(p.msl_linear);
    r.msl_log = std::move(p.msl_log);
    r.msl_fit = fit_bins(r.msl_log);
  }
  r.histograms = std::move(p.histograms);
  r.rescaled = std::move(p.rescaled);
}

// analyse_part of the whole trajectory (no reduction) or of one coordinate shard.
PartResult analyse(const WeightTrajectory& trajectory, const Part& part, const PostAnalysisOptions& options,
                   ShardReduction* reduction) {
  PartResult r;
  r.part = part;
  MsdOptions mo;
  mo.part_length = part.count;
  r.all_pairs = part.count <= options.exact_limit;
  const WeightTrajectory view = trajectory.slice(part.start, part.count);
  std::size_t dimension = trajectory.dimension();
  if (reduction) {
    double total = double(dimension);
    reduction->sum(&total, 1);
    dimension = std::size_t(total);
  }
  std::size_t lags = 0;
  for (std::size_t lag : options.histogram_lags) lags += lag >= 1 && lag < part.count ? 1 : 0;
  // With shards, the sum over shards of the distances (or each tile's), and the binning of the pairs split over
  // the shards (each bins its rows' pairs, then the accumulators are summed).
  ShardSum sum;
  Shard share;
  if (reduction) {
    sum = [reduction](double* data, std::size_t count) { reduction->sum(data, count); };
    share = reduction->shard_of();
  }
  if (r.all_pairs && untiled_pair_memory(part.count, lags) > options.pair_memory_budget) {
    // Tiles within the budget.
    const auto loss = view.loss();
    auto p = tiled_pair_statistics(view, 0, part.count, loss, pair_statistics_options(options),
                                   options.pair_memory_budget, sum, share);
    r.pair_tile_rows = p.tile_rows;
    take_pair_summary(std::move(p), !loss.empty(), r);
  } else if (r.all_pairs) {
    auto d = PairDistances::compute(view, 0, part.count);
    if (reduction) {  // one reduction of count (count - 1) / 2 doubles, then each shard bins its share of the pairs
      d.sum_over_shards(sum);
      const auto loss = view.loss();
      take_pair_summary(pair_summary(d, loss, pair_statistics_options(options), sum, share), !loss.empty(), r);
    } else {
      pair_statistics(d, view.loss(), options, r);
    }
  } else {
    auto by_lag = msd_fft(view, 0, part.count);
    mo.part_length = 0;
    r.aging = aging_msd(view, mo).front();
    r.aging.part = part.index;
    r.aging.start = part.start;
    if (reduction) {  // the MSD by lag and the aging MSD are sums over coordinates: one reduction of 2 count
      const std::size_t a = by_lag.size(), b = r.aging.msd.size();
      std::vector<double> buf(a + b);
      std::copy(by_lag.begin(), by_lag.end(), buf.begin());
      std::copy(r.aging.msd.begin(), r.aging.msd.end(), buf.begin() + std::ptrdiff_t(a));
      reduction->sum(buf.data(), buf.size());
      std::copy(buf.begin(), buf.begin() + std::ptrdiff_t(a), by_lag.begin());
      std::copy(buf.begin() + std::ptrdiff_t(a), buf.end(), r.aging.msd.begin());
    }
    r.msd = msd_curve(part, by_lag);
  }
  r.beta = local_exponent(r.msd, options.window);
  // The fit and band exponents of the whole vector are the "all" motion's, computed once.
  r.motion.push_back(analyse_motion("all", dimension, r.msd, options, part.count));
  r.fit = r.motion.front().fit;
  r.short_band = r.motion.front().short_band;
  r.long_band = r.motion.front().long_band;
  if (options.layout && options.layout->groups() > 0) {
    if (options.layout->dimension() != dimension) {
      throw InputError(fmt::format("post_analysis: the parameter layout covers {} coordinates, the trajectory has {}",
                                   options.layout->dimension(), dimension));
    }
    auto [radial, angular] = reduction ? sharded_scale_invariant_msd(view, *options.layout, *reduction)
                                       : scale_invariant_msd(view, *options.layout);
    r.motion.push_back(analyse_motion("radial", options.layout->groups(), msd_curve(part, radial), options, part.count));
    r.motion.push_back(analyse_motion("angular", options.layout->group_dimension(), msd_curve(part, angular), options,
                                      part.count));
  }
  r.tail_index = step_tail_index(view, options.tail_block, dimension, reduction);
  return r;
}

std::vector<PartResult> analyse_all(const WeightTrajectory& trajectory, const PostAnalysisOptions& options,
                                    ShardReduction* reduction) {
  const auto parts = split_parts(trajectory.size(), options.part_length);
  const std::size_t rest = trajectory.size() - parts.size() * parts.front().count;
  if (rest > 0) {
    log_line(options.log, fmt::format("anodiff: the last {} snapshots (fewer than a part of {}) are not analysed", rest,
                                      parts.front().count));
  }
  std::vector<PartResult> out;
  Progress progress(options.log, "post-analysis (parts)", parts.size());
  for (const Part& p : parts) {
    out.push_back(analyse(trajectory, p, options, reduction));
    const auto& f = out.back().fit;
    progress.update(out.size(), fmt::format("part {} early {:.3f} late {:.3f} tau0 {}", p.index, f.early_exponent,
                                            f.late_exponent, f.crossover_found ? fmt::format("{:.1f}", f.crossover)
                                                                               : std::string("none")));
  }
  progress.finish();
  return out;
}

}  // namespace

PartResult analyse_part(const WeightTrajectory& trajectory, const Part& part, const PostAnalysisOptions& options) {
  return analyse(trajectory, part, options, nullptr);
}

PartResult analyse_part(const WeightTrajectory& shard, const Part& part, const PostAnalysisOptions& options,
                        ShardReduction& reduction) {
  return analyse(shard, part, options, &reduction);
}

std::vector<PartResult> post_analysis(const WeightTrajectory& shard, const PostAnalysisOptions& options,
                                      ShardReduction& reduction) {
  return analyse_all(shard, options, &reduction);
}

std::pair<std::size_t, std::size_t> shard_columns(std::size_t dimension, Shard shard) {
  shard.validate("shard_columns");
  const std::size_t base = dimension / shard.count, extra = dimension % shard.count;
  const std::size_t first = shard.index * base + std::min(shard.index, extra);
  return {first, base + (shard.index < extra ? 1 : 0)};
}

WeightTrajectory load_shard_columns(const std::filesystem::path& path, Shard shard, const LogSink& log) {
  shard.validate("load_shard_columns");
  if (WeightTrajectory::shard_directories(path).size() == shard.count) {
    auto own = WeightTrajectory::load_shard(path, shard.index);
    if (log) {
      log(fmt::format("{}: {} snapshots in {} shards; {} ranks, each its shard", path.string(), own.size(), shard.count,
                      shard.count));
    }
    return own;
  }
  const auto whole = WeightTrajectory::load(path);
  if (whole.dimension() < shard.count) {
    throw InputError(fmt::format("{}: {} parameters cannot be split among {} ranks", path.string(), whole.dimension(),
                                 shard.count));
  }
  const auto [first, count] = shard_columns(whole.dimension(), shard);
  if (log) log(fmt::format("{} ranks, each a column range of about {} parameters", shard.count, count));
  return whole.columns(first, count);
}

std::vector<PartResult> post_analysis(const WeightTrajectory& trajectory, const PostAnalysisOptions& options) {
  return analyse_all(trajectory, options, nullptr);
}

}  // namespace anodiff
