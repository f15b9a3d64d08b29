// anodiff._anodiff: loss-landscape grids (landscape_grid.hpp) and their files, for anodiff.loss_surface (the grid
// evaluated in PyTorch, python/anodiff/landscape.py): the axes, the points read back from surface*.csv (resume and
// shard merge), the roughness, and the files anodiff-landscape writes (write_landscape, loss-landscape .h5).
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "anodiff/landscape/landscape_grid.hpp"
#include "anodiff/io/loss_landscape_h5.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/io/study_trajectory.hpp"
#include "common.hpp"

namespace anodiff::python {

namespace {

std::vector<float> as_direction(py::handle x, std::size_t size, const char* what) {
  if (x.is_none()) return {};
  const auto v = as_vector(x, what);
  if (size && v.size() != size) throw py::value_error(fmt::format("{}: has {} values, expected {}", what, v.size(), size));
  return std::vector<float>(v.begin(), v.end());
}

py::array grid_array(const LandscapeGrid& g, const std::vector<double>& v) {
  return own(std::vector<double>(v), {py::ssize_t(g.y.points), py::ssize_t(g.x.points)});
}

}  // namespace

void init_landscape(py::module_& m) {
  py::class_<Axis>(m, "Axis", "Axis(lo=-1, hi=1, points=51): evenly spaced coordinates, as np.linspace(lo, hi, points).")
      .def(py::init([](double lo, double hi, std::size_t points) {
             if (points < 1) throw py::value_error("Axis: points must be at least 1");
             return Axis{lo, hi, points};
           }),
           py::arg("lo") = -1.0, py::arg("hi") = 1.0, py::arg("points") = 51)
      .def_readonly("lo", &Axis::lo)
      .def_readonly("hi", &Axis::hi)
      .def_readonly("points", &Axis::points)
      .def("at", &Axis::at, py::arg("k"), "The k-th coordinate.")
      .def_property_readonly(
          "coordinates",
          [](const Axis& a) {
            std::vector<double> v(a.points);
            for (std::size_t k = 0; k < a.points; ++k) v[k] = a.at(k);
            return own(std::move(v));
          },
          "All coordinates (float64).")
      .def_static("parse", &Axis::parse, py::arg("text"), "Axis.parse('LO:HI:N') (anodiff-landscape's --x / --y).")
      .def("__repr__", [](const Axis& a) { return fmt::format("Axis({:g}, {:g}, {})", a.lo, a.hi, a.points); });

  py::class_<LandscapeGrid>(m, "LandscapeGrid",
                            "Loss and accuracy on a grid of two directions: loss[j, i] at (x[i], y[j]), NaN where not "
                            "evaluated.")
      .def(py::init([](const Axis& x, const Axis& y) {
             LandscapeGrid g;
             g.x = x;
             g.y = y;
             g.loss.assign(x.points * y.points, std::nan(""));
             g.accuracy = g.loss;
             return g;
           }),
           py::arg("x"), py::arg("y"), "An empty grid (every point NaN).")
      .def_readonly("x_axis", &LandscapeGrid::x, "The x Axis.")
      .def_readonly("y_axis", &LandscapeGrid::y, "The y Axis.")
      .def_property_readonly("loss", [](const LandscapeGrid& g) { return grid_array(g, g.loss); },
                             "(y points, x points) float64 (a copy).")
      .def_property_readonly("accuracy", [](const LandscapeGrid& g) { return grid_array(g, g.accuracy); },
                             "(y points, x points) float64, accuracy in [0, 1] (NaN for a loss without one).")
      .def("evaluated", &LandscapeGrid::evaluated, "Points evaluated.")
      .def("loss_surface", &LandscapeGrid::loss_surface, "The loss as a Surface (rows: y, columns: x).")
      .def("__repr__", [](const LandscapeGrid& g) {
        return fmt::format("LandscapeGrid({} x {}, {} evaluated)", g.x.points, g.y.points, g.evaluated());
      });

  m.def(
      "landscape_file",
      [](const std::filesystem::path& directory, std::size_t shard, std::size_t shards) {
        return landscape_file(directory, {shard, shards});
      },
      py::arg("directory"), py::arg("shard") = 0, py::arg("shards") = 1,
        "landscape_file(directory, shard=0, shards=1) -> path\n\n"
        "The file a grid's points are appended to: surface.csv (one shard) or surface.shard-I-of-N.csv.");
  m.def(
      "read_landscape",
      [](const std::filesystem::path& dir, const Axis& x, const Axis& y) {
        py::gil_scoped_release release;
        return anodiff::read_landscape(dir, x, y);
      },
      py::arg("directory"), py::arg("x"), py::arg("y"),
      "read_landscape(directory, x, y) -> LandscapeGrid\n\n"
      "The points of every surface*.csv in the directory for the grid of the axes x and y (missing points NaN; a\n"
      "torn last line ignored). ValueError naming the file and line for a point of another grid.");

  py::class_<LandscapeRoughness>(m, "LandscapeRoughness", "The roughness of a 2-D loss landscape (docs/landscape.md).")
      .def_readonly("max_lag", &LandscapeRoughness::max_lag, "Largest structure-function lag (pixels).")
      .def_readonly("structure", &LandscapeRoughness::structure, "S_2 at lags 1..max_lag (StructureFunction).")
      .def_readonly("hurst", &LandscapeRoughness::hurst, "H from S_2 (HurstEstimate).")
      .def_readonly("pairs", &LandscapeRoughness::pairs, "Mean |dL| against distance (PairRoughness; the study's slope 1).")
      .def_readonly("boxes", &LandscapeRoughness::boxes, "Box counting (BoxCounting; None below 8 x 8 points).")
      .def("__repr__", [](const LandscapeRoughness& r) {
        return fmt::format("LandscapeRoughness(H={:.4g}, mean |dL| slope={:.4g}{})", r.hurst.hurst, r.pairs.fit.exponent,
                           r.boxes ? fmt::format(", box dimension={:.4g}", r.boxes->dimension) : std::string());
      });
  m.def(
      "landscape_roughness",
      [](const LandscapeGrid& g) {
        py::gil_scoped_release release;
        return anodiff::landscape_roughness(g);
      },
      py::arg("grid"),
      "landscape_roughness(grid) -> LandscapeRoughness\n\n"
      "Hurst exponent, mean |dL| against distance and box counting of a complete 2-D grid (ValueError for a 1-D line\n"
      "or missing points).");

  m.def(
      "write_landscape",
      [](const LandscapeGrid& g, const std::filesystem::path& dir, py::object d1, py::object d2, py::object path,
         const std::string& title, py::object layout, bool roughness, bool plots) {
        LandscapeResult r;
        r.grid = g;
        const std::size_t size = layout.is_none() ? 0 : layout.cast<const ParameterLayout&>().dimension();
        r.direction1 = as_direction(d1, size, "direction1");
        r.direction2 = as_direction(d2, r.direction1.size(), "direction2");
        if (!path.is_none()) {
          auto a = as_float64(path, "path");
          if (a.ndim() != 2 || a.shape(1) != 2) throw py::value_error("path: expected (N, 2) plane coordinates");
          for (py::ssize_t i = 0; i < a.shape(0); ++i) r.path.push_back({a.at(i, 0), a.at(i, 1)});
        }
        r.title = title;
        if (!layout.is_none()) r.layout = layout.cast<ParameterLayout>();
        std::optional<LandscapeRoughness> rough;
        if (roughness && r.complete() && g.y.points > 1) rough = anodiff::landscape_roughness(g);
        OutputOptions o;
        o.plots = plots;
        o.log = as_log(py::none());
        py::gil_scoped_release release;
        anodiff::write_landscape(r, rough, dir, o);
      },
      py::arg("grid"), py::arg("directory"), py::arg("direction1") = py::none(), py::arg("direction2") = py::none(),
      py::arg("path") = py::none(), py::arg("title") = "", py::arg("layout") = py::none(), py::arg("roughness") = true,
      py::arg("plots") = false,
      "write_landscape(grid, directory, direction1=None, direction2=None, path=None, title='', layout=None,\n"
      "                roughness=True, plots=False)\n\n"
      "Writes anodiff-landscape's files for a grid (docs/formats.md): grid.csv, surface_loss.npy,\n"
      "surface_accuracy.npy, directions.npy (with directions), trajectory_projection.csv (with a path),\n"
      "roughness.csv and structure_function.csv (a complete 2-D grid), with HDF5 surface.h5 and, with the\n"
      "directions and their ParameterLayout, directions.h5 (Li et al.'s loss-landscape layout); plots: the gnuplot\n"
      "PNGs.");

  m.def("have_hdf5", &anodiff::have_hdf5, "Whether this build reads and writes HDF5 files (surface.h5, .h5 trajectories).");
  m.def(
      "read_loss_landscape_surface",
      [](const std::filesystem::path& file, const std::string& surface) {
        return anodiff::read_loss_landscape_surface(file, surface);
      },
      py::arg("file"), py::arg("surface") = "train_loss",
      "read_loss_landscape_surface(file, surface='train_loss') -> LandscapeGrid\n\n"
      "Reads a loss-landscape surface .h5 (Li et al.'s layout; negative values, points not computed, become NaN).");
  m.def(
      "read_loss_landscape_directions",
      [](const std::filesystem::path& file) {
        py::list out;
        for (auto& d : anodiff::read_loss_landscape_directions(file)) out.append(own(std::move(d)));
        return out;
      },
      py::arg("file"),
      "read_loss_landscape_directions(file) -> list of float32 arrays\n\n"
      "Reads a loss-landscape direction .h5: the x direction (and the y direction) flattened in C order.");
}

}  // namespace anodiff::python
