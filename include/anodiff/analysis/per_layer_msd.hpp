#pragma once
/// \file per_layer_msd.hpp  The MSD of each parameter tensor, layer or scale-invariant group of a trajectory (which
/// layers move), from the parameter layout recorded beside it (layout.csv).
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "anodiff/analysis/msd.hpp"
#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/trajectory/shard_reduction.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {

/// How the coordinates are grouped by per_layer_msd().
enum class LayerGrouping {
  tensor,  ///< One curve per tensor of the layout (e.g. layer1.0.conv1.weight).
  layer,   ///< One per layer: the tensors whose names agree up to the last '.' (weight and bias together).
  group    ///< One per scale-invariant group ("group_G"), and "ungrouped" for the tensors of no group.
};

/// "tensor", "layer" or "group".
[[nodiscard]] const char* to_string(LayerGrouping grouping);

/// Parses "tensor", "layer" or "group"; throws std::invalid_argument naming the value otherwise.
[[nodiscard]] LayerGrouping parse_layer_grouping(const std::string& name);

/// The MSD of one named set of coordinates, per part.
struct LayerMsd {
  std::string name;             ///< The tensor, layer or group.
  std::size_t dimension = 0;    ///< Its coordinates.
  std::vector<MsdCurve> parts;  ///< Time-averaged MSD of these coordinates per part (the parts of msd()).
};

/// The time-averaged MSD of the coordinates of each tensor, layer or group of `layout`, per part (options as
/// msd()). The curves of a grouping add up to the MSD of the whole vector (MSD is a sum over coordinates). Each
/// value is the certified FFT MSD (docs/msd.md) of its coordinates. Throws InputError if the layout does not cover
/// the trajectory's dimension, like msd() otherwise.
[[nodiscard]] std::vector<LayerMsd> per_layer_msd(const WeightTrajectory& trajectory, const ParameterLayout& layout,
                                                  LayerGrouping grouping = LayerGrouping::tensor,
                                                  const MsdOptions& options = {});

/// per_layer_msd() over coordinate shards: `trajectory` holds this shard's columns of the layout's vector (from
/// WeightTrajectory::column_offset(), as load_shard_columns gives them), each shard adds the MSD of its coordinates of
/// every tensor, layer or group, and `reduction` sums them, so that every shard gets what per_layer_msd() gives on the
/// whole (to rounding). Every shard must call it with the same layout, grouping and options.
[[nodiscard]] std::vector<LayerMsd> per_layer_msd(const WeightTrajectory& trajectory, const ParameterLayout& layout,
                                                  LayerGrouping grouping, const MsdOptions& options,
                                                  ShardReduction& reduction);


}  // namespace anodiff
