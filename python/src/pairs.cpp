// anodiff._anodiff: all-pairs geometry of a part: pair distances, contour length, MSD against contour, MSL,
// displacement histograms.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "anodiff/analysis/pair_statistics.hpp"
#include "common.hpp"

namespace anodiff::python {

namespace {

using Pairs = std::shared_ptr<PairDistances>;

struct PairsInput {
  Pairs pairs;
  std::vector<double> loss;  // the trajectory's, when it was given as one
};

PairsInput pairs_of(py::handle x) {
  if (py::isinstance<PairDistances>(x)) return {x.cast<Pairs>(), {}};
  const WeightTrajectory t = as_trajectory(x);
  PairsInput in;
  {
    py::gil_scoped_release release;
    in.pairs = std::make_shared<PairDistances>(PairDistances::compute(t, 0, t.size()));
  }
  in.loss = t.loss();
  return in;
}

Binning parse_binning(const std::string& b) {
  if (b == "log" || b == "logarithmic") return Binning::logarithmic;
  if (b == "linear") return Binning::linear;
  throw py::value_error(fmt::format("binning: expected 'log' or 'linear', got '{}'", b));
}

constexpr const char* kInput =
    "x: a PairDistances (computed once, reused), or a (T, D) array / Trajectory / path whose snapshots form one\n"
    "   part (pair_distances(x) is computed: O(T^2 D) time, T^2 doubles).\n";

}  // namespace

void init_pairs(py::module_& m) {
  py::class_<BinnedCurve> binned(m, "BinnedCurve", "Averages of y in bins of x: edges lo, hi; mean x; mean y; count.");
  binned.def("__len__", [](const BinnedCurve& c) { return c.mean.size(); })
      .def("__repr__", [](const BinnedCurve& c) { return fmt::format("BinnedCurve({} bins)", c.mean.size()); });
  def_array(binned, "lo", &BinnedCurve::lo, "Lower bin edges.");
  def_array(binned, "hi", &BinnedCurve::hi, "Upper bin edges.");
  def_array(binned, "x", &BinnedCurve::x, "Mean x of the pairs in each bin.");
  def_array(binned, "mean", &BinnedCurve::mean, "Mean y in each bin (NaN when empty).");
  def_array(binned, "count", &BinnedCurve::count, "Pairs in each bin (int64).");

  py::class_<DisplacementHistogram> hist(m, "DisplacementHistogram", "Histogram of displacement lengths at one lag.");
  hist.def_readonly("lag", &DisplacementHistogram::lag, "tau.")
      .def_readonly("scale", &DisplacementHistogram::scale, "sqrt(MSD(tau)) for a rescaled histogram, 1 otherwise.")
      .def("__repr__", [](const DisplacementHistogram& h) {
        return fmt::format("DisplacementHistogram(lag={}, scale={:.4g}, {} bins)", h.lag, h.scale, h.count.size());
      });
  def_array(hist, "lo", &DisplacementHistogram::lo, "Lower bin edges (of |dw| / scale).");
  def_array(hist, "hi", &DisplacementHistogram::hi, "Upper bin edges.");
  def_array(hist, "count", &DisplacementHistogram::count, "Samples per bin (int64).");
  def_array(hist, "density", &DisplacementHistogram::density, "count / (samples * width).");

  py::class_<PairDistances, Pairs>(m, "PairDistances",
                                   "Squared distances |w_i - w_j|^2 between all snapshots of one part (float64 Gram\n"
                                   "matrix of the increments, accurate relative to each distance).")
      .def_property_readonly("size", &PairDistances::size, "Snapshots n in the part.")
      .def("__len__", &PairDistances::size)
      .def("__call__", [](const PairDistances& d, std::size_t i, std::size_t j) {
        if (i >= d.size() || j >= d.size()) throw py::index_error(fmt::format("({}, {}) outside {} snapshots", i, j, d.size()));
        return d(i, j);
      }, py::arg("i"), py::arg("j"), "|w_i - w_j|^2.")
      .def_property_readonly(
          "step_lengths", [](py::object self) { return view_vector(self.cast<const PairDistances&>().step_lengths(), self); },
          "Step lengths s_k = |w_k - w_{k-1}|, k = 1..n-1 (element 0 is 0).")
      .def("msd", [](const PairDistances& d) { return own(d.msd()); }, "Time-averaged MSD at lags 0..n-1.")
      .def("from_start", [](const PairDistances& d) { return own(d.from_start()); },
           "Squared distance from the first snapshot, lags 0..n-1 (the part's aging MSD).")
      .def(
          "matrix",
          [](const PairDistances& d) {
            const std::size_t n = d.size();
            std::vector<double> a(n * n);
            for (std::size_t i = 0; i < n; ++i) {
              for (std::size_t j = 0; j < n; ++j) a[i * n + j] = d(i, j);
            }
            return own(std::move(a), {py::ssize_t(n), py::ssize_t(n)});
          },
          "All squared distances as an (n, n) float64 array (a copy).")
      .def("__repr__", [](const PairDistances& d) { return fmt::format("PairDistances({} snapshots)", d.size()); });

  m.def(
      "pair_distances",
      [](py::handle x, std::size_t first, py::object count) {
        const WeightTrajectory t = as_trajectory(x);
        const std::size_t n = count.is_none() ? (first < t.size() ? t.size() - first : 0) : count.cast<std::size_t>();
        py::gil_scoped_release release;
        return std::make_shared<PairDistances>(PairDistances::compute(t, first, n));
      },
      py::arg("x"), py::arg("first") = 0, py::arg("count") = py::none(),
      "pair_distances(x, first=0, count=None) -> PairDistances\n\n"
      "All squared distances of snapshots [first, first + count) (default: to the end) of an array, Trajectory or\n"
      "path. O(count^2 D) time, count^2 doubles of memory. ValueError for NaN/inf weights or count < 2.");

  m.def(
      "contour_length",
      [](py::handle x) {
        auto in = pairs_of(x);
        return own(mean_contour_length(*in.pairs));
      },
      py::arg("x"),
      (std::string("contour_length(x) -> numpy.ndarray\n\n"
                   "Mean contour (path) length per lag, lags 0..n-1: mean over i of sum_{k=i+1}^{i+tau} s_k.\n") +
       kInput)
          .c_str());

  m.def(
      "msd_vs_contour",
      [](py::handle x, std::size_t bins) {
        auto in = pairs_of(x);
        py::gil_scoped_release release;
        return msd_vs_contour(*in.pairs, bins);
      },
      py::arg("x"), py::arg("bins") = 40,
      (std::string("msd_vs_contour(x, bins=40) -> BinnedCurve\n\n"
                   "MSD against contour length: every pair (i < j) gives (C_ij, |w_j - w_i|^2), averaged in log bins "
                   "of C.\n") +
       kInput)
          .c_str());

  m.def(
      "msl_vs_distance",
      [](py::handle x, py::object loss, const std::string& binning, std::size_t bins) {
        auto in = pairs_of(x);
        std::vector<double> l = loss.is_none() ? in.loss : as_vector(loss, "loss");
        if (l.empty()) throw py::value_error("msl_vs_distance: no loss: give loss= (one value per snapshot)");
        py::gil_scoped_release release;
        return msl_vs_distance(*in.pairs, l, parse_binning(binning), bins);
      },
      py::arg("x"), py::arg("loss") = py::none(), py::arg("binning") = "log", py::arg("bins") = 50,
      (std::string("msl_vs_distance(x, loss=None, binning='log', bins=50) -> BinnedCurve\n\n"
                   "Mean squared loss difference against distance: pairs (|w_j - w_i|, (L_j - L_i)^2) averaged in "
                   "bins of\ndistance ('log' or 'linear'); NaN losses skipped. loss: one value per snapshot (default: "
                   "the trajectory's).\n") +
       kInput)
          .c_str());

  m.def(
      "displacement_histograms",
      [](py::handle x, py::object lags, bool rescale, std::size_t bins) {
        auto in = pairs_of(x);
        const auto l = lags.is_none() ? default_histogram_lags() : lags.cast<std::vector<std::size_t>>();
        py::gil_scoped_release release;
        return displacement_histograms(*in.pairs, l, rescale, bins);
      },
      py::arg("x"), py::arg("lags") = py::none(), py::arg("rescale") = false, py::arg("bins") = 40,
      (std::string("displacement_histograms(x, lags=None, rescale=False, bins=40) -> list[DisplacementHistogram]\n\n"
                   "Histograms of |w_{t+tau} - w_t| at each lag (default 1, 2, 4, ..., 256) below n, log bins common "
                   "to all\nlags; rescale=True divides by sqrt(MSD(tau)).\n") +
       kInput)
          .c_str());

  m.def("default_histogram_lags", &default_histogram_lags, "The study's histogram lags 1, 2, 4, ..., 256.");
}

}  // namespace anodiff::python
