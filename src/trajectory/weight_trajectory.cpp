#include "anodiff/trajectory/weight_trajectory.hpp"

#include "anodiff/io/csv.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/io/study_trajectory.hpp"
#include "detail/npy.hpp"
#include "detail/printable.hpp"

namespace anodiff {
namespace fs = std::filesystem;
using detail::NpyType;

namespace {

[[maybe_unused]] constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Chunk {
  std::size_t first = 0;  // first snapshot held
  std::size_t rows = 0;
  NpyType type = NpyType::float32;
  const std::byte* data = nullptr;
  fs::path file;
};

// Converts n values to float64; returns the index of the first non-finite value, or n. `src` need not be aligned
// (an .npy whose header is not padded to a multiple of the item size): each value is copied out (a plain load).
template <typename T>
std::size_t convert(const std::byte* src, std::size_t n, double* out) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits kExp = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
  Bits bad = 0;
  for (std::size_t j = 0; j < n; ++j) {
    Bits b;
    std::memcpy(&b, src + j * sizeof(T), sizeof(T));
    bad |= static_cast<Bits>((b & kExp) == kExp);
    T v;
    std::memcpy(&v, &b, sizeof(T));
    out[j] = static_cast<double>(v);
  }
  if (bad == 0) return n;
  for (std::size_t j = 0; j < n; ++j) {
    if (!std::isfinite(out[j])) return j;
  }
  return n;
}

// Exactly chunk_NNNNNN.npy (six or more digits): temporary files (chunk_000000.npy.1234.tmp, or Python's
// chunk_000000.npy.tmp.npy) are never taken for chunks.
bool is_chunk_name(const std::string& name) {
  if (name.size() < 16 || name.rfind("chunk_", 0) != 0 || name.compare(name.size() - 4, 4, ".npy") != 0) return false;
  for (std::size_t i = 6; i + 4 < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  return true;
}

}  // namespace

std::vector<fs::path> WeightTrajectory::chunk_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && is_chunk_name(e.path().filename().string())) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

namespace {

// Exactly shard_NNN (three digits).
bool is_shard_name(const std::string& name) {
  return name.size() == 9 && name.rfind("shard_", 0) == 0 && std::isdigit(static_cast<unsigned char>(name[6])) &&
         std::isdigit(static_cast<unsigned char>(name[7])) && std::isdigit(static_cast<unsigned char>(name[8]));
}

// What the chunk headers of one shard say: its dimension, snapshots, and the rows of its last chunk.
struct ShardExtent {
  fs::path directory;
  std::size_t dimension = 0;
  std::size_t snapshots = 0;
  std::size_t last_chunk_rows = 0;
};

ShardExtent shard_extent(const fs::path& dir) {
  ShardExtent e;
  e.directory = dir;
  const auto files = WeightTrajectory::chunk_files(dir);
  if (files.empty()) {
    throw InputError(fmt::format("{}: expected chunk_NNNNNN.npy files in this trajectory shard, found none",
                                 dir.string()));
  }
  for (const auto& f : files) {
    const auto a = detail::npy_open_rows(f);
    e.dimension = a.shape[1];
    e.snapshots += a.shape[0];
    e.last_chunk_rows = a.shape[0];
  }
  return e;
}

// The snapshot count common to the shards: a shard may be ahead of the smallest count by its whole last chunk (a
// run killed between the shards' writes), by nothing else.
std::size_t common_snapshots(const std::vector<ShardExtent>& extents) {
  std::size_t common = extents.front().snapshots;
  std::size_t smallest = 0;
  for (std::size_t k = 0; k < extents.size(); ++k) {
    if (extents[k].snapshots < common) common = extents[k].snapshots, smallest = k;
  }
  for (const auto& e : extents) {
    if (e.snapshots != common && e.snapshots - e.last_chunk_rows != common) {
      throw InputError(fmt::format("{}: expected {} snapshots (as {}), or that many plus one last chunk, found {}",
                                   e.directory.string(), common, extents[smallest].directory.string(), e.snapshots));
    }
  }
  return common;
}

}  // namespace

struct WeightTrajectory::Impl {
  fs::path source;
  std::size_t dimension = 0;
  std::size_t size = 0;
  std::vector<Chunk> chunks;
  std::vector<std::shared_ptr<const void>> owners;  // mappings or in-memory buffers
  // A sharded directory: the shards' data (chunks empty), shard k holding columns [shard_first[k], + its dimension).
  std::vector<std::shared_ptr<const Impl>> shards;
  std::vector<std::size_t> shard_first;
  std::size_t column_base = 0;  // the first column's index in the whole (a shard opened alone by load_shard)

  // Rows [row, row + count) x columns [col, col + cols) into `out`, a row every `stride` values.
  void read_block(std::size_t row, std::size_t count, std::size_t col, std::size_t cols, double* out,
                  std::size_t stride) const;

  // A mapped (rows, D) .npy as the next chunk.
  void add_npy(const fs::path& file, const detail::NpyArray& a) {
    Chunk c;
    c.rows = a.shape[0];
    c.type = a.type;
    c.data = a.data;
    c.file = file;
    add(c, a.mapping);
  }

  void add(Chunk c, std::shared_ptr<const void> owner) {
    c.first = size;
    size += c.rows;
    chunks.push_back(std::move(c));
    owners.push_back(std::move(owner));
  }
};

// ------------------------------------------------------------------------------------------------ WeightTrajectory
WeightTrajectory::WeightTrajectory() : impl_(std::make_shared<Impl>()) {}

WeightTrajectory WeightTrajectory::load(const fs::path& path) {
  if (!fs::exists(path)) throw InputError(fmt::format("{}: no such file or directory", path.string()));
  // The study's own files (study_trajectory.hpp): a .mat or .h5 file, or a directory of per-epoch ones.
  auto study = [&path](const std::vector<fs::path>& files) {
    WeightTrajectory s = load_study_trajectory(files);
    auto with_source = std::make_shared<Impl>(*s.impl_);
    with_source->source = path;
    s.impl_ = std::move(with_source);
    return s;
  };
  if (!fs::is_directory(path)) {
    if (is_study_file(path)) return study({path});
    auto impl = std::make_shared<Impl>();
    impl->source = path;
    auto a = detail::npy_open_rows(path);
    impl->dimension = a.shape[1];
    impl->add_npy(path, a);
    if (impl->dimension == 0) throw InputError(fmt::format("{}: snapshots have 0 parameters", path.string()));
    // Without a snapshot the dimension is not bounded by the file's size (a (0, 2^60) array holds no bytes).
    if (impl->size == 0) throw InputError(fmt::format("{}: expected at least one snapshot, found 0", path.string()));
    WeightTrajectory t;
    t.count_ = impl->size;
    t.impl_ = std::move(impl);
    return t;
  }
  const auto shard_dirs = shard_directories(path);
  if (shard_dirs.empty()) {
    if (WeightTrajectory::chunk_files(path).empty()) {
      if (auto per_epoch = study_trajectory_files(path); !per_epoch.empty()) return study(per_epoch);
    }
    return load_chunk_directory(path);
  }
  // A sharded directory: every shard mapped as a trajectory directory, read side by side.
  std::vector<ShardExtent> extents;
  for (const auto& d : shard_dirs) extents.push_back(shard_extent(d));
  const std::size_t common = common_snapshots(extents);
  auto impl = std::make_shared<Impl>();
  impl->source = path;
  impl->size = common;
  WeightTrajectory t;
  for (std::size_t k = 0; k < shard_dirs.size(); ++k) {
    WeightTrajectory shard = load_chunk_directory(shard_dirs[k]);
    if (shard.size() != extents[k].snapshots) {
      throw InputError(fmt::format("{}: the chunks changed while they were read ({} then {} snapshots)",
                                   shard_dirs[k].string(), extents[k].snapshots, shard.size()));
    }
    shard = shard.slice(0, common);
    if (k == 0) {
      t.steps_ = shard.steps_;
    } else {
      const auto* mine = shard.steps_.column("step");
      const auto* first = t.steps_.column("step");
      if ((mine == nullptr) != (first == nullptr)) {
        throw InputError(fmt::format("{}: expected {} step column (as {}), found {}",
                                     (shard_dirs[k] / "steps.csv").string(), first ? "a" : "no",
                                     shard_dirs[0].string(), mine ? "one" : "none"));
      }
      for (std::size_t r = 0; mine && r < common; ++r) {
        const double a = (*first)[r], b = (*mine)[r];
        if (!(a == b || (std::isnan(a) && std::isnan(b)))) {
          throw InputError(fmt::format("{}: expected step {} in row {} (as {}), found {}",
                                       (shard_dirs[k] / "steps.csv").string(), a, r + 1,
                                       (shard_dirs[0] / "steps.csv").string(), b));
        }
      }
    }
    impl->shard_first.push_back(impl->dimension);
    impl->dimension += shard.impl_->dimension;
    impl->shards.push_back(shard.impl_);
  }
  t.count_ = common;
  t.impl_ = std::move(impl);
  if (const auto* loss = t.steps_.column("loss")) t.loss_ = *loss;
  return t;
}

WeightTrajectory WeightTrajectory::load_chunk_directory(const fs::path& path) {
  auto impl = std::make_shared<Impl>();
  impl->source = path;
  WeightTrajectory t;
  const auto files = WeightTrajectory::chunk_files(path);
  if (files.empty()) {
    throw InputError(fmt::format("{}: expected chunk_NNNNNN.npy files in this trajectory directory (or the study's "
                                 "model_E_sub_loss_w.mat / .h5 files, or shard_NNN subdirectories), found none",
                                 path.string()));
  }
  for (const auto& file : files) {
    auto a = detail::npy_open_rows(file);
    if (impl->chunks.empty()) {
      impl->dimension = a.shape[1];
    } else if (a.shape[1] != impl->dimension) {
      throw InputError(fmt::format("{}: expected {} parameters per snapshot (as in the first chunk), found {}",
                                   file.string(), impl->dimension, a.shape[1]));
    }
    impl->add_npy(file, a);
  }
  const fs::path csv = path / "steps.csv";
  if (fs::exists(csv)) {
    StepTable table = StepTable::read_csv(csv);
    if (table.rows() < impl->size) {
      throw InputError(fmt::format("{}: expected at least {} rows (one per snapshot), found {}", csv.string(),
                                   impl->size, table.rows()));
    }
    for (auto& col : table.columns) col.resize(impl->size);  // rows past the last complete chunk are dropped
    t.steps_ = std::move(table);
  }
  if (impl->dimension == 0) throw InputError(fmt::format("{}: snapshots have 0 parameters", path.string()));
  if (impl->size == 0) throw InputError(fmt::format("{}: expected at least one snapshot, found 0", path.string()));
  t.count_ = impl->size;
  t.impl_ = std::move(impl);
  if (const auto* loss = t.steps_.column("loss")) t.loss_ = *loss;
  return t;
}

std::vector<fs::path> WeightTrajectory::shard_directories(const fs::path& directory) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) return dirs;
  for (const auto& e : fs::directory_iterator(directory)) {
    if (e.is_directory() && is_shard_name(e.path().filename().string())) dirs.push_back(e.path());
  }
  if (dirs.empty()) return dirs;
  std::sort(dirs.begin(), dirs.end());
  for (std::size_t k = 0; k < dirs.size(); ++k) {
    const std::string expected = fmt::format("shard_{:03d}", k);
    if (dirs[k].filename().string() != expected) {
      throw InputError(fmt::format("{}: expected the shards shard_000 to shard_{:03d} without a gap, found no {}",
                                   directory.string(), dirs.size() - 1, expected));
    }
  }
  if (!WeightTrajectory::chunk_files(directory).empty()) {
    throw InputError(fmt::format("{}: expected either chunk_NNNNNN.npy files or shard_NNN subdirectories, found both",
                                 directory.string()));
  }
  return dirs;
}

WeightTrajectory WeightTrajectory::load_shard(const fs::path& directory, std::size_t index) {
  if (!fs::exists(directory)) throw InputError(fmt::format("{}: no such file or directory", directory.string()));
  const auto shard_dirs = shard_directories(directory);
  if (index >= shard_dirs.size()) {
    throw InputError(fmt::format("{}: expected a sharded trajectory directory with a shard_{:03d}, found {} shards",
                                 directory.string(), index, shard_dirs.size()));
  }
  std::vector<ShardExtent> extents;
  std::size_t first_column = 0;
  for (std::size_t k = 0; k < shard_dirs.size(); ++k) {
    extents.push_back(shard_extent(shard_dirs[k]));
    if (k < index) first_column += extents.back().dimension;
  }
  const std::size_t common = common_snapshots(extents);
  WeightTrajectory shard = load_chunk_directory(shard_dirs[index]);
  if (shard.size() < common) {
    throw InputError(fmt::format("{}: the chunks changed while they were read ({} then {} snapshots)",
                                 shard_dirs[index].string(), extents[index].snapshots, shard.size()));
  }
  shard = shard.slice(0, common);
  auto impl = std::make_shared<Impl>(*shard.impl_);
  impl->column_base = first_column;
  shard.impl_ = std::move(impl);
  return shard;
}

WeightTrajectory WeightTrajectory::from_buffer(std::shared_ptr<const void> owner, const void* data, bool float64,
                                               std::size_t values, std::size_t dimension, StepTable steps) {
  if (dimension == 0 || values % dimension != 0) {
    throw std::invalid_argument(
        fmt::format("WeightTrajectory: {} values do not form rows of {}", values, dimension));
  }
  auto impl = std::make_shared<Impl>();
  impl->dimension = dimension;
  Chunk c;
  c.rows = values / dimension;
  c.type = float64 ? NpyType::float64 : NpyType::float32;
  c.data = static_cast<const std::byte*>(data);
  impl->add(c, std::move(owner));
  WeightTrajectory t;
  t.count_ = impl->size;
  t.impl_ = std::move(impl);
  if (steps.rows() != 0 && steps.rows() != t.count_) {
    throw std::invalid_argument(
        fmt::format("WeightTrajectory: {} step rows for {} snapshots", steps.rows(), t.count_));
  }
  t.steps_ = std::move(steps);
  if (const auto* loss = t.steps_.column("loss")) t.loss_ = *loss;
  return t;
}

WeightTrajectory WeightTrajectory::from_rows(std::vector<float> rows, std::size_t dimension, StepTable steps) {
  auto buffer = std::make_shared<const std::vector<float>>(std::move(rows));
  return from_buffer(buffer, buffer->data(), false, buffer->size(), dimension, std::move(steps));
}

WeightTrajectory WeightTrajectory::from_rows(std::vector<double> rows, std::size_t dimension, StepTable steps) {
  auto buffer = std::make_shared<const std::vector<double>>(std::move(rows));
  return from_buffer(buffer, buffer->data(), true, buffer->size(), dimension, std::move(steps));
}

std::size_t WeightTrajectory::size() const { return count_; }
std::size_t WeightTrajectory::dimension() const {
  return col_count_ == static_cast<std::size_t>(-1) ? impl_->dimension : col_count_;
}
const fs::path& WeightTrajectory::source() const { return impl_->source; }
const StepTable& WeightTrajectory::steps() const { return steps_; }
std::vector<double> WeightTrajectory::loss() const { return loss_; }

void WeightTrajectory::set_loss(std::vector<double> loss, const fs::path& from) {
  if (loss.size() != count_) {
    throw InputError(fmt::format("{}: expected {} loss values (one per snapshot), found {}",
                                 from.empty() ? std::string("loss series") : from.string(), count_, loss.size()));
  }
  loss_ = std::move(loss);
}

void WeightTrajectory::Impl::read_block(std::size_t row, std::size_t count, std::size_t col, std::size_t cols,
                                        double* out, std::size_t stride) const {
  if (!shards.empty()) {  // each shard's part of the column range, into its columns of `out`
    for (std::size_t k = 0; k < shards.size(); ++k) {
      const std::size_t lo = std::max(col, shard_first[k]);
      const std::size_t hi = std::min(col + cols, shard_first[k] + shards[k]->dimension);
      if (lo >= hi) continue;
      shards[k]->read_block(row, count, lo - shard_first[k], hi - lo, out + (lo - col), stride);
    }
    return;
  }
  const std::size_t D = dimension;
  std::size_t r = row;
  const std::size_t end = row + count;
  auto it = std::upper_bound(chunks.begin(), chunks.end(), r,
                             [](std::size_t x, const Chunk& c) { return x < c.first; });
  --it;
  for (; r < end; ++r, out += stride) {
    while (r >= it->first + it->rows) ++it;
    const std::size_t offset = (r - it->first) * D + col;
    const std::size_t bad =
        it->type == NpyType::float32
            ? convert<float>(it->data + offset * sizeof(float), cols, out)
            : convert<double>(it->data + offset * sizeof(double), cols, out);
    if (bad != cols) {
      throw InputError(fmt::format("{}: expected finite weights, found {} at snapshot {} (row {} of this file), "
                                   "parameter {}",
                                   it->file.empty() ? std::string("in-memory trajectory") : it->file.string(),
                                   out[bad], r, r - it->first, col + bad));
    }
  }
}

void WeightTrajectory::read(std::size_t first, std::size_t count, std::size_t col, std::size_t cols,
                            double* out) const {
  if (first + count > count_ || col + cols > dimension()) {
    throw std::out_of_range(fmt::format("WeightTrajectory::read: rows [{}, {}) x columns [{}, {}) outside {} x {}",
                                        first, first + count, col, col + cols, count_, dimension()));
  }
  if (count == 0 || cols == 0) return;
  impl_->read_block(first_ + first, count, col_first_ + col, cols, out, cols);
}

std::size_t WeightTrajectory::column_offset() const { return impl_->column_base + col_first_; }

std::vector<double> WeightTrajectory::snapshot(std::size_t t) const {
  std::vector<double> w(dimension());
  read(t, 1, 0, dimension(), w.data());
  return w;
}

WeightTrajectory WeightTrajectory::columns(std::size_t first, std::size_t count) const {
  if (first + count > dimension()) {
    throw std::out_of_range(fmt::format("WeightTrajectory::columns: [{}, {}) outside {} coordinates", first,
                                        first + count, dimension()));
  }
  WeightTrajectory t = *this;
  t.col_first_ = col_first_ + first;
  t.col_count_ = count;
  return t;
}

WeightTrajectory WeightTrajectory::slice(std::size_t first, std::size_t count) const {
  if (first + count > count_) {
    throw std::out_of_range(fmt::format("WeightTrajectory::slice: [{}, {}) outside {} snapshots", first,
                                        first + count, count_));
  }
  WeightTrajectory t = *this;
  t.first_ = first_ + first;
  t.count_ = count;
  const auto from = static_cast<std::ptrdiff_t>(first), to = static_cast<std::ptrdiff_t>(first + count);
  for (auto& c : t.steps_.columns) c = std::vector<double>(c.begin() + from, c.begin() + to);
  if (!t.loss_.empty()) t.loss_ = std::vector<double>(loss_.begin() + from, loss_.begin() + to);
  return t;
}

std::vector<double> load_series(const fs::path& path) {
  const auto a = detail::npy_open(path);
  if (a.shape.size() != 1) {
    throw InputError(fmt::format("{}: expected a 1-D array (one value per snapshot), found {} dimensions",
                                 path.string(), a.shape.size()));
  }
  std::vector<double> v(a.shape[0]);
  for (std::size_t i = 0; i < v.size(); ++i) {
    // memcpy: the data need not be aligned (a header not padded to a multiple of the item size).
    if (a.type == NpyType::float32) {
      float f;
      std::memcpy(&f, a.data + i * sizeof(float), sizeof f);
      v[i] = f;
    } else {
      std::memcpy(&v[i], a.data + i * sizeof(double), sizeof(double));
    }
  }
  return v;
}

void write_npy(const fs::path& path, const double* data, const std::vector<std::size_t>& shape) {
  detail::npy_write(path, NpyType::float64, shape, data);
}

}  // namespace anodiff
