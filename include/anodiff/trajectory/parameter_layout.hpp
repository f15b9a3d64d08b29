#pragma once
/// \file parameter_layout.hpp  Which coordinates of a recorded parameter vector belong to which tensor, and which
/// groups of tensors are scale-invariant (followed by BatchNorm): the trajectory directory's layout.csv.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace anodiff {

/// One parameter tensor of the flattened vector.
struct ParameterTensor {
  std::string name;                 ///< Its name in the model's state_dict, e.g. layer1.0.conv1.weight.
  std::vector<std::int64_t> shape;  ///< Its shape.
  std::size_t offset = 0;           ///< First coordinate in the flattened vector.
  std::size_t size = 0;             ///< Number of coordinates.
  int group = -1;  ///< Scale-invariant group (tensors whose joint rescaling leaves the loss unchanged); -1 = none.
};

/// The layout of a flattened parameter vector, in order.
struct ParameterLayout {
  std::vector<ParameterTensor> tensors;  ///< Consecutive, starting at offset 0.

  /// Total number of coordinates (offset + size of the last tensor).
  [[nodiscard]] std::size_t dimension() const;
  /// Number of scale-invariant groups (largest group + 1).
  [[nodiscard]] std::size_t groups() const;
  /// Coordinates in scale-invariant group `group`, or in all groups together for -1.
  [[nodiscard]] std::size_t group_dimension(int group = -1) const;
  /// Writes layout.csv: name,offset,size,shape,group (shape as 16x3x3x3).
  void write_csv(const std::filesystem::path& path) const;
  /// Reads a layout.csv; throws InputError naming the file and line for a malformed row, a gap or an overlap.
  [[nodiscard]] static ParameterLayout read_csv(const std::filesystem::path& path);
  /// The layout of a sharded trajectory directory (shard_000, shard_001, ...; WeightTrajectory::load): the shards'
  /// layout.csv concatenated, each shard's offsets shifted by the coordinates of the shards before it and its
  /// scale-invariant groups renumbered after theirs (a group lies within one shard). Throws InputError naming the
  /// file if a shard has no layout.csv or one whose dimension is not the shard's.
  [[nodiscard]] static ParameterLayout read_sharded(const std::filesystem::path& directory);
  /// The layout of a trajectory directory: its layout.csv, or read_sharded() for a sharded one; nullopt for a file
  /// or a directory without a layout (an unsharded one without layout.csv, a sharded one whose shard_000 has none).
  [[nodiscard]] static std::optional<ParameterLayout> find(const std::filesystem::path& trajectory);
};

}  // namespace anodiff
