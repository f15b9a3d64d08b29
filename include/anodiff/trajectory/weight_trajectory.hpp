#pragma once
/// \file weight_trajectory.hpp  A recorded SGD trajectory: T snapshots of a D-dimensional parameter vector.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "anodiff/trajectory/step_table.hpp"

namespace anodiff {

/// T snapshots w_0..w_{T-1} of a D-dimensional float32/float64 vector, memory-mapped from `.npy` files or held
/// in memory. Snapshot t is the parameter vector after t optimiser steps. Copies share the data.
class WeightTrajectory {
 public:
  /// Opens a single `.npy` of shape (T, D) (format 1.0/2.0/3.0, float32 or float64, C order) or a trajectory
  /// directory (`chunk_NNNNNN.npy` in name order, temporary files ignored, plus `steps.csv`); or the study's own
  /// files (study_trajectory.hpp): a `.mat` / `.h5` file, or a directory of per-epoch `model_E_sub_loss_w.mat` / `.h5`
  /// (read into memory). Throws InputError naming the file on bad input.
  /// A sharded trajectory directory (subdirectories `shard_000`, `shard_001`, ..., each a trajectory directory
  /// holding a consecutive slice of the coordinates; docs/formats.md) is opened as one trajectory whose read()
  /// spans the shards' files without concatenating them (a read of a column range touches only the shards it
  /// covers); steps and loss come from shard 0, whose step column every shard must repeat. A shard one chunk ahead
  /// of the others (a run killed between the shards' writes) is read up to the others' count; any other difference
  /// in snapshot count, and a directory with both chunks and shards, throws InputError naming the directory.
  static WeightTrajectory load(const std::filesystem::path& path);
  /// Shard `index` of a sharded trajectory directory alone (only its files are mapped; the other shards' chunk
  /// headers are read for their dimensions and counts): column_offset() is its first coordinate in the whole, so
  /// that analyse_part(shard, part, options, reduction) (post_analysis.hpp) takes it as it is. Its snapshot count
  /// is the one load() gives the whole. Throws InputError if `directory` is not sharded or has no such shard.
  static WeightTrajectory load_shard(const std::filesystem::path& directory, std::size_t index);
  /// The shard subdirectories `shard_000`, `shard_001`, ... of a sharded trajectory directory, in order; empty for
  /// any other path. Only exact three-digit names count (`shard_000.tmp` or `shard_1` are ignored). Throws
  /// InputError if the numbers have a gap or the directory also holds chunks.
  static std::vector<std::filesystem::path> shard_directories(const std::filesystem::path& directory);
  /// The chunk files of a trajectory directory, in order: exactly `chunk_NNNNNN.npy` (six or more digits), so that
  /// temporary files (`chunk_000000.npy.1234.tmp`, Python's `chunk_000000.npy.tmp.npy`) are never taken for chunks.
  static std::vector<std::filesystem::path> chunk_files(const std::filesystem::path& directory);
  /// A trajectory held in memory: `rows` holds T x `dimension` values, snapshot after snapshot.
  static WeightTrajectory from_rows(std::vector<float> rows, std::size_t dimension, StepTable steps = {});
  /// As above, float64.
  static WeightTrajectory from_rows(std::vector<double> rows, std::size_t dimension, StepTable steps = {});
  /// A trajectory read in place from a buffer someone else owns (a numpy array, a mapped file): `values` float32
  /// (or float64) values at `data`, snapshot after snapshot, `dimension` per snapshot; `owner` keeps the buffer
  /// alive as long as any copy of the trajectory. Throws std::invalid_argument if the values do not form whole rows
  /// or `steps` has another number of rows.
  static WeightTrajectory from_buffer(std::shared_ptr<const void> owner, const void* data, bool float64,
                                      std::size_t values, std::size_t dimension, StepTable steps = {});

  WeightTrajectory();
  /// Number of snapshots T.
  [[nodiscard]] std::size_t size() const;
  /// Dimension D of each snapshot.
  [[nodiscard]] std::size_t dimension() const;
  /// The file or directory it was loaded from (empty when built in memory).
  [[nodiscard]] const std::filesystem::path& source() const;
  /// Copies snapshots [first, first + count) x coordinates [col, col + cols) into `out` as float64, row after
  /// row. Throws InputError naming the file and step if a value is NaN or infinite, std::out_of_range if the
  /// block lies outside the trajectory.
  void read(std::size_t first, std::size_t count, std::size_t col, std::size_t cols, double* out) const;
  /// Snapshot t as float64.
  [[nodiscard]] std::vector<double> snapshot(std::size_t t) const;
  /// Per-snapshot table (from steps.csv; empty for a bare `.npy`).
  [[nodiscard]] const StepTable& steps() const;
  /// Mini-batch loss per snapshot (NaN where there is none, e.g. t = 0); empty if no loss is known.
  [[nodiscard]] std::vector<double> loss() const;
  /// Sets the loss series (for example from a 1-D `.npy`); throws InputError if its length is not T.
  void set_loss(std::vector<double> loss, const std::filesystem::path& from = {});
  /// The snapshots [first, first + count) as a trajectory of their own (shares the data).
  [[nodiscard]] WeightTrajectory slice(std::size_t first, std::size_t count) const;
  /// The coordinates [first, first + count) of every snapshot as a trajectory of dimension `count` (shares the
  /// data; steps and loss are kept): one coordinate shard for analyses that sum over coordinates (ShardReduction,
  /// post_analysis.hpp; docs/scaling.md).
  /// Throws std::out_of_range if the range lies outside the dimension.
  [[nodiscard]] WeightTrajectory columns(std::size_t first, std::size_t count) const;
  /// Index of this view's first coordinate in the whole trajectory: 0 unless made by columns() or load_shard().
  [[nodiscard]] std::size_t column_offset() const;

 private:
  struct Impl;
  /// Opens a directory of chunk_NNNNNN.npy plus steps.csv (one shard, or an unsharded trajectory directory).
  static WeightTrajectory load_chunk_directory(const std::filesystem::path& directory);
  std::shared_ptr<const Impl> impl_;
  std::size_t first_ = 0;
  std::size_t count_ = 0;
  std::size_t col_first_ = 0;
  std::size_t col_count_ = static_cast<std::size_t>(-1);  // all coordinates
  StepTable steps_;
  std::vector<double> loss_;
};

/// Reads a 1-D `.npy` (float32/float64) of per-step values, e.g. losses. Throws InputError naming the file.
std::vector<double> load_series(const std::filesystem::path& path);

/// Writes a float64 array of `shape` (C order) as `.npy`, durably (temporary name, fsync, rename).
void write_npy(const std::filesystem::path& path, const double* data, const std::vector<std::size_t>& shape);

}  // namespace anodiff
