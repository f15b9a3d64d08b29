#include "anodiff/io/loss_landscape_h5.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "detail/h5file.hpp"

namespace anodiff {
namespace fs = std::filesystem;

#ifdef ANODIFF_HAVE_HDF5
namespace {
namespace h5 = detail::h5;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// HDF5 writes the file in place; a temporary name renamed at the end leaves no half-written file.
fs::path temporary(const fs::path& file) { return fs::path(file.string() + ".tmp"); }

void publish(const fs::path& tmp, const fs::path& file) {
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) throw IoError(fmt::format("{}: cannot rename the written file into place: {}", file.string(), ec.message()));
}

// An axis from coordinates that np.linspace made.
Axis axis_of(const std::vector<double>& c, const fs::path& file, const char* name) {
  if (c.empty()) throw InputError(fmt::format("{}: dataset '{}' is empty: expected the grid's coordinates", file.string(), name));
  Axis a{c.front(), c.back(), c.size()};
  const double tolerance = 1e-6 * std::max(std::fabs(a.hi - a.lo), 1e-12);
  for (std::size_t k = 0; k < c.size(); ++k) {
    if (!(std::fabs(c[k] - a.at(k)) <= tolerance)) {
      throw InputError(fmt::format("{}: dataset '{}' is not evenly spaced (value {} is {}, expected {}): expected "
                                   "np.linspace coordinates", file.string(), name, k, c[k], a.at(k)));
    }
  }
  return a;
}
}  // namespace

void write_loss_landscape_surface(const LandscapeGrid& g, const fs::path& file, const std::string& dir_file) {
  const fs::path tmp = temporary(file);
  {
    const h5::Id f = h5::create(tmp);
    std::vector<double> x(g.x.points), y(g.y.points);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = g.x.at(i);
    for (std::size_t j = 0; j < y.size(); ++j) y[j] = g.y.at(j);
    h5::write_string(f.get(), "dir_file", dir_file, tmp);
    h5::write(f.get(), "xcoordinates", x.data(), {x.size()}, tmp);
    const bool two_d = g.y.points > 1;
    if (two_d) h5::write(f.get(), "ycoordinates", y.data(), {y.size()}, tmp);
    std::vector<double> loss(g.loss.size()), acc(g.accuracy.size());
    for (std::size_t p = 0; p < loss.size(); ++p) loss[p] = std::isnan(g.loss[p]) ? -1.0 : g.loss[p];
    for (std::size_t p = 0; p < acc.size(); ++p) acc[p] = std::isnan(g.accuracy[p]) ? -1.0 : 100.0 * g.accuracy[p];
    const std::vector<std::size_t> shape = two_d ? std::vector<std::size_t>{g.y.points, g.x.points}
                                                 : std::vector<std::size_t>{g.x.points};
    h5::write(f.get(), "train_loss", loss.data(), shape, tmp);
    h5::write(f.get(), "train_acc", acc.data(), shape, tmp);
    if (H5Fflush(f.get(), H5F_SCOPE_GLOBAL) < 0) throw IoError(fmt::format("{}: cannot flush", tmp.string()));
  }
  publish(tmp, file);
}

void write_loss_landscape_directions(const std::vector<float>& d1, const std::vector<float>& d2,
                                     const ParameterLayout& layout, const fs::path& file) {
  const std::size_t n = layout.dimension();
  if (d1.size() != n || (!d2.empty() && d2.size() != n)) {
    throw std::invalid_argument(fmt::format("write_loss_landscape_directions: directions of {} and {} values for a "
                                            "layout of {} parameters", d1.size(), d2.size(), n));
  }
  const fs::path tmp = temporary(file);
  {
    const h5::Id f = h5::create(tmp);
    auto group = [&](const char* name, const std::vector<float>& d) {
      h5::Id g(H5Gcreate2(f.get(), name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
      if (!g.valid()) throw IoError(fmt::format("{}: cannot create group '{}'", tmp.string(), name));
      for (std::size_t k = 0; k < layout.tensors.size(); ++k) {
        const auto& t = layout.tensors[k];
        std::vector<std::size_t> shape(t.shape.begin(), t.shape.end());
        h5::write(g.get(), std::to_string(k), d.data() + t.offset, shape, tmp);
      }
    };
    group("xdirection", d1);
    if (!d2.empty()) group("ydirection", d2);
    if (H5Fflush(f.get(), H5F_SCOPE_GLOBAL) < 0) throw IoError(fmt::format("{}: cannot flush", tmp.string()));
  }
  publish(tmp, file);
}

LandscapeGrid read_loss_landscape_surface(const fs::path& file, const std::string& surface) {
  const char* expected = "a loss-landscape surface file (xcoordinates, ycoordinates, train_loss, train_acc)";
  const h5::Id f = h5::open_read(file, expected);
  LandscapeGrid g;
  g.x = axis_of(h5::read_doubles(f.get(), "xcoordinates", file, expected), file, "xcoordinates");
  g.y = h5::exists(f.get(), "ycoordinates")
            ? axis_of(h5::read_doubles(f.get(), "ycoordinates", file, expected), file, "ycoordinates")
            : Axis{0, 0, 1};
  const std::size_t n = g.x.points * g.y.points;
  h5::Info info;
  auto loss = h5::read_doubles(f.get(), surface, file, fmt::format("the surface '{}' of {} x {} values", surface,
                                                                   g.x.points, g.y.points), &info);
  if (loss.size() != n || (g.y.points > 1 && info.shape.size() != 2)) {
    throw InputError(fmt::format("{}: dataset '{}' has shape ({}): expected {} x {} values for the coordinates",
                                 file.string(), surface, fmt::join(info.shape, ", "), g.x.points, g.y.points));
  }
  for (auto& v : loss) {
    if (v < 0) v = kNaN;
  }
  g.loss = std::move(loss);
  g.accuracy.assign(n, kNaN);
  if (h5::exists(f.get(), "train_acc")) {
    auto acc = h5::read_doubles(f.get(), "train_acc", file, "the accuracy (percent)");
    if (acc.size() == n) {
      for (std::size_t p = 0; p < n; ++p) g.accuracy[p] = acc[p] < 0 ? kNaN : acc[p] / 100.0;
    }
  }
  return g;
}

std::vector<std::vector<float>> read_loss_landscape_directions(const fs::path& file) {
  const char* expected = "a loss-landscape direction file (groups xdirection, ydirection of datasets 0, 1, ...)";
  const h5::Id f = h5::open_read(file, expected);
  std::vector<std::vector<float>> out;
  for (const char* name : {"xdirection", "ydirection"}) {
    if (!h5::exists(f.get(), name)) {
      if (out.empty()) throw InputError(fmt::format("{}: no group 'xdirection' (expected {})", file.string(), expected));
      break;
    }
    h5::Id g(H5Gopen2(f.get(), name, H5P_DEFAULT), H5Gclose);
    if (!g.valid()) throw InputError(fmt::format("{}: '{}' is not a group (expected {})", file.string(), name, expected));
    std::vector<float> d;
    const std::size_t count = h5::names(g.get()).size();
    for (std::size_t k = 0; k < count; ++k) {
      auto [ds, info] = h5::open_dataset(g.get(), std::to_string(k), file, expected);
      const std::size_t at = d.size();
      d.resize(at + info.elements());
      if (info.elements() > 0) h5::read(ds.get(), d.data() + at, file, fmt::format("{}/{}", name, k));
    }
    out.push_back(std::move(d));
  }
  return out;
}

#else  // without HDF5

namespace {
[[noreturn]] void no_hdf5(const fs::path& file) {
  throw InputError(fmt::format("{}: this anodiff was built without HDF5 and cannot read or write .h5 files (install "
                               "libhdf5-dev and configure again)", file.string()));
}
}  // namespace

void write_loss_landscape_surface(const LandscapeGrid&, const fs::path& file, const std::string&) { no_hdf5(file); }
void write_loss_landscape_directions(const std::vector<float>&, const std::vector<float>&, const ParameterLayout&,
                                     const fs::path& file) {
  no_hdf5(file);
}
LandscapeGrid read_loss_landscape_surface(const fs::path& file, const std::string&) { no_hdf5(file); }
std::vector<std::vector<float>> read_loss_landscape_directions(const fs::path& file) { no_hdf5(file); }

#endif

}  // namespace anodiff
