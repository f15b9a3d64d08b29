// anodiff._anodiff: the MSD and its relatives, the fits, the ensemble, the post-analysis and the per-layer MSD.
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "anodiff/analysis/fit.hpp"
#include "anodiff/analysis/msd.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/analysis/per_layer_msd.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "common.hpp"

namespace anodiff::python {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

MsdMethod parse_method(const std::string& method) {
  if (method == "auto" || method == "automatic") return MsdMethod::automatic;
  if (method == "fft") return MsdMethod::fft;
  if (method == "pairs") return MsdMethod::pairs;
  throw py::value_error(fmt::format("method: expected 'auto', 'fft' or 'pairs', got '{}'", method));
}

// Drops the lags below min_lag.
void trim(MsdCurve& c, std::size_t min_lag) {
  std::size_t k = 0;
  while (k < c.lag.size() && c.lag[k] < min_lag) ++k;
  c.lag.erase(c.lag.begin(), c.lag.begin() + std::ptrdiff_t(k));
  c.msd.erase(c.msd.begin(), c.msd.begin() + std::ptrdiff_t(k));
}

// msd() and aging_msd() with the module's part selection: every part (a list), the whole trajectory (one curve),
// or part k alone (one curve, computed on that part only).
template <class Compute>
py::object curves(py::handle x, std::size_t part_length, std::size_t max_lag, py::object part, std::size_t min_lag,
                  MsdMethod method, Compute compute) {
  const WeightTrajectory t = as_trajectory(x);
  MsdOptions o;
  o.part_length = part_length;
  o.max_lag = max_lag;
  o.method = method;
  std::vector<MsdCurve> result;
  if (!part.is_none()) {
    const auto k = part.cast<std::size_t>();
    const auto parts = split_parts(t.size(), part_length);
    if (k >= parts.size()) {
      throw py::index_error(fmt::format("part: the trajectory has {} parts of {} snapshots, got part {}",
                                        parts.size(), parts[0].count, k));
    }
    o.part_length = 0;
    {
      py::gil_scoped_release release;
      result = compute(t.slice(parts[k].start, parts[k].count), o);
    }
    result[0].part = parts[k].index;
    result[0].start = parts[k].start;
  } else {
    py::gil_scoped_release release;
    result = compute(t, o);
  }
  for (auto& c : result) trim(c, min_lag);
  if (!part.is_none() || part_length == 0) return py::cast(std::move(result[0]));
  return py::cast(std::move(result));
}

CrossoverOptions crossover_options(py::object options, const py::kwargs& kw) {
  CrossoverOptions o = options.is_none() ? CrossoverOptions{} : options.cast<CrossoverOptions>();
  py::object obj = py::cast(o);
  for (auto item : kw) {
    if (!py::hasattr(obj, item.first)) {
      throw py::type_error(fmt::format("unexpected keyword argument '{}' (CrossoverOptions has none)",
                                       py::str(item.first).cast<std::string>()));
    }
    obj.attr(item.first) = item.second;
  }
  return obj.cast<CrossoverOptions>();
}

std::pair<double, double> band(py::object b, const char* what) {
  if (b.is_none()) return {0, 0};
  auto t = b.cast<std::vector<double>>();
  if (t.size() != 2) throw py::value_error(fmt::format("{}: expected (lo, hi), got {} values", what, t.size()));
  return {t[0], t[1]};
}

}  // namespace

bool is_auto(py::handle layout) { return py::isinstance<py::str>(layout) && layout.cast<std::string>() == "auto"; }

PostAnalysisOptions post_analysis_options(std::size_t part_length, std::size_t window, std::size_t exact_limit,
                                          std::size_t pair_memory_budget, std::size_t contour_bins,
                                          std::size_t msl_bins, std::size_t histogram_bins, py::object histogram_lags,
                                          std::size_t tail_block, py::object fit, py::object short_band,
                                          py::object long_band, py::object layout, py::object log) {
  PostAnalysisOptions o;
  o.part_length = part_length;
  o.window = window;
  o.exact_limit = exact_limit;
  o.pair_memory_budget = pair_memory_budget;
  o.contour_bins = contour_bins;
  o.msl_bins = msl_bins;
  o.histogram_bins = histogram_bins;
  if (!histogram_lags.is_none()) o.histogram_lags = histogram_lags.cast<std::vector<std::size_t>>();
  o.tail_block = tail_block;
  o.fit = crossover_options(fit, py::kwargs());
  std::tie(o.short_band_lo, o.short_band_hi) = band(short_band, "short_band");
  std::tie(o.long_band_lo, o.long_band_hi) = band(long_band, "long_band");
  if (!layout.is_none() && !is_auto(layout)) o.layout = layout.cast<ParameterLayout>();
  o.log = as_log(log);
  return o;
}

namespace {

std::string repr_band(const BandExponent& b) {
  return fmt::format("BandExponent(lags {:g}..{:g}: median {:.4g} [{:.4g}, {:.4g}], {} values)", b.lag_lo, b.lag_hi,
                     b.median, b.q25, b.q75, b.lags);
}

}  // namespace

void init_analysis(py::module_& m) {
  py::class_<Part>(m, "Part", "One part of a trajectory: snapshots [start, start + count).")
      .def_readonly("index", &Part::index, "k.")
      .def_readonly("start", &Part::start, "First snapshot, k x part length.")
      .def_readonly("count", &Part::count, "Snapshots in the part.")
      .def("__repr__", [](const Part& p) { return fmt::format("Part({}, start={}, count={})", p.index, p.start, p.count); });

  py::class_<MsdCurve> curve(m, "MsdCurve",
                             "A mean-squared displacement curve of one part: `lag` (int64) and `msd` (float64) arrays.");
  curve
      .def(py::init([](py::handle lag, py::handle msd, std::size_t part, std::size_t start) {
             MsdCurve c;
             const auto l = as_vector(lag, "lag");
             c.msd = as_vector(msd, "msd");
             if (l.size() != c.msd.size()) {
               throw py::value_error(fmt::format("MsdCurve: {} lags for {} MSD values", l.size(), c.msd.size()));
             }
             for (double v : l) {
               if (!(v >= 1) || v != std::floor(v)) throw py::value_error(fmt::format("MsdCurve: lag {} is not a whole number >= 1", v));
               c.lag.push_back(std::size_t(v));
             }
             c.part = part;
             c.start = start;
             return c;
           }),
           py::arg("lag"), py::arg("msd"), py::arg("part") = 0, py::arg("start") = 0,
           "A curve from your own arrays (e.g. to fit with fit_crossover or local_exponent).")
      .def_readonly("part", &MsdCurve::part, "Part index k.")
      .def_readonly("start", &MsdCurve::start, "First snapshot of the part.")
      .def("__len__", [](const MsdCurve& c) { return c.lag.size(); })
      .def("__repr__", [](const MsdCurve& c) {
        return fmt::format("MsdCurve(part={}, start={}, lags {}..{})", c.part, c.start, c.lag.empty() ? 0 : c.lag.front(),
                           c.lag.empty() ? 0 : c.lag.back());
      });
  def_array(curve, "lag", &MsdCurve::lag, "Lags tau (int64), read-only.");
  def_array(curve, "msd", &MsdCurve::msd, "MSD(tau) (float64), read-only.");

  py::class_<LocalExponentCurve> beta(m, "LocalExponentCurve", "The local exponent beta(tau) of an MSD curve.");
  beta.def_readonly("part", &LocalExponentCurve::part, "Part index.")
      .def_readonly("start", &LocalExponentCurve::start, "First snapshot of the part.")
      .def("__len__", [](const LocalExponentCurve& c) { return c.lag.size(); })
      .def("__repr__", [](const LocalExponentCurve& c) {
        return fmt::format("LocalExponentCurve(part={}, {} lags)", c.part, c.lag.size());
      });
  def_array(beta, "lag", &LocalExponentCurve::lag, "tau = 1 .. max_lag - window (int64).");
  def_array(beta, "beta", &LocalExponentCurve::beta, "ln[MSD(tau + w) / MSD(tau)] / ln[(tau + w) / tau].");

  py::class_<BandExponent>(m, "BandExponent", "beta(tau) summarised over a band of lags: median and quartiles.")
      .def_readonly("lag_lo", &BandExponent::lag_lo, "Smallest MSD lag of the band.")
      .def_readonly("lag_hi", &BandExponent::lag_hi, "Largest MSD lag of the band.")
      .def_readonly("median", &BandExponent::median, "Median of beta over the band (NaN if empty).")
      .def_readonly("q25", &BandExponent::q25, "Lower quartile.")
      .def_readonly("q75", &BandExponent::q75, "Upper quartile.")
      .def_readonly("lags", &BandExponent::lags, "beta values in the band (0: the band does not fit).")
      .def("__repr__", &repr_band);

  py::class_<PowerLawFit>(m, "PowerLawFit", "y = prefactor * x^exponent, least squares in log-log.")
      .def_readonly("exponent", &PowerLawFit::exponent, "Slope in log-log.")
      .def_readonly("exponent_error", &PowerLawFit::exponent_error, "Standard error of the slope.")
      .def_readonly("prefactor", &PowerLawFit::prefactor, "exp(intercept).")
      .def_readonly("x_min", &PowerLawFit::x_min, "Smallest x used.")
      .def_readonly("x_max", &PowerLawFit::x_max, "Largest x used.")
      .def_readonly("points", &PowerLawFit::points, "Points used.")
      .def("__repr__", [](const PowerLawFit& f) {
        return fmt::format("PowerLawFit(exponent={:.4g} +- {:.2g}, prefactor={:.4g}, {} points in [{:g}, {:g}])",
                           f.exponent, f.exponent_error, f.prefactor, f.points, f.x_min, f.x_max);
      });

  py::class_<CrossoverOptions>(m, "CrossoverOptions", "Options of fit_crossover (docs/fits.md); defaults are the study's.")
      .def(py::init([](double min_lag, double max_lag, double max_lag_fraction, std::size_t points_per_decade,
                       std::size_t min_points, bool noise_floor, double min_exponent_change) {
             CrossoverOptions o;
             o.min_lag = min_lag;
             o.max_lag = max_lag;
             o.max_lag_fraction = max_lag_fraction;
             o.points_per_decade = points_per_decade;
             o.min_points = min_points;
             o.noise_floor = noise_floor;
             o.min_exponent_change = min_exponent_change;
             return o;
           }),
           py::arg("min_lag") = 4.0, py::arg("max_lag") = 0.0, py::arg("max_lag_fraction") = 0.9,
           py::arg("points_per_decade") = 16, py::arg("min_points") = 4, py::arg("noise_floor") = true,
           py::arg("min_exponent_change") = 0.1)
      .def_readwrite("min_lag", &CrossoverOptions::min_lag, "Smallest lag fitted.")
      .def_readwrite("max_lag", &CrossoverOptions::max_lag, "Largest lag fitted; 0 = max_lag_fraction x (largest lag + 1).")
      .def_readwrite("max_lag_fraction", &CrossoverOptions::max_lag_fraction, "Used when max_lag is 0.")
      .def_readwrite("points_per_decade", &CrossoverOptions::points_per_decade, "Log-spaced sampling of the lags.")
      .def_readwrite("min_points", &CrossoverOptions::min_points, "Fewest points on each side of the crossover.")
      .def_readwrite("noise_floor", &CrossoverOptions::noise_floor, "Fit an additive noise floor.")
      .def_readwrite("min_exponent_change", &CrossoverOptions::min_exponent_change,
                     "A crossover needs |late - early| at least this.");

  py::class_<CrossoverFit>(m, "CrossoverFit",
                           "Two-regime fit MSD ~ floor + tau^early below tau0, floor + tau^late above (docs/fits.md).")
      .def_readonly("early_exponent", &CrossoverFit::early_exponent, "Exponent at short lags.")
      .def_readonly("early_error", &CrossoverFit::early_error, "Its standard error.")
      .def_readonly("late_exponent", &CrossoverFit::late_exponent, "Exponent at long lags.")
      .def_readonly("late_error", &CrossoverFit::late_error, "Its standard error.")
      .def_readonly("crossover", &CrossoverFit::crossover, "tau0 (lags); NaN when none was found.")
      .def_readonly("crossover_error", &CrossoverFit::crossover_error, "Standard error of tau0.")
      .def_readonly("breakpoint", &CrossoverFit::breakpoint, "The fitted breakpoint, found or not.")
      .def_readonly("noise_floor", &CrossoverFit::noise_floor, "Fitted additive floor (MSD units).")
      .def_readonly("floor_share", &CrossoverFit::floor_share, "noise_floor / MSD at the smallest fitted lag.")
      .def_readonly("single_exponent", &CrossoverFit::single_exponent, "One power law (+ floor) over the range.")
      .def_readonly("single_error", &CrossoverFit::single_error, "Its standard error.")
      .def_readonly("lag_min", &CrossoverFit::lag_min, "Smallest lag fitted.")
      .def_readonly("lag_max", &CrossoverFit::lag_max, "Largest lag fitted.")
      .def_readonly("points", &CrossoverFit::points, "Sampled points fitted.")
      .def_readonly("rms", &CrossoverFit::rms, "RMS residual in ln MSD.")
      .def_readonly("valid", &CrossoverFit::valid, "False when too few points were available.")
      .def_readonly("crossover_found", &CrossoverFit::crossover_found, "A crossover inside the range.")
      .def_readonly("verdict", &CrossoverFit::verdict, "'crossover', 'no crossover found: ...' or 'too few lags'.")
      .def("__repr__", [](const CrossoverFit& f) {
        return fmt::format("CrossoverFit(early={:.4g} +- {:.2g}, late={:.4g} +- {:.2g}, tau0={:.4g}, '{}')",
                           f.early_exponent, f.early_error, f.late_exponent, f.late_error, f.crossover, f.verdict);
      });

  py::class_<EnsembleCurve> ens(m, "EnsembleCurve",
                                "Ensemble- and time-averaged MSD over several trajectories, and ergodicity breaking.");
  ens.def_readonly("part", &EnsembleCurve::part, "Part index.")
      .def_readonly("start", &EnsembleCurve::start, "First snapshot of the part.")
      .def_readonly("trajectories", &EnsembleCurve::trajectories, "Number of trajectories.")
      .def("__repr__", [](const EnsembleCurve& c) {
        return fmt::format("EnsembleCurve(part={}, {} trajectories, {} lags)", c.part, c.trajectories, c.lag.size());
      });
  def_array(ens, "lag", &EnsembleCurve::lag, "1 .. max_lag (int64).");
  def_array(ens, "ensemble_msd", &EnsembleCurve::ensemble_msd, "Mean over trajectories of |w(start + tau) - w(start)|^2.");
  def_array(ens, "time_averaged_msd", &EnsembleCurve::time_averaged_msd, "Mean over trajectories of the time-averaged MSD.");
  def_array(ens, "ergodicity_breaking", &EnsembleCurve::ergodicity_breaking,
            "EB(tau) = <delta^2(tau)^2> / <delta^2(tau)>^2 - 1 over trajectories.");

  py::class_<MotionResult>(m, "MotionResult", "One kind of motion of a part (all, radial or angular).")
      .def_readonly("component", &MotionResult::component, "'all', 'radial' or 'angular'.")
      .def_readonly("dimension", &MotionResult::dimension, "Coordinates of this component.")
      .def_readonly("msd", &MotionResult::msd, "Its time-averaged MSD (MsdCurve).")
      .def_readonly("fit", &MotionResult::fit, "Two-regime fit (CrossoverFit).")
      .def_readonly("short_band", &MotionResult::short_band, "beta over the short band.")
      .def_readonly("long_band", &MotionResult::long_band, "beta over the long band.")
      .def("__repr__", [](const MotionResult& r) {
        return fmt::format("MotionResult('{}', dimension={})", r.component, r.dimension);
      });

  py::class_<PartResult> part(m, "PartResult", "Everything the post-analysis computed for one part.");
  part.def_readonly("part", &PartResult::part, "Which snapshots (Part).")
      .def_readonly("all_pairs", &PartResult::all_pairs, "False when the part exceeded exact_limit (no pair statistics).")
      .def_readonly("pair_tile_rows", &PartResult::pair_tile_rows,
                    "Rows of the tiles its pair statistics were computed in (0: untiled, the whole P x P matrix).")
      .def_readonly("msd", &PartResult::msd, "Time-averaged MSD (MsdCurve).")
      .def_readonly("beta", &PartResult::beta, "Local exponent (LocalExponentCurve).")
      .def_readonly("aging", &PartResult::aging, "|w(start + tau) - w(start)|^2 (MsdCurve).")
      .def_readonly("fit", &PartResult::fit, "Early / late exponents and tau0 (CrossoverFit).")
      .def_readonly("short_band", &PartResult::short_band, "beta over the short band (BandExponent).")
      .def_readonly("long_band", &PartResult::long_band, "beta over the long band (BandExponent).")
      .def_readonly("motion", &PartResult::motion, "MotionResult per component: all, radial, angular.")
      .def_readonly("msd_contour", &PartResult::msd_contour, "MSD against contour length (BinnedCurve).")
      .def_readonly("contour_fit", &PartResult::contour_fit, "MSD ~ C^exponent (PowerLawFit).")
      .def_readonly("msl_linear", &PartResult::msl_linear, "MSL against distance, linear bins (BinnedCurve).")
      .def_readonly("msl_log", &PartResult::msl_log, "MSL against distance, logarithmic bins (BinnedCurve).")
      .def_readonly("msl_fit", &PartResult::msl_fit, "MSL ~ dr^(2H) (PowerLawFit); H = exponent / 2.")
      .def_readonly("histograms", &PartResult::histograms, "DisplacementHistogram per histogram lag.")
      .def_readonly("rescaled", &PartResult::rescaled, "The same divided by sqrt(MSD(tau)).")
      .def_readonly("tail_index", &PartResult::tail_index, "Tail index of the coordinates of the step increments.")
      .def("__repr__", [](const PartResult& r) {
        return fmt::format("PartResult(part={}, start={}, count={}, early={:.4g}, late={:.4g}, tau0={:.4g})",
                           r.part.index, r.part.start, r.part.count, r.fit.early_exponent, r.fit.late_exponent,
                           r.fit.crossover);
      });
  def_array(part, "step_length", &PartResult::step_length, "s_k = |w_k - w_{k-1}|, k = 1..count-1 (index 0 unused).");
  def_array(part, "mean_contour", &PartResult::mean_contour, "Mean contour length per lag (index = lag).");

  py::class_<LayerMsd>(m, "LayerMsd", "The MSD of one tensor, layer or scale-invariant group, per part.")
      .def_readonly("name", &LayerMsd::name, "The tensor, layer or group.")
      .def_readonly("dimension", &LayerMsd::dimension, "Its coordinates.")
      .def_readonly("parts", &LayerMsd::parts, "MsdCurve per part.")
      .def("__repr__", [](const LayerMsd& l) {
        return fmt::format("LayerMsd('{}', dimension={}, {} parts)", l.name, l.dimension, l.parts.size());
      });

  m.def("split_parts", &split_parts, py::arg("snapshots"), py::arg("part_length") = 0,
        "split_parts(snapshots, part_length=0) -> list[Part]\n\n"
        "Consecutive parts of part_length snapshots (0: one part of everything); a shorter remainder is dropped.");

  m.def(
      "msd",
      [](py::handle x, std::size_t part_length, std::size_t max_lag, py::object part, std::size_t min_lag,
         const std::string& method) {
        return curves(x, part_length, max_lag, part, min_lag, parse_method(method),
                      [](const WeightTrajectory& t, const MsdOptions& o) { return anodiff::msd(t, o); });
      },
      py::arg("x"), py::kw_only(), py::arg("part_length") = 0, py::arg("max_lag") = 0, py::arg("part") = py::none(),
      py::arg("min_lag") = 1, py::arg("method") = "auto",
      "msd(x, *, part_length=0, max_lag=0, part=None, min_lag=1, method='auto') -> MsdCurve | list[MsdCurve]\n\n"
      "Time-averaged mean-squared displacement MSD(tau) = 1/(T - tau) sum_i |w_{i+tau} - w_i|^2 of each part\n"
      "(docs/msd.md): the library's certified values (exact to 1e-9 relative), the same as the C++ call.\n\n"
      "x: a (T, D) float32/float64 numpy array (read in place, no copy when C-contiguous), a Trajectory, or a\n"
      "   path (a .npy or a trajectory directory, memory-mapped).\n"
      "part_length: snapshots per part (waiting-time window); 0 = the whole trajectory.\n"
      "max_lag: largest lag (0 = part length - 1); min_lag: smallest lag returned.\n"
      "part: compute only part k (one MsdCurve).\n"
      "method: 'auto' (= 'fft', the certified FFT, O(D T log T)) or 'pairs' (the Gram matrix, O(T^2 D)).\n\n"
      "Returns one MsdCurve (arrays .lag, .msd) for part_length=0 or a given part, else a list, one per part.\n"
      "Raises TypeError for a non-float array, ValueError for a wrong shape, NaN/inf weights or parts that do not\n"
      "fit, FileNotFoundError for a missing path. The GIL is released while it computes.");

  m.def(
      "aging_msd",
      [](py::handle x, std::size_t part_length, std::size_t max_lag, py::object part, std::size_t min_lag) {
        return curves(x, part_length, max_lag, part, min_lag, MsdMethod::automatic,
                      [](const WeightTrajectory& t, const MsdOptions& o) { return anodiff::aging_msd(t, o); });
      },
      py::arg("x"), py::kw_only(), py::arg("part_length") = 0, py::arg("max_lag") = 0, py::arg("part") = py::none(),
      py::arg("min_lag") = 1,
      "aging_msd(x, *, part_length=0, max_lag=0, part=None, min_lag=1) -> MsdCurve | list[MsdCurve]\n\n"
      "The no-time-average (aging) MSD of each part: |w(t_w + tau) - w(t_w)|^2 with t_w the part's start.\n"
      "Arguments and return as msd().");

  m.def(
      "local_exponent",
      [](const MsdCurve& c, std::size_t window) {
        py::gil_scoped_release release;
        return anodiff::local_exponent(c, window);
      },
      py::arg("curve"), py::arg("window") = 20,
      "local_exponent(curve, window=20) -> LocalExponentCurve\n\n"
      "beta(tau) = ln[MSD(tau + window) / MSD(tau)] / ln[(tau + window) / tau] of an MsdCurve (the study: 20).");

  m.def("band_exponent", &anodiff::band_exponent, py::arg("beta"), py::arg("window"), py::arg("lag_lo"),
        py::arg("lag_hi"),
        "band_exponent(beta, window, lag_lo, lag_hi) -> BandExponent\n\n"
        "beta(tau) for every tau whose window [tau, tau + window] lies in [lag_lo, lag_hi]: median and quartiles\n"
        "(model-free; NaN and lags=0 for an empty band).");

  m.def(
      "band_exponents",
      [](const MsdCurve& c, std::size_t window, py::object short_band, py::object long_band) {
        const auto [slo, shi] = band(short_band, "short_band");
        auto [llo, lhi] = band(long_band, "long_band");
        const double count = c.lag.empty() ? 0.0 : double(c.lag.back() + 1);
        if (llo <= 0) llo = std::floor(0.3 * count);
        if (lhi <= 0) lhi = std::floor(0.9 * count);
        const auto beta = anodiff::local_exponent(c, window);
        return py::make_tuple(anodiff::band_exponent(beta, window, slo, shi),
                              anodiff::band_exponent(beta, window, llo, lhi));
      },
      py::arg("curve"), py::arg("window") = 20, py::arg("short_band") = py::make_tuple(4.0, 40.0),
      py::arg("long_band") = py::none(),
      "band_exponents(curve, window=20, short_band=(4, 40), long_band=None) -> (BandExponent, BandExponent)\n\n"
      "The post-analysis's model-free exponents of an MsdCurve: beta over the short band and over the long band\n"
      "(default 0.3 T .. 0.9 T, T = the largest lag + 1).");

  m.def(
      "fit_crossover",
      [](py::handle lag, py::object msd, py::object options, const py::kwargs& kw) {
        std::vector<double> l, y;
        if (py::isinstance<CrossoverOptions>(msd)) {  // fit_crossover(curve, options)
          options = msd;
          msd = py::none();
        }
        if (py::isinstance<MsdCurve>(lag)) {
          const auto& c = lag.cast<const MsdCurve&>();
          l.assign(c.lag.begin(), c.lag.end());
          y = c.msd;
        } else {
          if (msd.is_none()) throw py::type_error("fit_crossover: give an MsdCurve, or lag and msd arrays");
          l = as_vector(lag, "lag");
          y = as_vector(msd, "msd");
          if (l.size() != y.size()) {
            throw py::value_error(fmt::format("fit_crossover: {} lags for {} MSD values", l.size(), y.size()));
          }
        }
        const CrossoverOptions o = crossover_options(options, kw);
        py::gil_scoped_release release;
        return anodiff::fit_crossover(l, y, o);
      },
      py::arg("lag"), py::arg("msd") = py::none(), py::arg("options") = py::none(),
      "fit_crossover(curve | lag, msd=None, options=None, **kwargs) -> CrossoverFit\n\n"
      "The two-regime fit of the study (docs/fits.md): ln MSD = ln(floor + tau^early below tau0, tau^late above),\n"
      "grid search then Levenberg-Marquardt. Keyword arguments set CrossoverOptions fields (min_lag=4,\n"
      "max_lag=0, max_lag_fraction=0.9, points_per_decade=16, min_points=4, noise_floor=True,\n"
      "min_exponent_change=0.1). The band exponents: band_exponents(curve).");

  m.def(
      "fit_power_law",
      [](py::handle x, py::handle y, double x_min, double x_max) {
        auto xv = as_vector(x, "x"), yv = as_vector(y, "y");
        if (xv.size() != yv.size()) throw py::value_error(fmt::format("fit_power_law: {} x for {} y", xv.size(), yv.size()));
        return anodiff::fit_power_law(xv, yv, x_min, x_max);
      },
      py::arg("x"), py::arg("y"), py::arg("x_min") = 0.0, py::arg("x_max") = kInf,
      "fit_power_law(x, y, x_min=0, x_max=inf) -> PowerLawFit\n\n"
      "y = prefactor * x^exponent by least squares on (log x, log y) over x in [x_min, x_max], x, y > 0.");

  m.def(
      "tail_index",
      [](py::handle samples, std::size_t block) {
        auto a = as_float64(samples, "samples");
        std::vector<double> v(a.data(), a.data() + a.size());
        py::gil_scoped_release release;
        return anodiff::tail_index(v, block);
      },
      py::arg("samples"), py::arg("block") = 0,
      "tail_index(samples, block=0) -> float\n\n"
      "Tail index alpha of the samples (any shape, flattened) by the block-sum estimator of Mohammadi et al.\n"
      "(2014), blocks of `block` (0 = floor(sqrt(N))); zeros are skipped. NaN with too few samples.");

  m.def(
      "ensemble_msd",
      [](py::iterable trajectories, std::size_t part_length, std::size_t max_lag) -> py::object {
        std::vector<WeightTrajectory> ts;
        for (auto x : trajectories) ts.push_back(as_trajectory(x, "trajectories[i]"));
        MsdOptions o;
        o.part_length = part_length;
        o.max_lag = max_lag;
        std::vector<EnsembleCurve> r;
        {
          py::gil_scoped_release release;
          r = anodiff::ensemble_msd(ts, o);
        }
        if (part_length == 0) return py::cast(std::move(r[0]));
        return py::cast(std::move(r));
      },
      py::arg("trajectories"), py::kw_only(), py::arg("part_length") = 0, py::arg("max_lag") = 0,
      "ensemble_msd(trajectories, *, part_length=0, max_lag=0) -> EnsembleCurve | list[EnsembleCurve]\n\n"
      "Ensemble- and time-averaged MSD over several runs of one model (arrays, Trajectory objects or paths of the\n"
      "same T and D, 2 or more), and the ergodicity-breaking parameter EB(tau). One curve for part_length=0.");

  m.def(
      "post_analysis",
      [](py::handle x, std::size_t part_length, std::size_t window, std::size_t exact_limit,
         std::size_t pair_memory_budget, std::size_t contour_bins,
         std::size_t msl_bins, std::size_t histogram_bins, py::object histogram_lags, std::size_t tail_block,
         py::object fit, py::object short_band, py::object long_band, py::object layout, py::object loss,
         py::object log) {
        Trajectory t = as_py_trajectory(x);
        if (!loss.is_none()) t.trajectory.set_loss(as_vector(loss, "loss"));
        PostAnalysisOptions o =
            post_analysis_options(part_length, window, exact_limit, pair_memory_budget, contour_bins, msl_bins,
                                  histogram_bins, histogram_lags, tail_block, fit, short_band, long_band, layout, log);
        if (is_auto(layout)) o.layout = t.layout;
        o.validate(t.trajectory.size());
        std::vector<PartResult> parts;
        {
          py::gil_scoped_release release;
          parts = anodiff::post_analysis(t.trajectory, o);
        }
        return parts;
      },
      py::arg("x"), py::kw_only(), py::arg("part_length") = 0, py::arg("window") = 20, py::arg("exact_limit") = 20000,
      py::arg("pair_memory_budget") = std::size_t{1} << 30, py::arg("contour_bins") = 40, py::arg("msl_bins") = 50, py::arg("histogram_bins") = 40,
      py::arg("histogram_lags") = py::none(), py::arg("tail_block") = 0, py::arg("fit") = py::none(),
      py::arg("short_band") = py::make_tuple(4.0, 40.0), py::arg("long_band") = py::none(),
      py::arg("layout") = "auto", py::arg("loss") = py::none(), py::arg("log") = py::none(),
      "post_analysis(x, *, part_length=0, window=20, exact_limit=20000, pair_memory_budget=2**30,\n"
      "              contour_bins=40, msl_bins=50, histogram_bins=40, histogram_lags=None, tail_block=0, fit=None, short_band=(4, 40),\n"
      "              long_band=None, layout='auto', loss=None, log=None) -> list[PartResult]\n\n"
      "Every analysis of anodiff-post-analysis for each part (docs/msd.md, docs/pair_statistics.md): MSD, local\n"
      "exponent, aging MSD, two-regime fit, band exponents, radial/angular motion (with a layout that has\n"
      "scale-invariant groups), step lengths, contour length, MSD against contour, MSL (with a loss), displacement\n"
      "histograms and tail index. The results are the C++ library's, arrays as numpy.\n\n"
      "exact_limit: the longest part that gets the pair statistics; pair_memory_budget: bytes they may hold (a\n"
      "part whose P x P matrix exceeds it is computed in tiles, exactly; docs/pair_statistics.md).\n"
      "x: array, Trajectory or path. fit: CrossoverOptions. long_band: (lo, hi), default 0.3 T .. 0.9 T.\n"
      "layout: 'auto' (the trajectory's layout.csv), a ParameterLayout or None. loss: per-snapshot losses (default:\n"
      "steps.csv). log: a callable receiving progress lines (None: logging.getLogger(\"anodiff\") at INFO).\n"
      "write_post_analysis() writes the CSVs.");

  m.def(
      "write_post_analysis",
      [](const std::vector<PartResult>& parts, const std::filesystem::path& directory, bool plots, py::object log,
         std::size_t first_new) {
        OutputOptions o;
        o.plots = plots;
        o.log = as_log(log);
        std::filesystem::create_directories(directory);
        py::gil_scoped_release release;
        anodiff::write_post_analysis(parts, directory, o, first_new);
      },
      py::arg("parts"), py::arg("directory"), py::arg("plots") = false, py::arg("log") = py::none(),
      py::arg("first_new") = 0,
      "write_post_analysis(parts, directory, plots=False, log=None, first_new=0)\n\n"
      "Writes msd.csv, fit.csv, ... (docs/formats.md) of post_analysis() results, as anodiff-post-analysis does;\n"
      "plots=True also draws the PNGs with gnuplot. first_new > 0: the CSVs already hold parts[:first_new] (an\n"
      "earlier call's); only the later parts' rows are appended.");

  m.def("summary_table", &anodiff::summary_table, py::arg("parts"),
        "summary_table(parts) -> str\n\nThe table anodiff-post-analysis prints: one line per part.");

  m.def(
      "per_layer_msd",
      [](py::handle x, py::object layout, const std::string& by, std::size_t part_length, std::size_t max_lag) {
        Trajectory t = as_py_trajectory(x);
        ParameterLayout l;
        if (!layout.is_none()) {
          l = layout.cast<ParameterLayout>();
        } else if (t.layout) {
          l = *t.layout;
        } else {
          throw py::value_error("per_layer_msd: no layout: give layout=ParameterLayout (the trajectory has no layout.csv)");
        }
        const auto grouping = parse_layer_grouping(by);
        MsdOptions o;
        o.part_length = part_length;
        o.max_lag = max_lag;
        std::vector<LayerMsd> r;
        {
          py::gil_scoped_release release;
          r = anodiff::per_layer_msd(t.trajectory, l, grouping, o);
        }
        return r;
      },
      py::arg("x"), py::arg("layout") = py::none(), py::kw_only(), py::arg("by") = "tensor",
      py::arg("part_length") = 0, py::arg("max_lag") = 0,
      "per_layer_msd(x, layout=None, *, by='tensor', part_length=0, max_lag=0) -> list[LayerMsd]\n\n"
      "The MSD of each tensor ('tensor'), layer ('layer': weight and bias together) or scale-invariant group\n"
      "('group') of the parameter layout (default: the trajectory's layout.csv): which layers move. The curves of\n"
      "one grouping add up to the MSD of the whole vector.");

  // For benchmarks/bench_python.py: the C++ call alone on the same buffer, timed in C++ (no Python in the loop).
  m.def(
      "_time_msd_cpp",
      [](py::handle x, std::size_t repeats) {
        const WeightTrajectory t = as_trajectory(x);
        std::vector<double> seconds;
        py::gil_scoped_release release;
        for (std::size_t r = 0; r < repeats; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          const auto curves = anodiff::msd(t);
          seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        return seconds;
      },
      py::arg("x"), py::arg("repeats") = 1, "Seconds of each of `repeats` C++ anodiff::msd(x) calls (benchmarks).");

  m.def("write_per_layer_msd", &anodiff::write_per_layer_msd, py::arg("layers"), py::arg("path"),
        "write_per_layer_msd(layers, path)\n\nWrites per_layer_msd.csv: part, start, name, dimension, lag, msd.");
}

}  // namespace anodiff::python
