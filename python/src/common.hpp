#pragma once
// Shared by the sources of the Python module anodiff._anodiff: numpy views of C++ results, conversion of Python
// inputs into anodiff's types, and the Trajectory object.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {
struct CrossoverOptions;
struct PostAnalysisOptions;
}  // namespace anodiff

namespace anodiff::python {

namespace py = pybind11;

/// A trajectory as Python holds it: the C++ trajectory (which reads the memory-mapped chunks or the numpy buffer
/// in place), what keeps its data alive for Python's views, and the parameter layout found beside it.
struct Trajectory {
  WeightTrajectory trajectory;
  /// Read-only numpy views of each chunk (a loaded file or directory) or of the array it was made from.
  std::vector<py::object> chunks;
  std::optional<ParameterLayout> layout;
  /// A sharded trajectory directory's shards (WeightTrajectory::load_shard, each with its own chunks and layout);
  /// empty otherwise. `chunks` is then empty: the whole has no file of its own.
  std::vector<Trajectory> shards;
  /// The study's .mat/.h5 file or directory it was read from, when `trajectory` holds a copy of it (else empty:
  /// trajectory.source()).
  std::filesystem::path source;
  /// Where it was loaded from ('' for an array).
  std::string source_name() const { return (source.empty() ? trajectory.source() : source).string(); }
};

/// A read-only numpy array of `shape` over `data`, kept alive by `base`.
template <class T>
py::array view(const T* data, std::vector<py::ssize_t> shape, py::handle base) {
  py::array a(py::dtype::of<T>(), std::move(shape), {}, data, base);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

/// A read-only 1-D int64 view of a vector of sizes (same representation for values below 2^63).
inline py::array view_sizes(const std::vector<std::size_t>& v, py::handle base) {
  static_assert(sizeof(std::size_t) == sizeof(std::int64_t));
  return view(reinterpret_cast<const std::int64_t*>(v.data()), {py::ssize_t(v.size())}, base);
}

/// A read-only 1-D view of a vector.
template <class T>
py::array view_vector(const std::vector<T>& v, py::handle base) {
  if constexpr (std::is_same_v<T, std::size_t>) {
    return view_sizes(v, base);
  } else {
    return view(v.data(), {py::ssize_t(v.size())}, base);
  }
}

/// A numpy array that owns `v` (moved, no copy).
template <class T>
py::array own(std::vector<T>&& v, std::vector<py::ssize_t> shape = {}) {
  auto* p = new std::vector<T>(std::move(v));
  py::capsule owner(p, [](void* q) { delete static_cast<std::vector<T>*>(q); });
  if (shape.empty()) shape = {py::ssize_t(p->size())};
  if constexpr (std::is_same_v<T, std::size_t>) {
    return py::array(py::dtype::of<std::int64_t>(), std::move(shape), {},
                     reinterpret_cast<const std::int64_t*>(p->data()), owner);
  } else {
    return py::array(py::dtype::of<T>(), std::move(shape), {}, p->data(), owner);
  }
}

/// Adds a read-only property `name` to `cls` giving member `member` (a std::vector) as a numpy view of the object.
template <class C, class T>
void def_array(py::class_<C>& cls, const char* name, std::vector<T> C::*member, const char* doc) {
  cls.def_property_readonly(
      name, [member](py::object self) { return view_vector(self.cast<const C&>().*member, self); }, doc);
}

/// The trajectory that `x` stands for: a Trajectory, a path (loaded), or a 2-D float32/float64 array (read in
/// place when C-contiguous; otherwise copied once). Throws TypeError / ValueError as the C++ library would word it.
WeightTrajectory as_trajectory(py::handle x, const char* what = "x");

/// The Trajectory object of `x` (as above) with its layout, for functions that use the layout.
Trajectory as_py_trajectory(py::handle x, const char* what = "x");

/// A Trajectory holding a copy of an in-memory C++ trajectory (e.g. a toy walker's path), with its steps.
Trajectory wrap(const WeightTrajectory& w);

/// A 1-D float64 vector from an array-like (TypeError for non-numbers, ValueError for another number of dimensions).
std::vector<double> as_vector(py::handle x, const char* what);

/// A float64 array of any shape as a C-contiguous array (copied only when needed).
py::array_t<double, py::array::c_style> as_float64(py::handle x, const char* what);

/// A LogSink calling a Python callable (with the GIL), or for None one writing to logging.getLogger("anodiff") at INFO.
LogSink as_log(py::object log);

/// A band argument (lo, hi) of post_analysis() or band_exponents(): (0, 0) for None; throws ValueError naming `what`
/// for another number of values.
std::pair<double, double> band(py::object b, const char* what);

/// fit_crossover()'s options: `options` (None: the defaults) with the keyword arguments `kw` set on a copy; throws
/// TypeError for a keyword CrossoverOptions has not.
CrossoverOptions crossover_options(py::object options, const py::kwargs& kw);

/// Whether a `layout` argument is the string "auto" (the trajectory's own layout.csv).
bool is_auto(py::handle layout);

/// post_analysis()'s keyword arguments as PostAnalysisOptions (a ParameterLayout `layout` taken; "auto" and None
/// leave it empty for the caller), shared by post_analysis() and follow().
PostAnalysisOptions post_analysis_options(std::size_t part_length, std::size_t window, std::size_t exact_limit,
                                          std::size_t pair_memory_budget, std::size_t contour_bins,
                                          std::size_t msl_bins, std::size_t histogram_bins, py::object histogram_lags,
                                          std::size_t tail_block, py::object fit, py::object short_band,
                                          py::object long_band, py::object layout, py::object log);

/// Module parts, each in its own source.
void init_trajectory(py::module_& m);
void init_msd(py::module_& m);
void init_fits(py::module_& m);
void init_post_analysis(py::module_& m);
void init_pairs(py::module_& m);
void init_surfaces(py::module_& m);
void init_spectrum(py::module_& m);
void init_landscape(py::module_& m);
void init_follow(py::module_& m);

}  // namespace anodiff::python
