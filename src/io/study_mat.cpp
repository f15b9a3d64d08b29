// The study's .mat trajectory files (MATLAB v5, v7, v7.3) through libmatio.
#ifdef ANODIFF_HAVE_MATIO
#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <utility>

#include <fmt/format.h>
#include <matio.h>

#include "anodiff/base/error.hpp"
#include "study_file_rows.hpp"

namespace anodiff::detail {
namespace fs = std::filesystem;

namespace {

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
    throw InputError(fmt::format("{}: '{}' is complex or empty: expected real numbers ({})", file.string(), what, kStudyExpected));
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
                                   int(v->class_type), kStudyExpected));
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

}  // namespace

FileRows read_mat(const fs::path& file) {
  Mat_LogInitFunc("anodiff", matio_log);
  if (!fs::exists(file)) throw InputError(fmt::format("{}: no such file (expected {})", file.string(), kStudyExpected));
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
                                 file.string(), kStudyExpected, join_names(variables)));
  }
  return r;
}

}  // namespace anodiff::detail
#endif
