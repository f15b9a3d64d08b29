// anodiff._anodiff: the fits (two-regime crossover, power law, tail index).
#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "anodiff/analysis/fit.hpp"
#include "anodiff/analysis/msd.hpp"
#include "common.hpp"

namespace anodiff::python {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

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

void init_fits(py::module_& m) {
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

}

}  // namespace anodiff::python
