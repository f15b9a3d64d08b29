#pragma once
/// \file parameter_layout.hpp  Which coordinates of a recorded parameter vector belong to which tensor, and which
/// groups of tensors are scale-invariant (followed by BatchNorm): the trajectory directory's layout.csv.
#include <cstddef>
#include <cstdint>
#include <filesystem>
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
};

}  // namespace anodiff
