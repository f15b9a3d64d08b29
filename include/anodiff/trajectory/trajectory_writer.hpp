#pragma once
/// \file trajectory_writer.hpp  (anodiff::core) Recording a trajectory directory: chunk_NNNNNN.npy files written
/// durably, and steps.csv.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "anodiff/trajectory/step_table.hpp"

namespace anodiff {

/// Writes a trajectory directory by appending snapshots; each commit() writes the pending snapshots as one
/// chunk (temporary name, fsync, rename), so a process killed at any moment leaves only complete chunks.
class TrajectoryWriter {
 public:
  /// Opens `directory` (created if needed) for snapshots of `dimension` values and per-step `columns`
  /// (default step, epoch, loss). Chunks already there are kept and appended to (resume); throws InputError if
  /// their dimension or the columns of steps.csv differ.
  TrajectoryWriter(std::filesystem::path directory, std::size_t dimension,
                   std::vector<std::string> columns = {"step", "epoch", "loss"});
  /// Snapshots on disk plus pending ones.
  [[nodiscard]] std::size_t size() const { return committed_ + pending_rows_; }
  /// Snapshots in complete chunks on disk.
  [[nodiscard]] std::size_t committed() const { return committed_; }
  /// Appends one snapshot of dimension() values with its row of `columns` values (NaN for an empty field).
  void append(const float* weights, const std::vector<double>& row);
  /// Writes the pending snapshots as a new chunk; steps.csv is rewritten first, so its rows cover every chunk.
  void commit();
  /// Drops every snapshot past the first `snapshots` (whole chunks only; used when resuming from a checkpoint).
  /// Throws std::invalid_argument if `snapshots` is not a chunk boundary.
  void truncate(std::size_t snapshots);
  /// Dimension D.
  [[nodiscard]] std::size_t dimension() const { return dimension_; }
  /// The pending (not yet committed) snapshots, row after row.
  [[nodiscard]] const std::vector<float>& pending() const { return pending_; }

 private:
  std::filesystem::path directory_;
  std::size_t dimension_;
  std::size_t committed_ = 0;
  std::size_t chunks_ = 0;
  std::vector<std::size_t> chunk_ends_;
  StepTable table_;
  std::vector<float> pending_;
  std::size_t pending_rows_ = 0;
};

}  // namespace anodiff
