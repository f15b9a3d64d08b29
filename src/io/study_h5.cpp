// The study's .h5 trajectory files through HDF5's C API.
#ifdef ANODIFF_HAVE_HDF5
#include <cmath>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "detail/h5file.hpp"
#include "study_file_rows.hpp"

namespace anodiff::detail {
namespace fs = std::filesystem;

FileRows read_h5(const fs::path& file) {
  namespace h5 = detail::h5;
  const h5::Id f = h5::open_read(file, kStudyExpected);
  if (!h5::exists(f.get(), "sub_weights")) {
    throw InputError(fmt::format("{}: no dataset 'sub_weights' (expected {}); the file has: {}", file.string(),
                                 kStudyExpected, join_names(h5::names(f.get()))));
  }
  FileRows r;
  auto [w, info] = h5::open_dataset(f.get(), "sub_weights", file, kStudyExpected);
  if (info.shape.size() < 2 || info.shape[0] == 0) {
    throw InputError(fmt::format("{}: dataset 'sub_weights' has shape ({}): expected (steps, D), one row of weights "
                                 "per step", file.string(), fmt::join(info.shape, ", ")));
  }
  r.steps = info.shape[0];
  r.dimension = info.elements() / r.steps;
  r.float64 = !info.float32;
  if (r.float64) {
    r.d.resize(info.elements());
    h5::read(w.get(), r.d.data(), file, "sub_weights");
  } else {
    r.f.resize(info.elements());
    h5::read(w.get(), r.f.data(), file, "sub_weights");
  }
  if (h5::exists(f.get(), "sub_loss")) r.loss = h5::read_doubles(f.get(), "sub_loss", file, "one loss per step");
  if (h5::exists(f.get(), "grads")) {
    auto [g, ginfo] = h5::open_dataset(f.get(), "grads", file, "one gradient per step");
    if (ginfo.shape.size() != 2 || ginfo.shape[0] != r.steps) {
      throw InputError(fmt::format("{}: dataset 'grads' has shape ({}): expected ({}, D), one gradient per step",
                                   file.string(), fmt::join(ginfo.shape, ", "), r.steps));
    }
    std::vector<float> values(ginfo.elements());
    h5::read(g.get(), values.data(), file, "grads");
    r.grad_norm.assign(r.steps, 0.0);
    const std::size_t cols = ginfo.shape[1];
    for (std::size_t t = 0; t < r.steps; ++t) {
      double s = 0;
      for (std::size_t c = 0; c < cols; ++c) s += double(values[t * cols + c]) * double(values[t * cols + c]);
      r.grad_norm[t] = std::sqrt(s);
    }
  }
  if (h5::exists(f.get(), "gradient_noise_norm")) {
    r.noise_norm = h5::read_doubles(f.get(), "gradient_noise_norm", file, "one noise norm per step");
  }
  return r;
}

}  // namespace anodiff::detail
#endif
