#include "anodiff/trajectory/trajectory_writer.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "detail/npy.hpp"
#include "detail/printable.hpp"

namespace anodiff {
namespace fs = std::filesystem;
using detail::NpyType;

TrajectoryWriter::TrajectoryWriter(fs::path directory, std::size_t dimension, std::vector<std::string> columns)
    : directory_(std::move(directory)), dimension_(dimension) {
  if (dimension_ == 0) throw std::invalid_argument("TrajectoryWriter: dimension must be positive");
  fs::create_directories(directory_);
  for (const auto& e : fs::directory_iterator(directory_)) {
    if (e.path().extension() == ".tmp") fs::remove(e.path());  // a write that never completed
  }
  for (const auto& f : WeightTrajectory::chunk_files(directory_)) {
    const auto a = detail::npy_open(f);
    if (a.shape.size() != 2 || a.shape[1] != dimension_) {
      throw InputError(fmt::format("{}: expected a chunk of {} parameters per snapshot, found shape ({})",
                                   f.string(), dimension_,
                                   a.shape.size() == 2 ? fmt::format("{}, {}", a.shape[0], a.shape[1]) : "?"));
    }
    committed_ += a.shape[0];
    chunk_ends_.push_back(committed_);
    ++chunks_;
  }
  table_.names = std::move(columns);
  table_.columns.assign(table_.names.size(), {});
  const fs::path csv = directory_ / "steps.csv";
  if (fs::exists(csv)) {
    StepTable old = StepTable::read_csv(csv);
    if (old.names != table_.names) {
      throw InputError(fmt::format("{}: expected the columns {}, found {}", csv.string(),
                                   fmt::join(table_.names, ","), detail::printable(fmt::format("{}", fmt::join(old.names, ",")))));
    }
    if (old.rows() < committed_) {
      throw InputError(fmt::format("{}: expected at least {} rows (one per recorded snapshot), found {}",
                                   csv.string(), committed_, old.rows()));
    }
    for (auto& c : old.columns) c.resize(committed_);
    table_ = std::move(old);
  } else if (committed_ > 0) {
    throw InputError(fmt::format("{}: missing, but {} snapshots are recorded beside it", csv.string(), committed_));
  }
}

void TrajectoryWriter::append(const float* weights, const std::vector<double>& row) {
  if (row.size() != table_.names.size()) {
    throw std::invalid_argument(fmt::format("TrajectoryWriter::append: expected {} step values, got {}",
                                            table_.names.size(), row.size()));
  }
  pending_.insert(pending_.end(), weights, weights + dimension_);
  ++pending_rows_;
  for (std::size_t c = 0; c < row.size(); ++c) table_.columns[c].push_back(row[c]);
}

void TrajectoryWriter::commit() {
  if (pending_rows_ == 0) return;
  table_.write_csv(directory_ / "steps.csv");
  const fs::path chunk = directory_ / fmt::format("chunk_{:06d}.npy", chunks_);
  detail::npy_write(chunk, NpyType::float32, {pending_rows_, dimension_}, pending_.data());
  committed_ += pending_rows_;
  chunk_ends_.push_back(committed_);
  ++chunks_;
  pending_.clear();
  pending_rows_ = 0;
}

void TrajectoryWriter::truncate(std::size_t snapshots) {
  if (snapshots > committed_ ||
      (snapshots != 0 && std::find(chunk_ends_.begin(), chunk_ends_.end(), snapshots) == chunk_ends_.end())) {
    throw std::invalid_argument(fmt::format("TrajectoryWriter::truncate: {} is not a chunk boundary", snapshots));
  }
  pending_.clear();
  pending_rows_ = 0;
  while (committed_ > snapshots) {
    --chunks_;
    fs::remove(directory_ / fmt::format("chunk_{:06d}.npy", chunks_));
    chunk_ends_.pop_back();
    committed_ = chunk_ends_.empty() ? 0 : chunk_ends_.back();
  }
  for (auto& c : table_.columns) c.resize(committed_);
  table_.write_csv(directory_ / "steps.csv");
}

}  // namespace anodiff
