// anodiff._anodiff: the MSD and its relatives (aging, local exponent, band exponents, ensemble MSD) and the parts.
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "anodiff/analysis/msd.hpp"
#include "common.hpp"

namespace anodiff::python {

namespace {

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

std::string repr_band(const BandExponent& b) {
  return fmt::format("BandExponent(lags {:g}..{:g}: median {:.4g} [{:.4g}, {:.4g}], {} values)", b.lag_lo, b.lag_hi,
                     b.median, b.q25, b.q75, b.lags);
}

}  // namespace

std::pair<double, double> band(py::object b, const char* what) {
  if (b.is_none()) return {0, 0};
  auto t = b.cast<std::vector<double>>();
  if (t.size() != 2) throw py::value_error(fmt::format("{}: expected (lo, hi), got {} values", what, t.size()));
  return {t[0], t[1]};
}

void init_msd(py::module_& m) {
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

}

}  // namespace anodiff::python
