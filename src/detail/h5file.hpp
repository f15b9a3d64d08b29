#pragma once
// Private: a few RAII helpers over HDF5's C API for the readers and writers of src/io/study_trajectory.cpp and
// src/io/loss_landscape_h5.cpp (the only sources compiled with HDF5's headers, when ANODIFF_HAVE_HDF5 is defined).
#ifdef ANODIFF_HAVE_HDF5
#include <hdf5.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "anodiff/base/error.hpp"

namespace anodiff::detail::h5 {

/// An HDF5 identifier closed by `close` on destruction.
class Id {
 public:
  Id() = default;
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Id(Id&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Id& operator=(Id&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() {
    if (id_ >= 0 && close_) close_(id_);
  }
  [[nodiscard]] hid_t get() const { return id_; }
  [[nodiscard]] bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

/// Turns off HDF5's printing of its error stack: failures become one InputError or IoError instead.
inline void quiet() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

/// Opens an existing HDF5 file for reading; InputError naming it if it is not one.
inline Id open_read(const std::filesystem::path& path, const std::string& expected) {
  quiet();
  if (!std::filesystem::exists(path)) throw InputError(fmt::format("{}: no such file (expected {})", path.string(), expected));
  Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.valid()) {
    throw InputError(fmt::format("{}: not a readable HDF5 file (truncated, or another format): expected {}",
                                 path.string(), expected));
  }
  return f;
}

/// Creates (truncates) an HDF5 file for writing; IoError naming it on failure.
inline Id create(const std::filesystem::path& path) {
  quiet();
  Id f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!f.valid()) throw IoError(fmt::format("{}: cannot create the HDF5 file", path.string()));
  return f;
}

/// Whether `loc` has a link called `name` (one level, no slashes).
inline bool exists(hid_t loc, const std::string& name) { return H5Lexists(loc, name.c_str(), H5P_DEFAULT) > 0; }

/// The names of the links in `loc`, in name order.
inline std::vector<std::string> names(hid_t loc) {
  std::vector<std::string> out;
  H5Literate(loc, H5_INDEX_NAME, H5_ITER_INC, nullptr,
             [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
               static_cast<std::vector<std::string>*>(data)->push_back(name);
               return 0;
             },
             &out);
  return out;
}

/// A numeric dataset: its shape (C order, as h5py and numpy see it) and whether it is stored as float32.
struct Info {
  std::vector<std::size_t> shape;
  bool float32 = false;
  [[nodiscard]] std::size_t elements() const {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

/// Opens the dataset `name` of `loc`; InputError naming the file when it is missing or not numeric.
inline std::pair<Id, Info> open_dataset(hid_t loc, const std::string& name, const std::filesystem::path& file,
                                        const std::string& expected) {
  if (!exists(loc, name)) {
    throw InputError(fmt::format("{}: no dataset '{}' (expected {})", file.string(), name, expected));
  }
  Id d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.valid()) throw InputError(fmt::format("{}: '{}' is not a readable dataset (expected {})", file.string(), name, expected));
  Id type(H5Dget_type(d.get()), H5Tclose);
  const H5T_class_t c = H5Tget_class(type.get());
  if (c != H5T_FLOAT && c != H5T_INTEGER) {
    throw InputError(fmt::format("{}: dataset '{}' is not numeric (expected {})", file.string(), name, expected));
  }
  // A damaged datatype message has no size (H5Tget_size fails with 0): the size check below would then pass any
  // shape, and a crafted (2^62) asked std::vector for more than it can hold (fuzz_landscape_h5).
  const std::size_t type_size = H5Tget_size(type.get());
  if (type_size == 0) {
    throw InputError(fmt::format("{}: dataset '{}' has a numeric type of no size (a damaged file; expected {})",
                                 file.string(), name, expected));
  }
  Info info;
  info.float32 = c == H5T_FLOAT && type_size == 4;
  Id space(H5Dget_space(d.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw InputError(fmt::format("{}: dataset '{}' has no simple shape", file.string(), name));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  info.shape.assign(dims.begin(), dims.end());
  // The shape against what the file stores: a few bytes may declare a dataset of any size (storage never written
  // reads as the fill value), with which a crafted file made the readers allocate and fill gigabytes (fuzz_landscape_h5:
  // a 40 s read of a 1 GB xcoordinates). Deflate expands at most 1,032-fold; 1 MB is allowed regardless. The storage
  // size of a contiguous dataset is what its layout message says, which a crafted file sets to anything (2^64 - 2^40
  // bytes beside a shape of 10^13 values): no dataset stores more than the file holds.
  long double claimed = static_cast<long double>(type_size);
  for (auto n : dims) claimed *= static_cast<long double>(n);
  std::error_code size_error;
  const auto file_bytes = std::filesystem::file_size(file, size_error);
  auto stored = static_cast<long double>(H5Dget_storage_size(d.get()));
  if (!size_error) stored = std::min(stored, static_cast<long double>(file_bytes));
  if (claimed > std::max(1032.0L * stored, static_cast<long double>(1 << 20))) {
    throw InputError(fmt::format("{}: dataset '{}' of shape ({}) claims {:.0Lf} bytes but the file stores {:.0Lf} for it "
                                 "(a damaged or crafted file; expected {})", file.string(), name,
                                 fmt::join(info.shape, ", "), claimed, stored, expected));
  }
  return {std::move(d), info};
}

/// Reads the whole dataset converted to T (float or double); InputError naming the file when the read fails (a
/// truncated file).
template <typename T>
void read(hid_t dataset, T* out, const std::filesystem::path& file, const std::string& name) {
  const hid_t type = sizeof(T) == 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  if (H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
    throw InputError(fmt::format("{}: cannot read dataset '{}' (truncated or damaged file)", file.string(), name));
  }
}

/// Reads the dataset `name` of `loc` as float64 values with its shape.
inline std::vector<double> read_doubles(hid_t loc, const std::string& name, const std::filesystem::path& file,
                                        const std::string& expected, Info* info_out = nullptr) {
  auto [d, info] = open_dataset(loc, name, file, expected);
  std::vector<double> v(info.elements());
  if (!v.empty()) read(d.get(), v.data(), file, name);
  if (info_out) *info_out = info;
  return v;
}

/// Writes a dataset `name` of `shape` (C order) under `loc`, float64 or float32 after T.
template <typename T>
void write(hid_t loc, const std::string& name, const T* data, const std::vector<std::size_t>& shape,
           const std::filesystem::path& file) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Id space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  const hid_t type = sizeof(T) == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
  const hid_t mem = sizeof(T) == 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
  Id d(H5Dcreate2(loc, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!d.valid() || H5Dwrite(d.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    throw IoError(fmt::format("{}: cannot write dataset '{}'", file.string(), name));
  }
}

/// Writes a scalar variable-length UTF-8 string dataset (as h5py writes f[name] = "text").
inline void write_string(hid_t loc, const std::string& name, const std::string& text, const std::filesystem::path& file) {
  Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  Id d(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  const char* p = text.c_str();
  if (!d.valid() || H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) < 0) {
    throw IoError(fmt::format("{}: cannot write dataset '{}'", file.string(), name));
  }
}

}  // namespace anodiff::detail::h5
#endif
