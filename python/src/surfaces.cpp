// anodiff._anodiff: height fields and their roughness, the toy SGD walker, the simplified model, the count sketch.
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "anodiff/toy/fractal_surface.hpp"
#include "anodiff/landscape/landscape_2d.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/analysis/random_projection.hpp"
#include "anodiff/landscape/roughness.hpp"
#include "anodiff/toy/simplified_model.hpp"
#include "anodiff/toy/toy_sgd.hpp"
#include "common.hpp"

namespace anodiff::python {

namespace {

// Sets the fields named in `kw` on a copy of `value` through its Python binding (TypeError for an unknown name).
template <class T>
T with_kwargs(T value, const py::kwargs& kw, const char* what) {
  py::object obj = py::cast(std::move(value));
  for (auto item : kw) {
    if (!py::hasattr(obj, item.first)) {
      throw py::type_error(
          fmt::format("unexpected keyword argument '{}' ({} has none)", py::str(item.first).cast<std::string>(), what));
    }
    obj.attr(item.first) = item.second;
  }
  return obj.cast<T>();
}

LandscapeKind parse_kind(const std::string& s) {
  for (auto k : {LandscapeKind::fractal, LandscapeKind::convex, LandscapeKind::random}) {
    if (s == to_string(k)) return k;
  }
  throw py::value_error(fmt::format("landscape: expected 'fractal', 'convex' or 'random', got '{}'", s));
}

}  // namespace

void init_surfaces(py::module_& m) {
  // ------------------------------------------------------------------ surfaces
  py::class_<Surface>(m, "Surface",
                      "A height field z on a rows x cols grid over [x_min, x_max] x [y_min, y_max]; z[i, j] is at\n"
                      "(x[j], y[i]).")
      .def(py::init([](py::handle z, std::pair<double, double> x_range, std::pair<double, double> y_range) {
             auto a = as_float64(z, "z");
             if (a.ndim() != 2) throw py::value_error(fmt::format("z: expected a 2-D array, found {} dimensions", a.ndim()));
             Surface s;
             s.rows = std::size_t(a.shape(0));
             s.cols = std::size_t(a.shape(1));
             std::tie(s.x_min, s.x_max) = x_range;
             std::tie(s.y_min, s.y_max) = y_range;
             s.z.assign(a.data(), a.data() + a.size());
             return s;
           }),
           py::arg("z"), py::arg("x_range") = std::make_pair(0.0, 1.0), py::arg("y_range") = std::make_pair(0.0, 1.0),
           "A surface from a 2-D array of heights (copied).")
      .def_readonly("rows", &Surface::rows, "Grid rows (y).")
      .def_readonly("cols", &Surface::cols, "Grid columns (x).")
      .def_readonly("x_min", &Surface::x_min)
      .def_readonly("x_max", &Surface::x_max)
      .def_readonly("y_min", &Surface::y_min)
      .def_readonly("y_max", &Surface::y_max)
      .def_property_readonly(
          "z",
          [](py::object self) {
            const auto& s = self.cast<const Surface&>();
            return view(s.z.data(), {py::ssize_t(s.rows), py::ssize_t(s.cols)}, self);
          },
          "Heights as a read-only (rows, cols) float64 array.")
      .def_property_readonly(
          "x",
          [](const Surface& s) {
            std::vector<double> v(s.cols);
            for (std::size_t j = 0; j < s.cols; ++j) v[j] = s.x(j);
            return own(std::move(v));
          },
          "x of each column.")
      .def_property_readonly(
          "y",
          [](const Surface& s) {
            std::vector<double> v(s.rows);
            for (std::size_t i = 0; i < s.rows; ++i) v[i] = s.y(i);
            return own(std::move(v));
          },
          "y of each row.")
      .def("write_npy", [](const Surface& s, const std::filesystem::path& p) { s.write_npy(p); }, py::arg("path"),
           "Writes z as a (rows, cols) float64 .npy.")
      .def("__repr__", [](const Surface& s) {
        return fmt::format("Surface({} x {} over [{:g}, {:g}] x [{:g}, {:g}])", s.rows, s.cols, s.x_min, s.x_max,
                           s.y_min, s.y_max);
      });

  m.def(
      "diamond_square",
      [](int n, double roughness, std::uint64_t seed) {
        py::gil_scoped_release release;
        return anodiff::diamond_square(n, roughness, seed);
      },
      py::arg("n"), py::arg("roughness") = 3.0, py::arg("seed") = 0,
      "diamond_square(n, roughness=3.0, seed=0) -> Surface\n\n"
      "Diamond-square fractal (Douillet's generator, as the study): a (2^n + 1)^2 grid over [1, 2]^2, corners 0,\n"
      "roughness halved after each level. ValueError for n outside 1..13 or a negative roughness.");
  m.def(
      "spectral_surface",
      [](std::size_t size, double hurst, std::uint64_t seed) {
        py::gil_scoped_release release;
        return anodiff::spectral_surface(size, hurst, seed);
      },
      py::arg("size"), py::arg("hurst"), py::arg("seed") = 0,
      "spectral_surface(size, hurst, seed=0) -> Surface\n\n"
      "Spectral synthesis: a size x size periodic surface over [0, 1]^2 with Hurst exponent H in (0, 1)\n"
      "(amplitudes |k|^-(H+1), uniform random phases).");
  m.def(
      "shuffled_surface",
      [](const Surface& s, double sigma, double power, std::uint64_t seed, const std::string& recipe) {
        ShuffleRecipe r;
        if (recipe == "study") {
          r = ShuffleRecipe::study;
        } else if (recipe == "rescaled") {
          r = ShuffleRecipe::rescaled;
        } else {
          throw py::value_error("shuffled_surface: recipe must be 'study' or 'rescaled', got '" + recipe + "'");
        }
        py::gil_scoped_release release;
        return anodiff::shuffled_surface(s, sigma, power, seed, r);
      },
      py::arg("surface"), py::arg("sigma") = 8.0, py::arg("power") = 0.7, py::arg("seed") = 0,
      py::arg("recipe") = "study",
      "shuffled_surface(surface, sigma=8.0, power=0.7, seed=0, recipe='study') -> Surface\n\n"
      "The study's 'random' control: pixels shuffled, then recipe 'study' (its script's imgaussfilt(z, sigma).^power on\n"
      "the raw heights: a Gaussian of 2 ceil(2 sigma) + 1 taps, edges replicated, the real part of a negative\n"
      "height's power) or 'rescaled' (anodiff's earlier one: the Gaussian truncated at 4 sigma, rescaled to [0, 1]).");
  m.def("cone_surface", &anodiff::cone_surface, py::arg("size") = 1025,
        "cone_surface(size=1025) -> Surface\n\nThe study's 'convex' control: z = 1 - |(x, y) - (1.5, 1.5)| over [1, 2]^2.");

  // ------------------------------------------------------------------ roughness
  py::class_<StructureFunction> sf(m, "StructureFunction", "S_q(r) = <|z(p + r) - z(p)|^q> at integer pixel lags.");
  sf.def_readonly("q", &StructureFunction::q, "Order.")
      .def("__repr__", [](const StructureFunction& s) { return fmt::format("StructureFunction(q={:g}, {} lags)", s.q, s.lag.size()); });
  def_array(sf, "lag", &StructureFunction::lag, "Lags in pixels.");
  def_array(sf, "value", &StructureFunction::value, "S_q at each lag.");

  m.def(
      "structure_function",
      [](py::handle x, double q, std::size_t max_lag) {
        if (py::isinstance<Surface>(x)) {
          const auto& s = x.cast<const Surface&>();
          py::gil_scoped_release release;
          return anodiff::structure_function(s, q, max_lag);
        }
        auto a = as_float64(x, "x");
        if (a.ndim() == 2) {
          Surface s = py::module_::import("anodiff._anodiff").attr("Surface")(a).cast<Surface>();
          py::gil_scoped_release release;
          return anodiff::structure_function(s, q, max_lag);
        }
        const auto v = as_vector(a, "x");
        py::gil_scoped_release release;
        return anodiff::structure_function(v, q, max_lag);
      },
      py::arg("x"), py::arg("q") = 2.0, py::arg("max_lag") = 64,
      "structure_function(x, q=2, max_lag=64) -> StructureFunction\n\n"
      "S_q of a Surface or 2-D array (along both grid axes) or of a 1-D profile, lags 1..max_lag.");
  py::class_<HurstEstimate>(m, "HurstEstimate", "A Hurst exponent with its fit range.")
      .def_readonly("hurst", &HurstEstimate::hurst, "H (slope of log S_q against log r, over q).")
      .def_readonly("error", &HurstEstimate::error, "Standard error of H.")
      .def_readonly("lag_min", &HurstEstimate::lag_min)
      .def_readonly("lag_max", &HurstEstimate::lag_max)
      .def_readonly("points", &HurstEstimate::points)
      .def("__repr__", [](const HurstEstimate& h) {
        return fmt::format("HurstEstimate(H={:.4g} +- {:.2g}, lags {:g}..{:g})", h.hurst, h.error, h.lag_min, h.lag_max);
      });
  m.def("hurst_exponent", &anodiff::hurst_exponent, py::arg("s"), py::arg("lag_min"), py::arg("lag_max"),
        "hurst_exponent(s, lag_min, lag_max) -> HurstEstimate\n\nH from S_q(r) ~ r^(q H) over lags [lag_min, lag_max].");
  py::class_<BoxCounting> bc(m, "BoxCounting", "Differential box counting (Sarkar & Chaudhuri 1994).");
  bc.def_readonly("fit", &BoxCounting::fit, "count ~ box^slope (PowerLawFit).")
      .def_readonly("dimension", &BoxCounting::dimension, "-slope: 2 smooth, 3 - H self-affine.")
      .def("__repr__", [](const BoxCounting& b) { return fmt::format("BoxCounting(dimension={:.4g})", b.dimension); });
  def_array(bc, "box", &BoxCounting::box, "Box sizes (pixels).");
  def_array(bc, "count", &BoxCounting::count, "Boxes needed at each size.");
  m.def(
      "box_counting",
      [](const Surface& s) {
        py::gil_scoped_release release;
        return anodiff::box_counting(s);
      },
      py::arg("surface"), "box_counting(surface) -> BoxCounting\n\nBox-counting dimension of a Surface.");
  py::class_<PairRoughness>(m, "PairRoughness", "Mean |dz| against planar distance from random point pairs.")
      .def_readonly("curve", &PairRoughness::curve, "BinnedCurve: x = mean distance, mean = mean |dz|.")
      .def_readonly("fit", &PairRoughness::fit, "mean |dz| ~ distance^slope (PowerLawFit).");
  m.def(
      "mean_abs_difference",
      [](const Surface& s, std::size_t pairs, std::size_t bins, std::uint64_t seed) {
        py::gil_scoped_release release;
        return anodiff::mean_abs_difference(s, pairs, bins, seed);
      },
      py::arg("surface"), py::arg("pairs") = 200000, py::arg("bins") = 30, py::arg("seed") = 0,
      "mean_abs_difference(surface, pairs=200000, bins=30, seed=0) -> PairRoughness\n\n"
      "The study's roughness plot: mean |dz| of random point pairs in log bins of their distance.");

  // ------------------------------------------------------------------ toy SGD
  py::class_<Landscape2D>(m, "Landscape2D",
                          "A loss L = offset - z on an n x n grid over [-1, 1]^2 (bilinear, central differences).")
      .def_static(
          "from_heights",
          [](const Surface& heights, std::size_t grid, double offset) {
            py::gil_scoped_release release;
            return Landscape2D::from_heights(heights, grid, offset);
          },
          py::arg("heights"), py::arg("grid") = 2001, py::arg("offset") = 10.0,
          "L = offset - z, z regridded onto grid x grid points over [-1, 1]^2 (the study: 2001).")
      .def_property_readonly("size", &Landscape2D::size, "Grid points per axis.")
      .def_property_readonly("spacing", &Landscape2D::spacing, "Grid spacing.")
      .def("loss", &Landscape2D::loss, py::arg("x"), py::arg("y"), "Loss at (x, y).")
      .def("gradient", &Landscape2D::gradient, py::arg("x"), py::arg("y"), "(dL/dx, dL/dy) at (x, y).")
      .def("surface", &Landscape2D::surface, "The loss values as a Surface over [-1, 1]^2.");

  py::enum_<BoundaryRule>(m, "BoundaryRule", "What the walker does when a step would leave [-1, 1]^2.")
      .value("skip", BoundaryRule::skip, "Redraw up to max_redraws times, then skip the step.")
      .value("redraw", BoundaryRule::redraw, "Redraw until inside (truncated normal per coordinate).")
      .value("study_origin", BoundaryRule::study_origin,
             "The study's script literally: after 500 failed redraws the step is recorded at (0, 0).");
  py::enum_<R1Rule>(m, "R1Rule", "Where the study's R1 segment ends (docs/simplified_model.md).")
      .value("whole_path", R1Rule::whole_path, "The study's plot_fig4.m: the first x < -0.5 anywhere on the path.")
      .value("after_start", R1Rule::after_start, "The first x < -0.5 after the segment's start.");

  py::class_<ToySgdOptions>(m, "ToySgdOptions", "Options of the toy SGD walker; defaults are the study's.")
      .def(py::init([](const py::kwargs& kw) { return with_kwargs(ToySgdOptions{}, kw, "ToySgdOptions"); }),
           "ToySgdOptions(**fields): eta=0.02, sigma=0.01, steps=1000, repeats=5, fixed_start=False, start_x=0,\n"
           "start_y=0, max_redraws=500, boundary=BoundaryRule.skip, seed=0.")
      .def_readwrite("eta", &ToySgdOptions::eta, "Learning rate.")
      .def_readwrite("sigma", &ToySgdOptions::sigma, "Noise standard deviation per coordinate and step.")
      .def_readwrite("steps", &ToySgdOptions::steps, "Steps per walker.")
      .def_readwrite("repeats", &ToySgdOptions::repeats, "Independent walkers.")
      .def_readwrite("fixed_start", &ToySgdOptions::fixed_start, "Start at (start_x, start_y).")
      .def_readwrite("start_x", &ToySgdOptions::start_x)
      .def_readwrite("start_y", &ToySgdOptions::start_y)
      .def_readwrite("max_redraws", &ToySgdOptions::max_redraws, "Noise redraws before a step is skipped.")
      .def_readwrite("boundary", &ToySgdOptions::boundary, "BoundaryRule.")
      .def_readwrite("seed", &ToySgdOptions::seed, "Walker k uses its own stream from (seed, k).");

  py::class_<ToySgdResult> toy(m, "ToySgdResult", "Paths of the walkers.");
  toy.def_property_readonly(
         "paths",
         [](const ToySgdResult& r) {
           py::list out;
           for (const auto& p : r.paths) out.append(wrap(p));
           return out;
         },
         "One Trajectory per walker: steps + 1 snapshots of D = 2 (positions), with the loss per step.")
      .def("__repr__", [](const ToySgdResult& r) { return fmt::format("ToySgdResult({} walkers)", r.paths.size()); });
  def_array(toy, "redraws", &ToySgdResult::redraws, "Rejected noise draws per walker.");
  def_array(toy, "skipped", &ToySgdResult::skipped, "Steps skipped per walker.");

  m.def(
      "run_toy_sgd",
      [](const Landscape2D& landscape, py::object options, const py::kwargs& kw) {
        const ToySgdOptions o =
            with_kwargs(options.is_none() ? ToySgdOptions{} : options.cast<ToySgdOptions>(), kw, "ToySgdOptions");
        py::gil_scoped_release release;
        return anodiff::run_toy_sgd(landscape, o);
      },
      py::arg("landscape"), py::arg("options") = py::none(),
      "run_toy_sgd(landscape, options=None, **fields) -> ToySgdResult\n\n"
      "The study's simplified SGD: p <- p - eta grad L(p) + sigma xi on a Landscape2D, walkers in parallel (results\n"
      "depend on the seed only). Keyword arguments set ToySgdOptions fields.");

  py::class_<WalkerAnalysisOptions>(m, "WalkerAnalysisOptions", "How each walker is judged (docs/simplified_model.md).")
      .def(py::init([](const py::kwargs& kw) { return with_kwargs(WalkerAnalysisOptions{}, kw, "WalkerAnalysisOptions"); }))
      .def_readwrite("band_lo", &WalkerAnalysisOptions::band_lo)
      .def_readwrite("band_hi", &WalkerAnalysisOptions::band_hi)
      .def_readwrite("trap_radius", &WalkerAnalysisOptions::trap_radius)
      .def_readwrite("trap_min_steps", &WalkerAnalysisOptions::trap_min_steps)
      .def_readwrite("pin_sigmas", &WalkerAnalysisOptions::pin_sigmas)
      .def_readwrite("r1_y", &WalkerAnalysisOptions::r1_y)
      .def_readwrite("r1_delay", &WalkerAnalysisOptions::r1_delay)
      .def_readwrite("r1_x", &WalkerAnalysisOptions::r1_x)
      .def_readwrite("r1_rule", &WalkerAnalysisOptions::r1_rule, "R1Rule.");
  py::class_<WalkerStatistics>(m, "WalkerStatistics", "The statistics of one walker.")
      .def_readonly("whole_exponent", &WalkerStatistics::whole_exponent)
      .def_readonly("before_trap_exponent", &WalkerStatistics::before_trap_exponent)
      .def_readonly("from_start_exponent", &WalkerStatistics::from_start_exponent)
      .def_readonly("r1_exponent", &WalkerStatistics::r1_exponent)
      .def_readonly("trap_step", &WalkerStatistics::trap_step)
      .def_readonly("trapped", &WalkerStatistics::trapped)
      .def_readonly("r1_start", &WalkerStatistics::r1_start)
      .def_readonly("r1_end", &WalkerStatistics::r1_end)
      .def_readonly("pinned", &WalkerStatistics::pinned)
      .def_readonly("skipped", &WalkerStatistics::skipped)
      .def_readonly("unanalysed", &WalkerStatistics::unanalysed)
      .def_readonly("redraws", &WalkerStatistics::redraws);
  m.def(
      "analyse_walkers",
      [](const ToySgdResult& r, const ToySgdOptions& o, py::object analysis) {
        const WalkerAnalysisOptions a = analysis.is_none() ? WalkerAnalysisOptions{} : analysis.cast<WalkerAnalysisOptions>();
        py::gil_scoped_release release;
        return anodiff::analyse_walkers(r, o, a);
      },
      py::arg("result"), py::arg("options"), py::arg("analysis") = py::none(),
      "analyse_walkers(result, options, analysis=None) -> list[WalkerStatistics]\n\n"
      "Per walker: MSD exponents of the whole path, before trapping, from the start and of the study's R1 segment.");
  py::class_<ExponentDistribution>(m, "ExponentDistribution", "One exponent over many walkers.")
      .def_readonly("walkers", &ExponentDistribution::walkers)
      .def_readonly("median", &ExponentDistribution::median)
      .def_readonly("q25", &ExponentDistribution::q25)
      .def_readonly("q75", &ExponentDistribution::q75)
      .def_readonly("share_above_1", &ExponentDistribution::share_above_1);
  m.def(
      "exponent_distribution", [](py::handle e) { return anodiff::exponent_distribution(as_vector(e, "exponents")); },
      py::arg("exponents"), "exponent_distribution(exponents) -> ExponentDistribution (of the finite values).");

  // ------------------------------------------------------------------ simplified model
  py::class_<StepLengthHistogram> slh(m, "StepLengthHistogram", "Step lengths over all walkers, log bins.");
  slh.def_readonly("steps", &StepLengthHistogram::steps);
  def_array(slh, "lo", &StepLengthHistogram::lo, "Lower bin edges.");
  def_array(slh, "hi", &StepLengthHistogram::hi, "Upper bin edges.");
  def_array(slh, "count", &StepLengthHistogram::count, "Steps per bin.");
  def_array(slh, "density", &StepLengthHistogram::density, "count / (steps * width).");
  py::class_<SimplifiedModelLandscape>(m, "SimplifiedModelLandscape", "Everything computed on one landscape.")
      .def_property_readonly("kind", [](const SimplifiedModelLandscape& l) { return std::string(to_string(l.kind)); })
      .def_readonly("heights", &SimplifiedModelLandscape::heights, "The height field (Surface).")
      .def_readonly("loss", &SimplifiedModelLandscape::loss, "L = 10 - z on the walkers' grid (Surface).")
      .def_readonly("walks", &SimplifiedModelLandscape::walks, "ToySgdResult.")
      .def_readonly("walker_msd", &SimplifiedModelLandscape::walker_msd, "Per walker: MsdCurve of the whole path.")
      .def_readonly("walker_beta", &SimplifiedModelLandscape::walker_beta, "Per walker: LocalExponentCurve.")
      .def_readonly("walkers", &SimplifiedModelLandscape::walkers, "Per walker: WalkerStatistics.")
      .def_readonly("ensemble", &SimplifiedModelLandscape::ensemble, "EnsembleCurve over the walkers.")
      .def_readonly("fit", &SimplifiedModelLandscape::fit, "CrossoverFit of the mean time-averaged MSD.")
      .def_readonly("from_start", &SimplifiedModelLandscape::from_start, "CrossoverFit of the ensemble MSD.")
      .def_readonly("short_lags", &SimplifiedModelLandscape::short_lags, "PowerLawFit over lags 1-20.")
      .def_readonly("tail_index", &SimplifiedModelLandscape::tail_index)
      .def_readonly("hurst", &SimplifiedModelLandscape::hurst, "HurstEstimate of the loss surface.")
      .def_readonly("step_lengths", &SimplifiedModelLandscape::step_lengths, "StepLengthHistogram.")
      .def_property_readonly(
          "exponents",
          [](const SimplifiedModelLandscape& l) {
            py::dict d;
            for (auto w : kWalkerMeasures) d[to_string(w)] = l.exponent(w);
            return d;
          },
          "ExponentDistribution per measure: whole_path, before_trapping, from_start, study_r1_segment.")
      .def_readonly("pinned_walkers", &SimplifiedModelLandscape::pinned_walkers)
      .def_readonly("redraws", &SimplifiedModelLandscape::redraws)
      .def_readonly("skipped_steps", &SimplifiedModelLandscape::skipped_steps)
      .def_readonly("skipped_share", &SimplifiedModelLandscape::skipped_share)
      .def_readonly("landscape_index", &SimplifiedModelLandscape::landscape_index,
                    "Per walker: its landscape's index in the pool (the study's land_ind - 1).");
  py::class_<SimplifiedModelResult>(m, "SimplifiedModelResult", "The result of run_simplified_model.")
      .def_readonly("landscapes", &SimplifiedModelResult::landscapes, "SimplifiedModelLandscape per landscape.")
      .def("table", [](const SimplifiedModelResult& r) { return simplified_model_table(r); },
           "The tables anodiff-simplified-model prints.")
      .def(
          "write",
          [](const SimplifiedModelResult& r, const std::filesystem::path& dir, bool plots) {
            OutputOptions o;
            o.plots = plots;
            std::filesystem::create_directories(dir);
            py::gil_scoped_release release;
            write_simplified_model(r, dir, o);
          },
          py::arg("directory"), py::arg("plots") = false,
          "Writes the CSVs of anodiff-simplified-model (docs/formats.md) into `directory`.");
  m.def(
      "run_simplified_model",
      [](std::vector<std::string> landscapes, py::object sgd, py::object analysis, int n, std::size_t grid,
         std::size_t window, std::size_t histogram_bins, py::object log, const std::string& draw, std::size_t pool_size,
         const std::string& shuffle) {
        SimplifiedModelOptions o;
        if (draw != "pool" && draw != "shared") {
          throw py::value_error("run_simplified_model: draw must be 'pool' or 'shared', got '" + draw + "'");
        }
        if (shuffle != "study" && shuffle != "rescaled") {
          throw py::value_error("run_simplified_model: shuffle must be 'study' or 'rescaled', got '" + shuffle + "'");
        }
        o.draw = draw == "pool" ? LandscapeDraw::pool : LandscapeDraw::shared;
        o.pool_size = pool_size;
        o.shuffle = shuffle == "study" ? ShuffleRecipe::study : ShuffleRecipe::rescaled;
        o.landscapes.clear();
        for (const auto& l : landscapes) o.landscapes.push_back(parse_kind(l));
        if (!sgd.is_none()) o.sgd = sgd.cast<ToySgdOptions>();
        if (!analysis.is_none()) o.analysis = analysis.cast<WalkerAnalysisOptions>();
        o.n = n;
        o.grid = grid;
        o.window = window;
        o.histogram_bins = histogram_bins;
        o.log = as_log(log);
        o.validate();
        py::gil_scoped_release release;
        return anodiff::run_simplified_model(o);
      },
      py::arg("landscapes") = std::vector<std::string>{"fractal", "convex", "random"}, py::arg("sgd") = py::none(),
      py::arg("analysis") = py::none(), py::arg("n") = 10, py::arg("grid") = 2001, py::arg("window") = 20,
      py::arg("histogram_bins") = 30, py::arg("log") = py::none(), py::arg("draw") = "pool", py::arg("pool_size") = 10,
      py::arg("shuffle") = "study",
      "run_simplified_model(landscapes=('fractal', 'convex', 'random'), sgd=None, analysis=None, n=10, grid=2001,\n"
      "                     window=20, histogram_bins=30, log=None, draw='pool', pool_size=10, shuffle='study')\n"
      "    -> SimplifiedModelResult\n\n"
      "draw: 'pool' (the study's: each walker on a landscape drawn from a seeded pool of pool_size) or 'shared' (one\n"
      "landscape for all walkers); shuffle: the shuffled control's recipe ('study' or 'rescaled').\n"
      "The study's simplified model (docs/simplified_model.md) on each landscape, analysed as\n"
      "anodiff-simplified-model does. sgd: ToySgdOptions (repeats >= 2); analysis: WalkerAnalysisOptions.");

  // ------------------------------------------------------------------ count sketch
  py::class_<RandomProjection>(m, "RandomProjection",
                               "Count sketch S: R^D -> R^k from a seed, the C++ RandomProjection (anodiff-train\n"
                               "--project): the same seed gives the same sketch (docs/random_projection.md).")
      .def(py::init<std::size_t, std::size_t, std::uint64_t>(), py::arg("input"), py::arg("output"), py::arg("seed") = 0,
           "A sketch from `input` to `output` dimensions; ValueError if either is 0.")
      .def_property_readonly("input", &RandomProjection::input, "D.")
      .def_property_readonly("output", &RandomProjection::output, "k.")
      .def(
          "apply",
          [](const RandomProjection& p, py::handle x) {
            py::array a = py::module_::import("numpy").attr("asarray")(x);
            if (a.dtype().kind() != 'f') {
              throw py::type_error(fmt::format("x: expected float32 values, found dtype {}",
                                               py::str(a.dtype()).cast<std::string>()));
            }
            auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
            if (f.ndim() < 1 || f.ndim() > 2 || f.shape(f.ndim() - 1) != py::ssize_t(p.input())) {
              throw py::value_error(fmt::format("x: expected shape ({0},) or (T, {0}), got {1} dimensions", p.input(),
                                                f.ndim()));
            }
            const std::size_t rows = f.ndim() == 1 ? 1 : std::size_t(f.shape(0));
            std::vector<float> out(rows * p.output());
            {
              py::gil_scoped_release release;
              for (std::size_t r = 0; r < rows; ++r) p.apply(f.data() + r * p.input(), out.data() + r * p.output());
            }
            if (f.ndim() == 1) return own(std::move(out));
            return own(std::move(out), {py::ssize_t(rows), py::ssize_t(p.output())});
          },
          py::arg("x"),
          "S x for x of shape (D,) or each row of (T, D), float32 (float64 is converted), the C++ arithmetic.");
}

}  // namespace anodiff::python
