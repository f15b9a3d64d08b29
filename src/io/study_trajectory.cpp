#include "anodiff/io/study_trajectory.hpp"

#include <algorithm>
#include <optional>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <limits>
#include <map>
#include <regex>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "detail/h5file.hpp"

#ifdef ANODIFF_HAVE_MATIO
#include <matio.h>
#endif

namespace anodiff {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* kExpected =
    "the study's train_save layout: 'sub_weights' (steps x parameter tensors, or steps x D) with 'sub_loss', or "
    "the post-analysis's 'MSD_feed'";

// The rows of one file, converted to C order: steps x D values, float32 or float64, with per-step columns.
struct FileRows {
  std::size_t steps = 0, dimension = 0;
  bool float64 = false;
  std::vector<float> f;
  std::vector<double> d;
  std::vector<double> loss, grad_norm, noise_norm, step;  // empty when the file has none
};

// Copies an array stored in Fortran order (MATLAB's) with MATLAB dims `dims` into C order (numpy's, PyTorch's):
// out[((i0 d1 + i1) d2 + i2) ...] = in[i0 + d0 (i1 + d1 (i2 + ...))].
template <typename In, typename Out>
void fortran_to_c(const In* in, const std::vector<std::size_t>& dims, Out* out) {
  std::size_t n = 1;
  for (auto d : dims) n *= d;
  if (n == 0) return;
  const std::size_t rank = dims.size();
  std::vector<std::size_t> stride(rank, 1), idx(rank, 0);  // C strides
  for (std::size_t k = rank; k-- > 1;) stride[k - 1] = stride[k] * dims[k];
  std::size_t c = 0;
  for (std::size_t f = 0; f < n; ++f) {
    out[c] = static_cast<Out>(in[f]);
    for (std::size_t k = 0; k < rank; ++k) {  // the first index runs fastest in Fortran order
      if (++idx[k] < dims[k]) {
        c += stride[k];
        break;
      }
      c -= (dims[k] - 1) * stride[k];
      idx[k] = 0;
    }
  }
}

std::string join_names(const std::vector<std::string>& names) {
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

// ------------------------------------------------------------------------------------------------ .mat (libmatio)
#ifdef ANODIFF_HAVE_MATIO
std::string& matio_message() {
  static std::string last;
  return last;
}

void matio_log(int level, char* message) {
  if (level & (1 | 2)) matio_message() = message ? message : "";  // critical and error; warnings ignored
}

struct Mat {
  mat_t* m = nullptr;
  ~Mat() {
    if (m) Mat_Close(m);
  }
};
struct Var {
  matvar_t* v = nullptr;
  explicit Var(matvar_t* p) : v(p) {}
  Var(Var&& o) noexcept : v(std::exchange(o.v, nullptr)) {}
  Var(const Var&) = delete;
  Var& operator=(const Var&) = delete;
  Var& operator=(Var&&) = delete;
  ~Var() {
    if (v) Mat_VarFree(v);
  }
};

std::vector<std::size_t> dims_of(const matvar_t* v) { return std::vector<std::size_t>(v->dims, v->dims + v->rank); }

std::size_t count_of(const matvar_t* v) {
  std::size_t n = 1;
  for (int k = 0; k < v->rank; ++k) n *= v->dims[k];
  return n;
}

// Calls f(const T* data) with the numeric data of `v` in its class type.
template <typename F>
void with_numeric(const matvar_t* v, const fs::path& file, const std::string& what, F&& f) {
  if (v->isComplex || v->data == nullptr) {
    throw InputError(fmt::format("{}: '{}' is complex or empty: expected real numbers ({})", file.string(), what, kExpected));
  }
  switch (v->class_type) {
    case MAT_C_DOUBLE: f(static_cast<const double*>(v->data)); break;
    case MAT_C_SINGLE: f(static_cast<const float*>(v->data)); break;
    case MAT_C_INT8: f(static_cast<const std::int8_t*>(v->data)); break;
    case MAT_C_UINT8: f(static_cast<const std::uint8_t*>(v->data)); break;
    case MAT_C_INT16: f(static_cast<const std::int16_t*>(v->data)); break;
    case MAT_C_UINT16: f(static_cast<const std::uint16_t*>(v->data)); break;
    case MAT_C_INT32: f(static_cast<const std::int32_t*>(v->data)); break;
    case MAT_C_UINT32: f(static_cast<const std::uint32_t*>(v->data)); break;
    case MAT_C_INT64: f(static_cast<const std::int64_t*>(v->data)); break;
    case MAT_C_UINT64: f(static_cast<const std::uint64_t*>(v->data)); break;
    default:
      throw InputError(fmt::format("{}: '{}' is not a numeric array (MATLAB class {}): expected {}", file.string(), what,
                                   int(v->class_type), kExpected));
  }
}

std::vector<double> mat_vector(const matvar_t* v, const fs::path& file, const std::string& what) {
  std::vector<double> out(count_of(v));
  with_numeric(v, file, what, [&](const auto* p) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(p[i]);
  });
  return out;
}

// scipy's savemat of train_save's list (steps) of lists (parameters) of arrays: a steps x P cell array, into r.
void read_weight_cells(matvar_t* w, const fs::path& file, FileRows& r) {
  if (w->rank != 2 || w->dims[0] == 0 || w->dims[1] == 0) {
    throw InputError(fmt::format("{}: 'sub_weights' is a cell array of {} dimensions ({}): expected steps x "
                                 "parameter tensors", file.string(), w->rank, fmt::join(dims_of(w), "x")));
  }
  const std::size_t steps = w->dims[0], tensors = w->dims[1];
  std::vector<std::size_t> sizes(tensors, 0);
  bool any64 = false;
  for (std::size_t j = 0; j < tensors; ++j) {
    for (std::size_t i = 0; i < steps; ++i) {
      const matvar_t* c = Mat_VarGetCell(w, int(i + j * steps));
      if (!c) {
        throw InputError(fmt::format("{}: 'sub_weights' cell ({}, {}) is missing (truncated or damaged file)",
                                     file.string(), i + 1, j + 1));
      }
      const std::size_t n = count_of(c);
      if (i == 0) sizes[j] = n;
      if (n != sizes[j]) {
        throw InputError(fmt::format("{}: 'sub_weights' cell ({}, {}) holds {} values, step 1 holds {}: expected "
                                     "the same parameter tensor at every step", file.string(), i + 1, j + 1, n, sizes[j]));
      }
      any64 = any64 || c->class_type == MAT_C_DOUBLE;
    }
  }
  r.steps = steps;
  for (auto s : sizes) r.dimension += s;
  r.float64 = any64;
  if (r.float64) r.d.resize(steps * r.dimension); else r.f.resize(steps * r.dimension);
  std::size_t offset = 0;
  for (std::size_t j = 0; j < tensors; ++j) {
    for (std::size_t i = 0; i < steps; ++i) {
      const matvar_t* c = Mat_VarGetCell(w, int(i + j * steps));
      with_numeric(c, file, "sub_weights", [&](const auto* p) {
        if (r.float64) fortran_to_c(p, dims_of(c), r.d.data() + i * r.dimension + offset);
        else fortran_to_c(p, dims_of(c), r.f.data() + i * r.dimension + offset);
      });
    }
    offset += sizes[j];
  }
}

// The norm of each row of 'grads' (steps x D): one gradient per step.
std::vector<double> gradient_norms(const matvar_t* g, const fs::path& file, std::size_t steps) {
  if (g->rank != 2 || g->dims[0] != steps) {
    throw InputError(fmt::format("{}: 'grads' has shape {}: expected {} rows (one gradient per step)", file.string(),
                                 fmt::join(dims_of(g), "x"), steps));
  }
  const std::size_t cols = g->dims[1];
  std::vector<double> norm(steps, 0.0);
  with_numeric(g, file, "grads", [&](const auto* p) {
    for (std::size_t c = 0; c < cols; ++c) {
      for (std::size_t t = 0; t < steps; ++t) {
        const double v = static_cast<double>(p[t + c * steps]);
        norm[t] += v * v;
      }
    }
  });
  for (auto& v : norm) v = std::sqrt(v);
  return norm;
}

// The MATLAB post-analysis's input: [weights, t, loss], one row per step, into r.
void read_msd_feed(const matvar_t* m, const fs::path& file, FileRows& r) {
  if (m->rank != 2 || m->dims[0] == 0 || m->dims[1] < 3) {
    throw InputError(fmt::format("{}: 'MSD_feed' has shape {}: expected steps x (D + 2) (weights, step, loss)",
                                 file.string(), fmt::join(dims_of(m), "x")));
  }
  r.steps = m->dims[0];
  r.dimension = m->dims[1] - 2;
  r.float64 = m->class_type != MAT_C_SINGLE;
  std::vector<double> all(count_of(m));
  with_numeric(m, file, "MSD_feed", [&](const auto* p) { fortran_to_c(p, dims_of(m), all.data()); });
  const std::size_t cols = r.dimension + 2;
  r.step.resize(r.steps);
  r.loss.resize(r.steps);
  if (r.float64) r.d.resize(r.steps * r.dimension); else r.f.resize(r.steps * r.dimension);
  for (std::size_t t = 0; t < r.steps; ++t) {
    for (std::size_t k = 0; k < r.dimension; ++k) {
      if (r.float64) r.d[t * r.dimension + k] = all[t * cols + k]; else r.f[t * r.dimension + k] = float(all[t * cols + k]);
    }
    r.step[t] = all[t * cols + r.dimension];
    r.loss[t] = all[t * cols + r.dimension + 1];
  }
}

// The bytes a variable's header claims (its dims times the element size, summed over a cell array's cells), or
// `limit` + 1 as soon as the sum passes `limit`: a crafted header claims gigabytes in a few bytes, and libmatio
// allocates what it claims before it reads (a 3.6 GB malloc from a 10 kB file under fuzz_study_mat).
double claimed_bytes(matvar_t* v, double limit) {
  if (!v) return 0;
  double elements = 1;
  for (int r = 0; r < v->rank && v->dims; ++r) elements *= double(v->dims[r]);
  if (v->class_type == MAT_C_CELL) {
    double sum = 8 * elements;  // a header of at least 8 bytes per cell
    if (sum > limit || !v->data) return sum > limit ? limit + 1 : sum;
    for (std::size_t i = 0; i < std::size_t(elements); ++i) {
      sum += claimed_bytes(Mat_VarGetCell(v, int(i)), limit);
      if (sum > limit) return limit + 1;
    }
    return sum;
  }
  const double size = double(Mat_SizeOfClass(v->class_type)) * (v->isComplex ? 2 : 1);
  return elements * std::max(size, 1.0);
}

FileRows read_mat(const fs::path& file) {
  Mat_LogInitFunc("anodiff", matio_log);
  if (!fs::exists(file)) throw InputError(fmt::format("{}: no such file (expected {})", file.string(), kExpected));
  matio_message().clear();
  Mat mat{Mat_Open(file.c_str(), MAT_ACC_RDONLY)};
  if (!mat.m) {
    throw InputError(fmt::format("{}: not a MATLAB .mat file that libmatio can read (v5, v7 or v7.3){}", file.string(),
                                 matio_message().empty() ? "" : ": " + matio_message()));
  }
  std::vector<std::string> variables;
  {
    std::size_t n = 0;
    char** dir = Mat_GetDir(mat.m, &n);
    for (std::size_t i = 0; dir && i < n; ++i) {
      if (dir[i]) variables.emplace_back(dir[i]);
    }
  }
  auto has = [&](const std::string& name) { return std::find(variables.begin(), variables.end(), name) != variables.end(); };
  // Data stored uncompressed lies in the file; zlib (v7, and HDF5's deflate in v7.3) expands it at most 1032 times.
  std::error_code ec;
  const double file_bytes = double(fs::file_size(file, ec));
  auto read = [&](const std::string& name) {
    matio_message().clear();
    {
      Var info{Mat_VarReadInfo(mat.m, name.c_str())};
      const bool packed = Mat_GetVersion(mat.m) == MAT_FT_MAT73 || (info.v && info.v->compression != MAT_COMPRESSION_NONE);
      const double limit = (packed ? 1032.0 : 1.0) * file_bytes + 4096;
      if (info.v && claimed_bytes(info.v, limit) > limit) {
        throw InputError(fmt::format("{}: variable '{}' (shape {}) claims more data than a {}-byte file can hold "
                                     "(a damaged or crafted header)", file.string(), name,
                                     fmt::join(dims_of(info.v), "x"), std::uint64_t(file_bytes)));
      }
    }
    Var v{Mat_VarRead(mat.m, name.c_str())};
    if (!v.v) {
      throw InputError(fmt::format("{}: cannot read variable '{}' (truncated or damaged file){}", file.string(), name,
                                   matio_message().empty() ? "" : ": " + matio_message()));
    }
    return v;
  };
  FileRows r;
  if (has("sub_weights")) {
    Var w = read("sub_weights");
    if (w.v->class_type == MAT_C_CELL) {
      read_weight_cells(w.v, file, r);
    } else {
      // A numeric array whose first axis is the step: (steps, D) or (steps, tensor shape) for a one-tensor model.
      if (w.v->rank < 2 || w.v->dims[0] == 0) {
        throw InputError(fmt::format("{}: 'sub_weights' has shape {}: expected a cell array (steps x parameter "
                                     "tensors) or an array whose first axis is the step", file.string(),
                                     fmt::join(dims_of(w.v), "x")));
      }
      r.steps = w.v->dims[0];
      r.dimension = count_of(w.v) / r.steps;
      r.float64 = w.v->class_type != MAT_C_SINGLE;
      if (r.float64) r.d.resize(count_of(w.v)); else r.f.resize(count_of(w.v));
      with_numeric(w.v, file, "sub_weights", [&](const auto* p) {
        if (r.float64) fortran_to_c(p, dims_of(w.v), r.d.data()); else fortran_to_c(p, dims_of(w.v), r.f.data());
      });
    }
    if (has("sub_loss")) r.loss = mat_vector(read("sub_loss").v, file, "sub_loss");
    if (has("grads")) r.grad_norm = gradient_norms(read("grads").v, file, r.steps);
    if (has("gradient_noise_norm")) r.noise_norm = mat_vector(read("gradient_noise_norm").v, file, "gradient_noise_norm");
  } else if (has("MSD_feed")) {
    read_msd_feed(read("MSD_feed").v, file, r);
  } else {
    throw InputError(fmt::format("{}: no variable 'sub_weights' or 'MSD_feed' (expected {}); the file has: {}",
                                 file.string(), kExpected, join_names(variables)));
  }
  return r;
}
#endif

// ------------------------------------------------------------------------------------------------ .h5 (HDF5)
#ifdef ANODIFF_HAVE_HDF5
FileRows read_h5(const fs::path& file) {
  namespace h5 = detail::h5;
  const h5::Id f = h5::open_read(file, kExpected);
  if (!h5::exists(f.get(), "sub_weights")) {
    throw InputError(fmt::format("{}: no dataset 'sub_weights' (expected {}); the file has: {}", file.string(),
                                 kExpected, join_names(h5::names(f.get()))));
  }
  FileRows r;
  auto [w, info] = h5::open_dataset(f.get(), "sub_weights", file, kExpected);
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
#endif

FileRows read_file(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".mat") {
#ifdef ANODIFF_HAVE_MATIO
    return read_mat(file);
#else
    throw InputError(fmt::format("{}: this anodiff was built without libmatio and cannot read .mat files (install "
                                 "libmatio-dev and configure again)", file.string()));
#endif
  }
#ifdef ANODIFF_HAVE_HDF5
  return read_h5(file);
#else
  throw InputError(fmt::format("{}: this anodiff was built without HDF5 and cannot read .h5 files (install libhdf5-dev "
                               "and configure again)", file.string()));
#endif
}

// The epoch in a name model_E_sub_loss_w.*; none for another name.
std::optional<long long> epoch_of(const fs::path& file) {
  static const std::regex pattern(R"(model_(\d+)_sub_loss_w\.(mat|h5))");
  std::smatch m;
  const std::string name = file.filename().string();
  if (std::regex_match(name, m, pattern)) return std::stoll(m[1].str());
  return std::nullopt;
}

}  // namespace

bool have_matio() {
#ifdef ANODIFF_HAVE_MATIO
  return true;
#else
  return false;
#endif
}

bool have_hdf5() {
#ifdef ANODIFF_HAVE_HDF5
  return true;
#else
  return false;
#endif
}

bool is_study_file(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".mat" || ext == ".h5" || ext == ".hdf5";
}

std::vector<fs::path> study_trajectory_files(const fs::path& dir) {
  std::map<long long, fs::path> by_epoch;
  if (!fs::is_directory(dir)) return {};
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const auto epoch = epoch_of(e.path());
    if (!epoch) continue;
    auto [it, fresh] = by_epoch.emplace(*epoch, e.path());
    if (!fresh) {
      throw InputError(fmt::format("{}: epoch {} is held twice ({} and {}): keep one of them", dir.string(), *epoch,
                                   it->second.filename().string(), e.path().filename().string()));
    }
  }
  std::vector<fs::path> files;
  long long previous = -1;
  for (const auto& [epoch, path] : by_epoch) {
    if (previous >= 0 && epoch != previous + 1) {
      throw InputError(fmt::format("{}: no such file: the epochs {} to {} are there, epoch {} is missing (a trajectory "
                                   "must be contiguous; give the files of one contiguous stretch instead)",
                                   (dir / fmt::format("model_{}_sub_loss_w{}", previous + 1, path.extension().string())).string(),
                                   by_epoch.begin()->first, by_epoch.rbegin()->first, previous + 1));
    }
    files.push_back(path);
    previous = epoch;
  }
  return files;
}

WeightTrajectory load_study_trajectory(const std::vector<fs::path>& files) {
  if (files.empty()) throw std::invalid_argument("load_study_trajectory: no files");
  std::vector<float> f;
  std::vector<double> d;
  bool float64 = false, any_grad = false, any_noise = false;
  std::size_t dimension = 0, steps_per_file = 0, total = 0;
  long long first_epoch = 1;
  StepTable table;
  table.names = {"step", "epoch", "loss"};
  table.columns.assign(3, {});
  std::vector<double> grad_norm, noise_norm;
  for (std::size_t k = 0; k < files.size(); ++k) {
    const fs::path& file = files[k];
    FileRows r = read_file(file);
    const auto number = epoch_of(file);  // the epoch its name gives, if any
    if (r.dimension == 0) throw InputError(fmt::format("{}: snapshots of 0 parameters", file.string()));
    if (k == 0) {
      dimension = r.dimension;
      float64 = r.float64;
      steps_per_file = r.steps;
      first_epoch = std::max(number.value_or(1), 1LL);
    } else if (r.dimension != dimension) {
      throw InputError(fmt::format("{}: {} parameters per step, {} has {}: expected the same network in every file",
                                   file.string(), r.dimension, files.front().string(), dimension));
    }
    if (!r.loss.empty() && r.loss.size() != r.steps) {
      throw InputError(fmt::format("{}: {} losses for {} steps of weights: expected one loss per step", file.string(),
                                   r.loss.size(), r.steps));
    }
    if (!r.noise_norm.empty() && r.noise_norm.size() != r.steps) {
      throw InputError(fmt::format("{}: {} gradient noise norms for {} steps: expected one per step", file.string(),
                                   r.noise_norm.size(), r.steps));
    }
    // Append the weights in the trajectory's type.
    if (float64) {
      if (r.float64) d.insert(d.end(), r.d.begin(), r.d.end()); else d.insert(d.end(), r.f.begin(), r.f.end());
    } else {
      if (r.float64) {
        for (double v : r.d) f.push_back(static_cast<float>(v));
      } else {
        f.insert(f.end(), r.f.begin(), r.f.end());
      }
    }
    const long long file_epoch = number.value_or(0) > 0 ? *number : first_epoch + static_cast<long long>(k);
    for (std::size_t t = 0; t < r.steps; ++t) {
      const double step = r.step.empty()
                              ? double((first_epoch - 1) * static_cast<long long>(steps_per_file)) + double(total + t + 1)
                              : r.step[t];
      table.columns[0].push_back(step);
      table.columns[1].push_back(r.step.empty() ? double(file_epoch) : kNaN);
      table.columns[2].push_back(r.loss.empty() ? kNaN : r.loss[t]);
    }
    any_grad = any_grad || !r.grad_norm.empty();
    any_noise = any_noise || !r.noise_norm.empty();
    grad_norm.resize(total, kNaN);
    noise_norm.resize(total, kNaN);
    if (r.grad_norm.empty()) grad_norm.resize(total + r.steps, kNaN); else grad_norm.insert(grad_norm.end(), r.grad_norm.begin(), r.grad_norm.end());
    if (r.noise_norm.empty()) noise_norm.resize(total + r.steps, kNaN); else noise_norm.insert(noise_norm.end(), r.noise_norm.begin(), r.noise_norm.end());
    total += r.steps;
  }
  if (any_grad) {
    table.names.push_back("grad_norm");
    table.columns.push_back(std::move(grad_norm));
  }
  if (any_noise) {
    table.names.push_back("noise_norm");
    table.columns.push_back(std::move(noise_norm));
  }
  return float64 ? WeightTrajectory::from_rows(std::move(d), dimension, std::move(table))
                 : WeightTrajectory::from_rows(std::move(f), dimension, std::move(table));
}

}  // namespace anodiff
