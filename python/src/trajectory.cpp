// anodiff._anodiff: Trajectory, load_trajectory, the parameter layout and the conversions of Python inputs.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/io/study_trajectory.hpp"
#include "common.hpp"
#include "detail/npy.hpp"

namespace anodiff::python {
namespace fs = std::filesystem;

namespace {

// A read-only numpy view of a memory-mapped .npy (2-D, float32 or float64), keeping the mapping alive.
py::object mapped_view(const fs::path& file) {
  auto a = anodiff::detail::npy_open_rows(file);
  auto* keep = new std::shared_ptr<const anodiff::detail::MappedFile>(a.mapping);
  py::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<const anodiff::detail::MappedFile>*>(p); });
  const std::vector<py::ssize_t> shape = {py::ssize_t(a.shape[0]), py::ssize_t(a.shape[1])};
  if (a.type == anodiff::detail::NpyType::float32) return view(reinterpret_cast<const float*>(a.data), shape, owner);
  return view(reinterpret_cast<const double*>(a.data), shape, owner);
}

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// Keeps a Python object alive from C++ (released with the GIL held, whichever thread drops the last reference).
std::shared_ptr<const void> keep_alive(py::object o) {
  auto* held = new py::object(std::move(o));
  return std::shared_ptr<const void>(held, [](const void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<const py::object*>(p);
  });
}

Trajectory from_array(py::handle x, const char* what, StepTable steps = {}) {
  py::array a;
  if (py::isinstance<py::array>(x)) {
    a = py::reinterpret_borrow<py::array>(x);
  } else {
    a = py::module_::import("numpy").attr("asarray")(x);
  }
  const char kind = a.dtype().kind();
  const auto item = a.dtype().itemsize();
  if (kind != 'f' || (item != 4 && item != 8)) {
    throw py::type_error(fmt::format("{}: expected a float32 or float64 array (snapshots x parameters), found dtype {}",
                                     what, dtype_name(a)));
  }
  if (a.ndim() != 2) {
    throw py::value_error(fmt::format("{}: expected a 2-D array (snapshots x parameters), found {} dimensions", what,
                                      a.ndim()));
  }
  // Read in place when numpy's layout is the library's (C order, native byte order, aligned); else one copy.
  const bool native = a.dtype().attr("isnative").cast<bool>();
  const bool c_order = (a.flags() & py::array::c_style) != 0;
  const bool aligned = (a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
  if (!native || !c_order || !aligned) {
    a = py::module_::import("numpy").attr("ascontiguousarray")(a, item == 4 ? py::dtype::of<float>()
                                                                             : py::dtype::of<double>());
  }
  const std::size_t T = std::size_t(a.shape(0)), D = std::size_t(a.shape(1));
  if (D == 0) throw py::value_error(fmt::format("{}: snapshots have 0 parameters", what));
  Trajectory t;
  t.trajectory = WeightTrajectory::from_buffer(keep_alive(a), a.data(), item == 8, T * D, D, std::move(steps));
  // Python's view: the same buffer, read-only.
  py::array v = a.attr("view")();
  v.attr("setflags")(py::arg("write") = false);
  t.chunks.push_back(v);
  return t;
}

// Views of the chunk files covering the first `rows` snapshots (a shard ahead of the others is cut to their count).
std::vector<py::object> chunk_views(const fs::path& dir, std::size_t rows) {
  std::vector<py::object> views;
  std::size_t seen = 0;
  for (const auto& f : WeightTrajectory::chunk_files(dir)) {
    if (seen >= rows) break;
    py::object v = mapped_view(f);
    const std::size_t n = v.attr("shape").cast<py::tuple>()[0].cast<std::size_t>();
    if (seen + n > rows) v = v[py::slice(0, py::ssize_t(rows - seen), 1)];
    seen += std::min(n, rows - seen);
    views.push_back(v);
  }
  if (seen != rows) {
    throw InputError(fmt::format("{}: the chunks changed while they were read ({} then {} snapshots)", dir.string(),
                                 rows, seen));
  }
  return views;
}

}  // namespace

Trajectory wrap(const WeightTrajectory& w) {
  const std::size_t T = w.size(), D = w.dimension();
  std::vector<double> rows(T * D);
  w.read(0, T, 0, D, rows.data());
  Trajectory t = from_array(own(std::move(rows), {py::ssize_t(T), py::ssize_t(D)}), "trajectory", w.steps());
  if (!w.loss().empty() && t.trajectory.loss().empty()) t.trajectory.set_loss(w.loss());
  return t;
}

namespace {

// Views of what one listing of `path` finds (below: load() retakes them when a writer changed the chunks meanwhile).
Trajectory load_once(const fs::path& path) {
  Trajectory t;
  {
    py::gil_scoped_release release;
    t.trajectory = WeightTrajectory::load(path);  // throws for a missing or malformed path
  }
  if (const auto shard_dirs = WeightTrajectory::shard_directories(path); !shard_dirs.empty()) {
    // A sharded directory: the C++ trajectory reads the shards side by side; Python gets each shard's views.
    for (std::size_t k = 0; k < shard_dirs.size(); ++k) {
      Trajectory s;
      {
        py::gil_scoped_release release;
        s.trajectory = WeightTrajectory::load_shard(path, k);
      }
      if (s.trajectory.size() != t.trajectory.size()) {
        throw InputError(fmt::format("{}: the shards changed while they were read ({} then {} snapshots)",
                                     shard_dirs[k].string(), t.trajectory.size(), s.trajectory.size()));
      }
      s.chunks = chunk_views(shard_dirs[k], s.trajectory.size());
      if (fs::exists(shard_dirs[k] / "layout.csv")) s.layout = ParameterLayout::read_csv(shard_dirs[k] / "layout.csv");
      t.shards.push_back(std::move(s));
    }
    t.layout = ParameterLayout::find(path);
    return t;
  }
  std::vector<fs::path> files;
  if (fs::is_directory(path)) {
    files = WeightTrajectory::chunk_files(path);
  } else if (!is_study_file(path)) {
    files.push_back(path);
  }
  if (files.empty()) {
    // The study's .mat/.h5 files (a file, or a directory of per-epoch ones): read into memory by the library;
    // Python gets a float64 copy (the positions) over which the analyses run in place.
    Trajectory w = wrap(t.trajectory);
    w.source = path;
    return w;
  }
  if (fs::is_directory(path)) {
    t.chunks = chunk_views(path, t.trajectory.size());  // chunks appended since the C++ load are left out
    if (fs::exists(path / "layout.csv")) t.layout = ParameterLayout::read_csv(path / "layout.csv");
  } else {
    t.chunks.push_back(mapped_view(path));
  }
  return t;
}

// The chunk files (and shards' chunk files) of a trajectory directory with their sizes: what a writer changes.
std::vector<std::pair<std::string, std::uintmax_t>> listing(const fs::path& path) {
  std::vector<std::pair<std::string, std::uintmax_t>> files;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return files;
  auto add = [&](const fs::path& dir) {
    for (const auto& f : WeightTrajectory::chunk_files(dir)) files.emplace_back(f.string(), fs::file_size(f, ec));
  };
  for (const auto& d : WeightTrajectory::shard_directories(path)) add(d);
  add(path);
  return files;
}

}  // namespace

Trajectory load(const fs::path& path) {
  // Read beside a live writer, the chunks may change between the listing and the mapping (a chunk appended, or
  // replaced by a writer that resumes from its checkpoint): the load is then retaken, up to 20 times. An error on
  // files that stayed as they were is the file's and is raised at once.
  for (int attempt = 1;; ++attempt) {
    const auto before = listing(path);
    try {
      return load_once(path);
    } catch (const InputError&) {
      if (attempt == 20 || listing(path) == before) throw;
    }
  }
}

Trajectory as_py_trajectory(py::handle x, const char* what) {
  if (py::isinstance<Trajectory>(x)) return x.cast<const Trajectory&>();
  if (py::isinstance<py::str>(x) || py::isinstance(x, py::module_::import("os").attr("PathLike"))) {
    return load(fs::path(py::str(py::module_::import("os").attr("fspath")(x)).cast<std::string>()));
  }
  return from_array(x, what);
}

WeightTrajectory as_trajectory(py::handle x, const char* what) { return as_py_trajectory(x, what).trajectory; }

std::vector<double> as_vector(py::handle x, const char* what) {
  py::array a = py::module_::import("numpy").attr("asarray")(x);
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') {
    throw py::type_error(fmt::format("{}: expected numbers, found dtype {}", what, dtype_name(a)));
  }
  if (a.ndim() != 1) {
    throw py::value_error(fmt::format("{}: expected a 1-D array, found {} dimensions", what, a.ndim()));
  }
  auto d = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  return std::vector<double>(d.data(), d.data() + d.size());
}

py::array_t<double, py::array::c_style> as_float64(py::handle x, const char* what) {
  py::array a = py::module_::import("numpy").attr("asarray")(x);
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw py::type_error(fmt::format("{}: expected numbers, found dtype {}", what, dtype_name(a)));
  }
  return py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
}

LogSink as_log(py::object log) {
  if (log.is_none()) {
    // The progress lines go to logging.getLogger("anodiff") at INFO (silent unless the user configures logging).
    auto logger = keep_alive(py::module_::import("logging").attr("getLogger")("anodiff"));
    return [logger](const std::string& line) {
      py::gil_scoped_acquire gil;
      const auto& l = *static_cast<const py::object*>(logger.get());
      if (l.attr("isEnabledFor")(20).cast<bool>()) l.attr("info")("%s", line);
    };
  }
  auto held = keep_alive(log);
  return [held](const std::string& line) {
    py::gil_scoped_acquire gil;
    (*static_cast<const py::object*>(held.get()))(line);
  };
}

namespace {

py::dict steps_dict(const StepTable& s) {
  py::dict d;
  for (std::size_t c = 0; c < s.names.size(); ++c) d[py::str(s.names[c])] = own(std::vector<double>(s.columns[c]));
  return d;
}

}  // namespace

void init_trajectory(py::module_& m) {
  py::class_<ParameterTensor>(m, "ParameterTensor", "One parameter tensor of a flattened parameter vector.")
      .def(py::init([](std::string name, std::vector<std::int64_t> shape, std::size_t offset, int group) {
             ParameterTensor t;
             t.name = std::move(name);
             t.shape = std::move(shape);
             t.offset = offset;
             t.size = 1;
             for (auto s : t.shape) t.size *= std::size_t(s);
             t.group = group;
             return t;
           }),
           py::arg("name"), py::arg("shape"), py::arg("offset"), py::arg("group") = -1,
           "A tensor called `name` of `shape` at coordinate `offset`; `group` >= 0 numbers its scale-invariant group.")
      .def_readonly("name", &ParameterTensor::name, "Its name in the model's state_dict.")
      .def_readonly("shape", &ParameterTensor::shape, "Its shape.")
      .def_readonly("offset", &ParameterTensor::offset, "First coordinate in the flattened vector.")
      .def_readonly("size", &ParameterTensor::size, "Number of coordinates.")
      .def_readonly("group", &ParameterTensor::group, "Scale-invariant group, -1 for none.")
      .def("__repr__", [](const ParameterTensor& t) {
        return fmt::format("ParameterTensor('{}', shape=({}), offset={}, size={}, group={})", t.name,
                           fmt::join(t.shape, ", "), t.offset, t.size, t.group);
      });

  py::class_<ParameterLayout>(m, "ParameterLayout",
                              "Which coordinates of the flattened parameter vector are which tensor (layout.csv,\n"
                              "docs/formats.md), and which tensors form scale-invariant groups.")
      .def(py::init([](std::vector<ParameterTensor> tensors) {
             ParameterLayout l;
             std::size_t next = 0;
             for (auto& t : tensors) {
               if (t.offset != next) {
                 throw py::value_error(fmt::format("ParameterLayout: tensor '{}' at offset {}: expected offset {} "
                                                   "(tensors must be consecutive)", t.name, t.offset, next));
               }
               next += t.size;
             }
             l.tensors = std::move(tensors);
             return l;
           }),
           py::arg("tensors"), "A layout from consecutive ParameterTensor objects.")
      .def_static("read_csv", [](const fs::path& p) { return ParameterLayout::read_csv(p); }, py::arg("path"),
                  "Reads a layout.csv (name,offset,size,shape,group). Raises ValueError for a malformed file,\n"
                  "OSError for a missing one.")
      .def("write_csv", [](const ParameterLayout& l, const fs::path& p) { l.write_csv(p); }, py::arg("path"),
           "Writes layout.csv.")
      .def_readonly("tensors", &ParameterLayout::tensors, "The tensors, in order.")
      .def_property_readonly("dimension", &ParameterLayout::dimension, "Total number of coordinates.")
      .def_property_readonly("groups", &ParameterLayout::groups, "Number of scale-invariant groups.")
      .def("group_dimension", &ParameterLayout::group_dimension, py::arg("group") = -1,
           "Coordinates in group `group`, or in all groups for -1.")
      .def("__len__", [](const ParameterLayout& l) { return l.tensors.size(); })
      .def("__repr__", [](const ParameterLayout& l) {
        return fmt::format("ParameterLayout({} tensors, dimension {}, {} scale-invariant groups)", l.tensors.size(),
                           l.dimension(), l.groups());
      });

  py::class_<Trajectory>(m, "Trajectory",
                         "T snapshots of a D-dimensional parameter vector: a memory-mapped .npy or trajectory\n"
                         "directory (anodiff.load_trajectory) or a numpy array (anodiff.Trajectory(array)).\n"
                         "Analyses read the data in place; `positions` is a read-only numpy view of it.")
      .def(py::init([](py::object array, py::object steps) {
             StepTable s;
             if (!steps.is_none()) {
               for (auto item : steps.cast<py::dict>()) {
                 s.names.push_back(py::str(item.first).cast<std::string>());
                 s.columns.push_back(as_vector(item.second, "steps"));
               }
             }
             Trajectory t = from_array(array, "array", std::move(s));
             return t;
           }),
           py::arg("array"), py::arg("steps") = py::none(),
           "A trajectory over a (T, D) float32/float64 array, read in place (copied once only if it is not\n"
           "C-contiguous); `steps` is an optional dict of per-snapshot columns (e.g. {'loss': losses}).")
      .def("__len__", [](const Trajectory& t) { return t.trajectory.size(); })
      .def_property_readonly("size", [](const Trajectory& t) { return t.trajectory.size(); }, "Snapshots T.")
      .def_property_readonly("dimension", [](const Trajectory& t) { return t.trajectory.dimension(); },
                             "Parameters per snapshot D.")
      .def_property_readonly("source", [](const Trajectory& t) { return t.source_name(); },
                             "The file or directory it was loaded from ('' for an array).")
      .def_property_readonly("column_offset", [](const Trajectory& t) { return t.trajectory.column_offset(); },
                             "The first coordinate in the whole: a shard's place in a sharded trajectory (else 0).")
      .def_property_readonly(
          "chunks", [](const Trajectory& t) { return py::list(py::cast(t.chunks)); },
          "Read-only numpy views of the files (or of the array), in order: memory-mapped, never copied. Empty\n"
          "for a sharded directory (its files hold column slices: see `shards[k].chunks`).")
      .def_property_readonly(
          "shards", [](const Trajectory& t) { return py::list(py::cast(t.shards)); },
          "A sharded trajectory directory's shards (shard_000, ...), each a Trajectory of its columns with its\n"
          "own chunks and layout; [] otherwise. Analyses take the whole (read in place, shard by shard) or a shard.")
      .def_property_readonly(
          "positions",
          [](const Trajectory& t) -> py::object {
            auto numpy = py::module_::import("numpy");
            if (!t.shards.empty()) {  // a copy: the shards' columns side by side
              py::list columns;
              for (const auto& s : t.shards) {
                py::list parts;
                for (const auto& c : s.chunks) parts.append(c);
                columns.append(s.chunks.size() == 1 ? s.chunks[0] : numpy.attr("concatenate")(parts));
              }
              py::array all = numpy.attr("concatenate")(columns, py::arg("axis") = 1);
              all.attr("setflags")(py::arg("write") = false);
              return all;
            }
            if (t.chunks.size() == 1) return t.chunks[0];
            py::list parts;
            for (const auto& c : t.chunks) parts.append(c);
            py::array all = numpy.attr("concatenate")(parts);
            all.attr("setflags")(py::arg("write") = false);
            return all;
          },
          "The (T, D) snapshots as a read-only numpy array: a view of the memory-mapped file (one .npy or a\n"
          "directory of one chunk) or of the array; a directory of several chunks is concatenated (a copy; use\n"
          "`chunks` for views), and so is a sharded directory (its shards' columns side by side; use\n"
          "`shards[k].positions` for one shard, or the analyses, which read the shards in place).")
      .def_property_readonly(
          "steps", [](const Trajectory& t) { return steps_dict(t.trajectory.steps()); },
          "The steps.csv columns as a dict of float64 arrays (NaN for an empty field); {} for a bare array.")
      .def_property_readonly(
          "loss", [](const Trajectory& t) { return own(t.trajectory.loss()); },
          "Mini-batch loss per snapshot (NaN where there is none); empty if no loss is known.")
      .def_readwrite("layout", &Trajectory::layout,
                     "The ParameterLayout (layout.csv beside the chunks) or None; settable.")
      .def(
          "set_loss",
          [](Trajectory& t, py::handle loss) { t.trajectory.set_loss(as_vector(loss, "loss")); }, py::arg("loss"),
          "Sets the per-snapshot loss series (T values).")
      .def(
          "snapshot", [](const Trajectory& t, std::size_t i) { return own(t.trajectory.snapshot(i)); }, py::arg("t"),
          "Snapshot t as float64.")
      .def(
          "read",
          [](const Trajectory& t, std::size_t first, std::size_t count) {
            const std::size_t D = t.trajectory.dimension();
            std::vector<double> out(count * D);
            {
              py::gil_scoped_release release;
              t.trajectory.read(first, count, 0, D, out.data());
            }
            return own(std::move(out), {py::ssize_t(count), py::ssize_t(D)});
          },
          py::arg("first"), py::arg("count"),
          "Snapshots [first, first + count) as a float64 (count, D) array; ValueError for NaN or infinite weights.")
      .def("__repr__", [](const Trajectory& t) {
        return fmt::format("Trajectory({} snapshots x {} parameters{}{}{})", t.trajectory.size(),
                           t.trajectory.dimension(),
                           t.source_name().empty() ? "" : ", from " + t.source_name(),
                           t.shards.empty() ? "" : fmt::format(", {} shards", t.shards.size()),
                           t.layout ? fmt::format(", layout of {} tensors", t.layout->tensors.size()) : "");
      });

  m.def("have_matio", &have_matio, "Whether this build reads the study's MATLAB .mat files (libmatio).");
  m.def("have_hdf5", &have_hdf5, "Whether this build reads the study's .h5 files and MATLAB v7.3 files (HDF5).");
  m.def(
      "load_trajectory",
      [](py::object path, py::object loss) {
        Trajectory t = load(fs::path(py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>()));
        if (!loss.is_none()) {
          if (py::isinstance<py::str>(loss) || py::isinstance(loss, py::module_::import("os").attr("PathLike"))) {
            const fs::path lp(py::str(py::module_::import("os").attr("fspath")(loss)).cast<std::string>());
            t.trajectory.set_loss(load_series(lp), lp);
          } else {
            t.trajectory.set_loss(as_vector(loss, "loss"));
          }
        }
        return t;
      },
      py::arg("path"), py::arg("loss") = py::none(),
      "load_trajectory(path, loss=None) -> Trajectory\n\n"
      "Opens a (T, D) .npy (float32/float64) or a trajectory directory (chunk_NNNNNN.npy + steps.csv +\n"
      "layout.csv) or a sharded one (shard_000, shard_001, ...: read as one, `.shards` each), memory-mapped;\n"
      "or the study's own files (a .mat/.h5 file, or a directory of per-epoch\n"
      "model_E_sub_loss_w.mat/.h5; docs/own_models.md), read into memory as float64. `loss`: a 1-D .npy path or\n"
      "array of per-snapshot losses (default: the directory's steps.csv, or the study files' sub_loss). Raises\n"
      "FileNotFoundError for a missing path, ValueError for a malformed file.");
}

}  // namespace anodiff::python
