// anodiff._anodiff: the per-part post-analysis, its files and the per-layer MSD.
#include <string>

#include <fmt/format.h>

#include "anodiff/analysis/per_layer_msd.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/output/output.hpp"
#include "common.hpp"

namespace anodiff::python {

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

void init_post_analysis(py::module_& m) {
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

  m.def("write_per_layer_msd", &anodiff::write_per_layer_msd, py::arg("layers"), py::arg("path"),
        "write_per_layer_msd(layers, path)\n\nWrites per_layer_msd.csv: part, start, name, dimension, lag, msd.");
}

}  // namespace anodiff::python
