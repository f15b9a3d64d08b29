#include "anodiff/post_analysis.hpp"

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
}

PartResult analyse_part(const WeightTrajectory& trajectory, const Part& part, const PostAnalysisOptions& options) {
  PartResult r;
  r.part = part;
  MsdOptions mo;
  mo.part_length = part.count;
  r.all_pairs = part.count <= options.exact_limit;
  const WeightTrajectory view = trajectory.slice(part.start, part.count);
  if (r.all_pairs) {
    const auto d = PairDistances::compute(view, 0, part.count);
    r.msd = msd_curve(part, d.msd());
    r.aging = msd_curve(part, d.from_start());
    r.step_length = d.step_lengths();
    r.mean_contour = mean_contour_length(d);
    r.msd_contour = msd_vs_contour(d, options.contour_bins);
    r.contour_fit = fit_bins(r.msd_contour);
    const auto loss = view.loss();
    if (!loss.empty()) {
      r.msl_linear = msl_vs_distance(d, loss, Binning::linear, options.msl_bins);
      r.msl_log = msl_vs_distance(d, loss, Binning::logarithmic, options.msl_bins);
      r.msl_fit = fit_bins(r.msl_log);
    }
    r.histograms = displacement_histograms(d, options.histogram_lags, false, options.histogram_bins);
    r.rescaled = displacement_histograms(d, options.histogram_lags, true, options.histogram_bins);
  } else {
    r.msd = msd_curve(part, msd_fft(view, 0, part.count));
    mo.part_length = 0;
    r.aging = aging_msd(view, mo).front();
    r.aging.part = part.index;
    r.aging.start = part.start;
  }
  r.beta = local_exponent(r.msd, options.window);
  // The fit and band exponents of the whole vector are the "all" motion's, computed once.
  r.motion.push_back(analyse_motion("all", trajectory.dimension(), r.msd, options, part.count));
  r.fit = r.motion.front().fit;
  r.short_band = r.motion.front().short_band;
  r.long_band = r.motion.front().long_band;
  if (options.layout && options.layout->groups() > 0) {
    if (options.layout->dimension() != trajectory.dimension()) {
      throw InputError(fmt::format("post_analysis: the parameter layout covers {} coordinates, the trajectory has {}",
                                   options.layout->dimension(), trajectory.dimension()));
    }
    auto [radial, angular] = scale_invariant_msd(view, *options.layout);
    r.motion.push_back(analyse_motion("radial", options.layout->groups(), msd_curve(part, radial), options, part.count));
    r.motion.push_back(analyse_motion("angular", options.layout->group_dimension(), msd_curve(part, angular), options,
                                      part.count));
  }
  r.tail_index = step_tail_index(view, {part.index, 0, part.count}, options.tail_block);
  return r;
}

std::vector<PartResult> post_analysis(const WeightTrajectory& trajectory, const PostAnalysisOptions& options) {
  const auto parts = split_parts(trajectory.size(), options.part_length);
  const std::size_t rest = trajectory.size() - parts.size() * parts.front().count;
  if (rest > 0) {
    log_line(options.log, fmt::format("anodiff: the last {} snapshots (fewer than a part of {}) are not analysed", rest,
                                      parts.front().count));
  }
  std::vector<PartResult> out;
  Progress progress(options.log, "post-analysis (parts)", parts.size());
  for (const Part& p : parts) {
    out.push_back(analyse_part(trajectory, p, options));
    const auto& f = out.back().fit;
    progress.update(out.size(), fmt::format("part {} early {:.3f} late {:.3f} tau0 {}", p.index, f.early_exponent,
                                            f.late_exponent, f.crossover_found ? fmt::format("{:.1f}", f.crossover)
                                                                               : std::string("none")));
  }
  progress.finish();
  return out;
}

}  // namespace anodiff
