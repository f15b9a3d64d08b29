// anodiff._anodiff: the spectrum of a symmetric operator known through its products (spectrum.hpp): a Python
// callable as a SymmetricOperator, the core's Lanczos / power iteration, Hutch++ and SLQ over it. The solvers run
// with the GIL released; a Python operator takes it only around its callback.
#include <cmath>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "anodiff/spectrum/spectrum.hpp"
#include "common.hpp"

namespace anodiff::python {

namespace {

/// A SymmetricOperator whose product is a Python callable apply(x) -> y (x a float64 numpy vector of D values, a
/// copy the callable may keep; y anything numpy turns into D finite numbers). Counts its products.
class CallableOperator : public SymmetricOperator {
 public:
  CallableOperator(std::size_t dimension, py::object apply) : dimension_(dimension), apply_(std::move(apply)) {
    if (dimension == 0) throw py::value_error("SymmetricOperator: dimension must be at least 1, got 0");
    if (!PyCallable_Check(apply_.ptr())) {
      throw py::type_error(fmt::format("SymmetricOperator: apply must be callable, got {}",
                                       py::str(py::type::of(apply_)).cast<std::string>()));
    }
  }
  CallableOperator(const CallableOperator&) = delete;
  CallableOperator& operator=(const CallableOperator&) = delete;

  [[nodiscard]] std::size_t dimension() const override { return dimension_; }

  void apply(const double* x, double* y) override {
    py::gil_scoped_acquire gil;
    product(x, y);
  }

  /// The product with the GIL held (the Python method op.apply, and the solvers' callback).
  void product(const double* x, double* y) {
    std::vector<double> copy(x, x + dimension_);
    py::object out = apply_(own(std::move(copy)));
    py::array_t<double, py::array::c_style | py::array::forcecast> a;
    try {
      a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(out);
    } catch (py::error_already_set&) {
      a = {};
    }
    if (!a) {
      throw py::type_error(fmt::format("SymmetricOperator: apply must return {} numbers (an array), got {}",
                                       dimension_, py::str(py::type::of(out)).cast<std::string>()));
    }
    if (std::size_t(a.size()) != dimension_ || a.ndim() > 2) {
      throw py::value_error(fmt::format("SymmetricOperator: apply returned {} values (shape {}), expected {}", a.size(),
                                        py::str(a.attr("shape")).cast<std::string>(), dimension_));
    }
    const double* p = a.data();
    for (std::size_t i = 0; i < dimension_; ++i) {
      if (!std::isfinite(p[i])) {
        throw py::value_error(fmt::format("SymmetricOperator: apply returned a non-finite value ({}) at index {} of "
                                          "product {}", p[i], i, products_ + 1));
      }
      y[i] = p[i];
    }
    ++products_;
  }

  [[nodiscard]] std::size_t products() const { return products_; }
  [[nodiscard]] const py::object& callable() const { return apply_; }

 private:
  std::size_t dimension_;
  py::object apply_;
  std::size_t products_ = 0;
};

/// What an operator argument stands for: a SymmetricOperator, a dense 2-D array, or a callable with `dimension`.
struct OperatorArg {
  std::shared_ptr<SymmetricOperator> op;
  CallableOperator* callable = nullptr;  ///< op, when it is a Python callable's
};

OperatorArg as_operator(py::handle x, std::optional<std::size_t> dimension, const char* what) {
  OperatorArg out;
  if (py::isinstance<CallableOperator>(x)) {
    out.op = x.cast<std::shared_ptr<CallableOperator>>();
    out.callable = static_cast<CallableOperator*>(out.op.get());
    if (dimension && *dimension != out.op->dimension()) {
      throw py::value_error(fmt::format("{}: dimension = {} differs from the operator's {}", what, *dimension,
                                        out.op->dimension()));
    }
    return out;
  }
  if (py::isinstance<py::array>(x) && !PyCallable_Check(x.ptr())) {
    auto a = as_float64(x, "operator");
    if (a.ndim() != 2 || a.shape(0) != a.shape(1)) {
      throw py::value_error(fmt::format("{}: a matrix operator must be square (2-D), got {} dimensions", what, a.ndim()));
    }
    using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::MatrixXd m = Eigen::Map<const RowMajor>(a.data(), a.shape(0), a.shape(1));
    out.op = std::make_shared<DenseSymmetricOperator>(std::move(m));
    return out;
  }
  if (!PyCallable_Check(x.ptr())) {
    throw py::type_error(fmt::format("{}: expected a SymmetricOperator, a callable apply(x) -> y or a square array, "
                                     "got {}", what, py::str(py::type::of(x)).cast<std::string>()));
  }
  if (!dimension) throw py::type_error(fmt::format("{}: a callable needs dimension=D", what));
  auto op = std::make_shared<CallableOperator>(*dimension, py::reinterpret_borrow<py::object>(x));
  out.callable = op.get();
  out.op = std::move(op);
  return out;
}

SpectrumEnd parse_end(const std::string& s) {
  if (s == "largest") return SpectrumEnd::largest;
  if (s == "smallest") return SpectrumEnd::smallest;
  throw py::value_error(fmt::format("which: expected 'largest' or 'smallest', got '{}'", s));
}

EigenMethod parse_method(const std::string& s) {
  if (s == "lanczos") return EigenMethod::lanczos;
  if (s == "power") return EigenMethod::power;
  throw py::value_error(fmt::format("method: expected 'lanczos' or 'power', got '{}'", s));
}

PowerStop parse_stop(const std::string& s) {
  if (s == "relative_change") return PowerStop::relative_change;
  if (s == "residual") return PowerStop::residual;
  throw py::value_error(fmt::format("power_stop: expected 'relative_change' or 'residual', got '{}'", s));
}

double or_nan(const std::optional<double>& v) { return v ? *v : std::nan(""); }

}  // namespace

void init_spectrum(py::module_& m) {
  py::class_<CallableOperator, std::shared_ptr<CallableOperator>>(
      m, "SymmetricOperator",
      "SymmetricOperator(dimension, apply)\n\n"
      "A symmetric linear operator on R^D known through its products: apply(x) -> A x, for x a float64 numpy vector of\n"
      "D values (a copy; the callable may keep it) and a result numpy can turn into D finite numbers (a numpy array,\n"
      "a list, a CPU tensor's .numpy()). The solvers (extreme_eigenpairs, hutchpp_trace, spectral_density) run with\n"
      "the GIL released and take it only to call apply. An exception raised by apply ends the solve and is re-raised.")
      .def(py::init<std::size_t, py::object>(), py::arg("dimension"), py::arg("apply"))
      .def_property_readonly("dimension", &CallableOperator::dimension, "D, the length of the vectors.")
      .def_property_readonly("products", &CallableOperator::products,
                             "Products computed so far through this object (by the solvers and by apply()).")
      .def_property_readonly("function", &CallableOperator::callable, "The callable apply(x) -> A x.")
      .def(
          "apply",
          [](CallableOperator& op, py::handle x) {
            auto v = as_vector(x, "x");
            if (v.size() != op.dimension()) {
              throw py::value_error(fmt::format("apply: x has {} values, expected {}", v.size(), op.dimension()));
            }
            std::vector<double> y(v.size());
            op.product(v.data(), y.data());
            return own(std::move(y));
          },
          py::arg("x"), "apply(x) -> numpy float64 vector: A x (checked as the solvers check it; counted).")
      .def("__repr__", [](const CallableOperator& op) {
        return fmt::format("SymmetricOperator(dimension={}, products={})", op.dimension(), op.products());
      });

  py::class_<Eigenpair>(m, "Eigenpair", "One eigenpair of a solve (EigenResult.eigenpairs).")
      .def_readonly("rank", &Eigenpair::rank, "1 = the most extreme.")
      .def_readonly("eigenvalue", &Eigenpair::eigenvalue, "The Ritz value (an approximation when not converged).")
      .def_readonly("converged", &Eigenpair::converged, "Met the stopping rule.")
      .def_property_readonly("residual", [](const Eigenpair& p) { return or_nan(p.residual); },
                             "|A v - lambda v| for the unit vector v (NaN when not verified).")
      .def_property_readonly("relative_residual", [](const Eigenpair& p) { return or_nan(p.relative_residual); },
                             "residual / |lambda| (NaN when not verified).")
      .def_property_readonly(
          "eigenvector",
          [](py::object self) -> py::object {
            const auto& p = self.cast<const Eigenpair&>();
            if (p.eigenvector.empty()) return py::none();
            return view_vector(p.eigenvector, self);
          },
          "The unit vector v (None unless eigenvectors=True).")
      .def("__repr__", [](const Eigenpair& p) {
        return fmt::format("Eigenpair(rank={}, eigenvalue={:.9g}, converged={}, relative_residual={:.3g})", p.rank,
                           p.eigenvalue, p.converged ? "True" : "False", or_nan(p.relative_residual));
      });

  py::class_<EigenResult>(m, "EigenResult",
                          "The k extreme eigenpairs of a solve with their quality, as the C++ EigenResult (and\n"
                          "anodiff-hessian's eigenvalues.csv): non-convergence is data, not an exception.")
      .def_readonly("eigenpairs", &EigenResult::eigenpairs, "The k Eigenpair objects by rank.")
      .def_readonly("converged_count", &EigenResult::converged_count, "How many pairs converged.")
      .def_readonly("products", &EigenResult::products, "Operator products of the solve.")
      .def_readonly("verification_products", &EigenResult::verification_products,
                    "Products spent on the residuals (one per pair when verify=True).")
      .def_readonly("iterations", &EigenResult::iterations, "Lanczos restarts, or power iterations in total.")
      .def_readonly("seconds", &EigenResult::seconds, "Wall time of the solve, products included.")
      .def_property_readonly("all_converged", &EigenResult::all_converged, "Whether every pair converged.")
      .def_property_readonly("eigenvalues", [](const EigenResult& r) { return own(r.eigenvalues()); },
                             "The eigenvalues by rank (float64 array).")
      .def_property_readonly(
          "residuals",
          [](const EigenResult& r) {
            std::vector<double> v;
            for (const auto& p : r.eigenpairs) v.push_back(or_nan(p.residual));
            return own(std::move(v));
          },
          "|A v - lambda v| by rank (NaN where not verified).")
      .def_property_readonly(
          "relative_residuals",
          [](const EigenResult& r) {
            std::vector<double> v;
            for (const auto& p : r.eigenpairs) v.push_back(or_nan(p.relative_residual));
            return own(std::move(v));
          },
          "residual / |lambda| by rank (NaN where not verified).")
      .def_property_readonly(
          "converged",
          [](const EigenResult& r) {
            py::array_t<bool> a(py::ssize_t(r.eigenpairs.size()));
            for (std::size_t i = 0; i < r.eigenpairs.size(); ++i) a.mutable_at(i) = r.eigenpairs[i].converged;
            return a;
          },
          "Converged flags by rank (bool array).")
      .def_property_readonly(
          "eigenvectors",
          [](const EigenResult& r) -> py::object {
            if (r.eigenpairs.empty() || r.eigenpairs[0].eigenvector.empty()) return py::none();
            const std::size_t D = r.eigenpairs[0].eigenvector.size();
            std::vector<double> v;
            v.reserve(D * r.eigenpairs.size());
            for (const auto& p : r.eigenpairs) v.insert(v.end(), p.eigenvector.begin(), p.eigenvector.end());
            return own(std::move(v), {py::ssize_t(r.eigenpairs.size()), py::ssize_t(D)});
          },
          "The unit eigenvectors as a (k, D) array, row i for rank i + 1 (None unless eigenvectors=True).")
      .def("__len__", [](const EigenResult& r) { return r.eigenpairs.size(); })
      .def("__repr__", [](const EigenResult& r) {
        std::string values;
        for (std::size_t i = 0; i < r.eigenpairs.size() && i < 5; ++i) {
          values += fmt::format("{}{:.6g}", i ? ", " : "", r.eigenpairs[i].eigenvalue);
        }
        if (r.eigenpairs.size() > 5) values += ", ...";
        return fmt::format("EigenResult(k={}, converged={}, products={}+{}, eigenvalues=[{}])", r.eigenpairs.size(),
                           r.converged_count, r.products, r.verification_products, values);
      });

  m.def(
      "extreme_eigenpairs",
      [](py::handle op, std::optional<std::size_t> dimension, std::size_t k, double tol, std::size_t ncv,
         std::size_t max_iterations, std::uint64_t seed, const std::string& which, const std::string& method,
         const std::string& power_stop, py::object start, bool eigenvectors, bool verify) {
        auto o = as_operator(op, dimension, "extreme_eigenpairs");
        EigenOptions opt;
        opt.k = k;
        opt.ncv = ncv;
        opt.tolerance = tol;
        opt.max_iterations = max_iterations;
        opt.seed = seed;
        opt.end = parse_end(which);
        opt.method = parse_method(method);
        opt.power_stop = parse_stop(power_stop);
        if (!start.is_none()) {
          opt.start = as_vector(start, "start");
          if (opt.start.size() != o.op->dimension()) {
            throw py::value_error(fmt::format("start: has {} values, expected {}", opt.start.size(), o.op->dimension()));
          }
        }
        opt.eigenvectors = eigenvectors;
        opt.verify = verify;
        py::gil_scoped_release release;
        return anodiff::extreme_eigenpairs(*o.op, opt);
      },
      py::arg("operator"), py::arg("dimension") = py::none(), py::arg("k") = 20, py::arg("tol") = 1e-4,
      py::arg("ncv") = 0, py::arg("max_iterations") = 1000, py::arg("seed") = 0, py::arg("which") = "largest",
      py::arg("method") = "lanczos", py::arg("power_stop") = "relative_change", py::arg("start") = py::none(),
      py::arg("eigenvectors") = false, py::arg("verify") = true,
      "extreme_eigenpairs(operator, dimension=None, k=20, tol=1e-4, ncv=0, max_iterations=1000, seed=0,\n"
      "                   which='largest', method='lanczos', power_stop='relative_change', start=None,\n"
      "                   eigenvectors=False, verify=True) -> EigenResult\n\n"
      "The k extreme eigenpairs of a symmetric operator: a SymmetricOperator, a callable apply(x) -> A x with\n"
      "dimension=D, or a square array. method 'lanczos' is Spectra's implicitly restarted Lanczos (as ARPACK and\n"
      "scipy's eigsh; a pair converged when |A v - lambda v| <= tol |lambda|; ncv = 0: min(D, max(2k + 1, 20))),\n"
      "'power' the study's deflated power iteration (largest in magnitude; power_stop 'relative_change' or\n"
      "'residual'). which: 'largest' or 'smallest' (algebraic, Lanczos). start: a Lanczos start vector (else a\n"
      "seeded random one). verify: one more product per pair for its residual. Runs with the GIL released.\n"
      "ValueError unless 1 <= k < D and k < ncv <= D, tol > 0.");

  m.def(
      "hutchpp_trace",
      [](py::handle op, std::optional<std::size_t> dimension, std::size_t products, std::uint64_t seed) {
        auto o = as_operator(op, dimension, "hutchpp_trace");
        py::gil_scoped_release release;
        return anodiff::hutchpp_trace(*o.op, products, seed);
      },
      py::arg("operator"), py::arg("dimension") = py::none(), py::arg("products") = 99, py::arg("seed") = 0,
      "hutchpp_trace(operator, dimension=None, products=99, seed=0) -> float\n\n"
      "Hutch++ (Meyer et al. 2021) estimate of the trace with `products` products (a positive multiple of 3: m/3 to\n"
      "sketch the range, m/3 for its exact trace, m/3 Rademacher probes of the rest), seeded. Exact when the\n"
      "sketch's m/3 columns span the range (rank <= m/3).");

  py::class_<SpectralDensity>(m, "SpectralDensity", "Stochastic Lanczos quadrature: the nodes and weights of all probes.")
      .def_property_readonly("nodes", [](const SpectralDensity& d) { return own(std::vector<double>(d.nodes)); },
                             "Ritz values of all runs.")
      .def_property_readonly("weights", [](const SpectralDensity& d) { return own(std::vector<double>(d.weights)); },
                             "Quadrature weights (summing to 1 over all runs).")
      .def(
          "smoothed", [](const SpectralDensity& d, py::handle x, double sigma) { return own(d.smoothed(as_vector(x, "x"), sigma)); },
          py::arg("x"), py::arg("sigma"), "The density smoothed with Gaussians of width sigma at the points x.")
      .def("__repr__", [](const SpectralDensity& d) { return fmt::format("SpectralDensity({} nodes)", d.nodes.size()); });

  py::class_<SmoothedDensity>(m, "SmoothedDensity",
                              "An SLQ density with its smoothed curve on a grid (anodiff-hessian's density_epoch_E.csv).")
      .def_readonly("quadrature", &SmoothedDensity::quadrature, "The SpectralDensity (nodes and weights).")
      .def_readonly("sigma", &SmoothedDensity::sigma, "Width of the Gaussians.")
      .def_property_readonly("x", [](const SmoothedDensity& d) { return own(std::vector<double>(d.x)); }, "Grid of eigenvalues.")
      .def_property_readonly("y", [](const SmoothedDensity& d) { return own(std::vector<double>(d.y)); }, "The density at x.")
      .def("__repr__", [](const SmoothedDensity& d) {
        return fmt::format("SmoothedDensity({} nodes, {} points, sigma={:.3g})", d.quadrature.nodes.size(), d.x.size(), d.sigma);
      });

  m.def(
      "spectral_density",
      [](py::handle op, std::optional<std::size_t> dimension, std::size_t probes, std::size_t steps, std::uint64_t seed) {
        auto o = as_operator(op, dimension, "spectral_density");
        py::gil_scoped_release release;
        return anodiff::spectral_density(*o.op, probes, steps, seed);
      },
      py::arg("operator"), py::arg("dimension") = py::none(), py::arg("probes") = 4, py::arg("steps") = 40,
      py::arg("seed") = 0,
      "spectral_density(operator, dimension=None, probes=4, steps=40, seed=0) -> SpectralDensity\n\n"
      "Stochastic Lanczos quadrature (Ghorbani et al. 2019): `probes` Rademacher probes, `steps` Lanczos steps each\n"
      "(full reorthogonalisation; at most probes * steps products). ValueError unless probes >= 1, 2 <= steps <= D.");
  m.def(
      "smooth_density",
      [](const SpectralDensity& d, std::size_t points) {
        py::gil_scoped_release release;
        return anodiff::smooth_density(d, points);
      },
      py::arg("density"), py::arg("points") = 400,
      "smooth_density(density, points=400) -> SmoothedDensity\n\n"
      "The density on `points` grid points spanning its nodes padded by 5% of their range, Gaussians of width\n"
      "(grid span) / 100: the curve anodiff-hessian writes.");
}

}  // namespace anodiff::python
