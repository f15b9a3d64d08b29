#include "anodiff/trajectory/parameter_layout.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "anodiff/io/csv.hpp"
#include "anodiff/base/error.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "detail/npy.hpp"
#include "detail/printable.hpp"

namespace anodiff {

std::size_t ParameterLayout::dimension() const {
  return tensors.empty() ? 0 : tensors.back().offset + tensors.back().size;
}

std::size_t ParameterLayout::groups() const {
  int g = -1;
  for (const auto& t : tensors) g = std::max(g, t.group);
  return g < 0 ? 0 : static_cast<std::size_t>(g) + 1;
}

std::size_t ParameterLayout::group_dimension(int group) const {
  std::size_t n = 0;
  for (const auto& t : tensors) n += (group < 0 ? t.group >= 0 : t.group == group) ? t.size : 0;
  return n;
}

void ParameterLayout::write_csv(const std::filesystem::path& path) const {
  // Written durably (a temporary name, fsync, rename), as the trajectory's chunks and steps.csv: anodiff-train
  // writes it again at every start, and a reader beside a writer killed then read it empty (kill_and_read).
  CsvWriter out(path, "name,offset,size,shape,group", CsvWriter::Mode::durable);
  for (const auto& t : tensors) out.row("{},{},{},{},{}", t.name, t.offset, t.size, fmt::join(t.shape, "x"), t.group);
  out.flush();
}

ParameterLayout ParameterLayout::read_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open", path.string()));
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != "name,offset,size,shape,group") {
    throw InputError(fmt::format("{}: expected the header 'name,offset,size,shape,group', found '{}'", path.string(),
                                 detail::printable(line)));
  }
  ParameterLayout layout;
  std::size_t line_no = 1, next = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    auto bad = [&](const std::string& what) {
      return InputError(fmt::format("{}:{}: {}, found '{}'", path.string(), line_no, what, detail::printable(line)));
    };
    if (f.size() != 5) throw bad("expected 5 fields");
    ParameterTensor t;
    t.name = f[0];
    // Whole fields only: "3.5" or "7a" is no count.
    auto whole = [&](const std::string& field) -> long long {
      std::size_t used = 0;
      const long long v = std::stoll(field, &used);
      if (used != field.size()) throw std::invalid_argument(field);
      return v;
    };
    try {
      if (whole(f[1]) < 0 || whole(f[2]) < 0) throw bad("expected non-negative offsets and sizes");
      t.offset = static_cast<std::size_t>(whole(f[1]));
      t.size = static_cast<std::size_t>(whole(f[2]));
      const long long group = whole(f[4]);
      if (group < -1 || group > 1000000000) throw bad("expected a group of -1 or more");
      t.group = static_cast<int>(group);
      std::stringstream dims(f[3]);
      std::size_t product = 1;
      for (std::string d; std::getline(dims, d, 'x');) {
        t.shape.push_back(whole(d));
        if (t.shape.back() < 0) throw bad("expected non-negative dimensions");
        if (__builtin_mul_overflow(product, static_cast<std::size_t>(t.shape.back()), &product)) {
          throw bad("expected a shape whose product fits 64 bits");
        }
      }
      if (product != t.size) throw bad(fmt::format("expected size = product of the shape ({})", product));
    } catch (const std::logic_error&) {
      throw bad("expected name,offset,size,shape,group with numbers");
    }
    if (t.offset != next) throw bad(fmt::format("expected offset {} (tensors must be consecutive)", next));
    if (t.group < -1) throw bad("expected a group of -1 or more");
    if (__builtin_add_overflow(t.offset, t.size, &next)) throw bad("expected offset + size to fit 64 bits");
    layout.tensors.push_back(std::move(t));
  }
  return layout;
}

ParameterLayout ParameterLayout::read_sharded(const std::filesystem::path& directory) {
  const auto shards = WeightTrajectory::shard_directories(directory);
  if (shards.empty()) {
    throw InputError(fmt::format("{}: expected a sharded trajectory directory (shard_000, ...), found none",
                                 directory.string()));
  }
  ParameterLayout whole;
  for (const auto& dir : shards) {
    const auto file = dir / "layout.csv";
    if (!std::filesystem::exists(file)) {
      throw InputError(fmt::format("{}: expected the layout of this shard, found no file", file.string()));
    }
    ParameterLayout part = read_csv(file);
    // The shard's dimension from its first chunk's header (the chunks' own check is WeightTrajectory::load's).
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name != "chunk_000000.npy") continue;
      const auto a = detail::npy_open(e.path());
      if (a.shape.size() == 2 && a.shape[1] != part.dimension()) {
        throw InputError(fmt::format("{}: expected tensors of {} coordinates in all (the shard's chunks), found {}",
                                     file.string(), a.shape[1], part.dimension()));
      }
    }
    const std::size_t shift = whole.dimension();
    const int group_shift = static_cast<int>(whole.groups());
    for (auto& t : part.tensors) {
      t.offset += shift;
      if (t.group >= 0) t.group += group_shift;
      whole.tensors.push_back(std::move(t));
    }
  }
  return whole;
}

std::optional<ParameterLayout> ParameterLayout::find(const std::filesystem::path& trajectory) {
  std::error_code ec;
  if (!std::filesystem::is_directory(trajectory, ec)) return std::nullopt;
  if (std::filesystem::exists(trajectory / "layout.csv")) return read_csv(trajectory / "layout.csv");
  const auto shards = WeightTrajectory::shard_directories(trajectory);
  if (shards.empty() || !std::filesystem::exists(shards.front() / "layout.csv")) return std::nullopt;
  return read_sharded(trajectory);
}

}  // namespace anodiff
