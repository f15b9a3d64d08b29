#include "anodiff/post_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/csv.hpp"
#include "anodiff/error.hpp"
#include "anodiff/progress.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> as_double(const std::vector<std::size_t>& v) { return {v.begin(), v.end()}; }

double step_tail_index(const WeightTrajectory& t, const Part& part, std::size_t block) {
  const std::size_t D = t.dimension();
  const std::size_t samples = (part.count - 1) * D;
  if (block == 0) block = static_cast<std::size_t>(std::floor(std::sqrt(static_cast<double>(samples))));
  if (block < 2) return kNaN;
  TailIndexEstimator e(block);
  std::vector<double> prev(D), cur(D);
  t.read(part.start, 1, 0, D, prev.data());
  for (std::size_t r = 1; r < part.count; ++r) {
    t.read(part.start + r, 1, 0, D, cur.data());
    for (std::size_t j = 0; j < D; ++j) e.add(cur[j] - prev[j]);
    std::swap(prev, cur);
  }
  return e.alpha();
}

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

// step_tail_index for one coordinate shard, exactly the estimator's blocks of consecutive nonzero samples in
// row-major (step, coordinate) order: the per-row nonzero counts of every shard are reduced, so that each shard
// knows the global index of its samples, then the partial block sums are reduced.
double sharded_step_tail_index(const WeightTrajectory& t, std::size_t block, ShardReduction& reduction) {
  const std::size_t D = t.dimension(), rows = t.size() - 1, S = reduction.shards(), me = reduction.shard();
  std::vector<double> prev(D), cur(D);
  // Pass 1: counts[r * S + shard], then the sum of log|x| and the dimension.
  std::vector<double> counts(rows * S + 2, 0.0);
  double log_x = 0;
  t.read(0, 1, 0, D, prev.data());
  for (std::size_t r = 0; r < rows; ++r) {
    t.read(r + 1, 1, 0, D, cur.data());
    std::size_t c = 0;
    for (std::size_t j = 0; j < D; ++j) {
      const double x = cur[j] - prev[j];
      if (x == 0.0 || x != x) continue;
      log_x += std::log(std::fabs(x));
      ++c;
    }
    counts[r * S + me] = double(c);
    std::swap(prev, cur);
  }
  counts[rows * S] = log_x;
  counts[rows * S + 1] = double(D);
  reduction.sum(counts.data(), counts.size());
  log_x = counts[rows * S];
  const std::size_t samples = rows * std::size_t(counts[rows * S + 1]);
  if (block == 0) block = static_cast<std::size_t>(std::floor(std::sqrt(static_cast<double>(samples))));
  if (block < 2) return kNaN;
  std::size_t n = 0;
  for (std::size_t k = 0; k < rows * S; ++k) n += std::size_t(counts[k]);
  const std::size_t blocks = n / block;  // complete blocks only, as TailIndexEstimator
  if (blocks < 2) return kNaN;
  // Pass 2: the partial sum of each block.
  std::vector<double> y(blocks, 0.0);
  std::size_t base = 0;
  t.read(0, 1, 0, D, prev.data());
  for (std::size_t r = 0; r < rows; ++r) {
    std::size_t g = base;
    for (std::size_t s = 0; s < me; ++s) g += std::size_t(counts[r * S + s]);
    for (std::size_t s = 0; s < S; ++s) base += std::size_t(counts[r * S + s]);
    t.read(r + 1, 1, 0, D, cur.data());
    // The block of the row's first sample and the position in it, then counted along (no division per sample);
    // the block's sum is carried in a register, in the same order of additions as y[b] += x.
    std::size_t b = g / block, at = g % block;
    double acc = b < blocks ? y[b] : 0.0;
    for (std::size_t j = 0; j < D && b < blocks; ++j) {
      const double x = cur[j] - prev[j];
      if (x == 0.0 || x != x) continue;
      acc += x;
      if (++at == block) {
        y[b] = acc;
        at = 0;
        ++b;
        acc = b < blocks ? y[b] : 0.0;
      }
    }
    if (b < blocks) y[b] = acc;
    std::swap(prev, cur);
  }
  reduction.sum(y.data(), y.size());
  std::size_t k = 0;
  double log_y = 0;
  for (double v : y) {
    if (v != 0.0) {
      log_y += std::log(std::fabs(v));
      ++k;
    }
  }
  if (k < 2 || n == 0) return kNaN;
  return std::log(static_cast<double>(block)) / (log_y / double(k) - log_x / double(n));
}

}  // namespace

void PostAnalysisOptions::validate(std::size_t snapshots) const {
  (void)split_parts(snapshots, part_length);
  if (window == 0) throw std::invalid_argument("PostAnalysisOptions: window must be at least 1, got 0");
  if (!(fit.min_lag >= 1)) throw std::invalid_argument(fmt::format("PostAnalysisOptions: fit.min_lag must be at least 1, got {}", fit.min_lag));
  if (!(short_band_lo >= 1) || !(short_band_hi > short_band_lo)) {
    throw std::invalid_argument(fmt::format("PostAnalysisOptions: the short band needs 1 <= lo < hi, got {}:{}",
                                            short_band_lo, short_band_hi));
  }
  if ((long_band_lo != 0 || long_band_hi != 0) && (!(long_band_lo >= 1) || !(long_band_hi > long_band_lo))) {
    throw std::invalid_argument(fmt::format("PostAnalysisOptions: the long band needs 1 <= lo < hi, got {}:{}",
                                            long_band_lo, long_band_hi));
  }
  const std::size_t part = part_length == 0 ? snapshots : part_length;
  if (part >= 2 && part <= exact_limit) {
    std::size_t lags = 0;
    for (std::size_t lag : histogram_lags) lags += lag >= 1 && lag < part ? 1 : 0;
    if (untiled_pair_memory(part, lags) > pair_memory_budget && tile_rows_within(part, lags, pair_memory_budget) == 0) {
      throw std::invalid_argument(fmt::format(
          "PostAnalysisOptions: pair_memory_budget must hold tiles of at least one row for parts of {} snapshots "
          "({} bytes), got {} bytes",
          part, tiled_pair_memory(part, 1, lags), pair_memory_budget));
    }
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
  // the shards (PairShare: each bins its rows' pairs, then the accumulators are summed).
  ShardSum sum;
  PairShare share;
  if (reduction) {
    sum = [reduction](double* data, std::size_t count) { reduction->sum(data, count); };
    share = PairShare{reduction->shards(), reduction->shard()};
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
    if (reduction) {  // one reduction of count^2 doubles, then each shard bins its share of the pairs
      auto squared = d.squared_distances();
      reduction->sum(squared.data(), squared.size());
      d = PairDistances::from_squared_distances(part.count, std::move(squared));
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
  r.tail_index = reduction ? sharded_step_tail_index(view, options.tail_block, *reduction)
                           : step_tail_index(view, {part.index, 0, part.count}, options.tail_block);
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

std::pair<std::size_t, std::size_t> shard_columns(std::size_t dimension, std::size_t shards, std::size_t index) {
  if (shards == 0 || index >= shards) {
    throw std::invalid_argument(fmt::format("shard_columns: shard {} of {}", index, shards));
  }
  const std::size_t base = dimension / shards, extra = dimension % shards;
  const std::size_t first = index * base + std::min(index, extra);
  return {first, base + (index < extra ? 1 : 0)};
}

std::vector<PartResult> post_analysis(const WeightTrajectory& trajectory, const PostAnalysisOptions& options) {
  return analyse_all(trajectory, options, nullptr);
}

}  // namespace anodiff
