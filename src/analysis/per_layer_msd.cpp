#include "anodiff/analysis/per_layer_msd.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"

namespace anodiff {

const char* to_string(LayerGrouping grouping) {
  switch (grouping) {
    case LayerGrouping::tensor: return "tensor";
    case LayerGrouping::layer: return "layer";
    case LayerGrouping::group: return "group";
  }
  return "?";
}

LayerGrouping parse_layer_grouping(const std::string& name) {
  for (auto g : {LayerGrouping::tensor, LayerGrouping::layer, LayerGrouping::group}) {
    if (name == to_string(g)) return g;
  }
  throw std::invalid_argument(fmt::format("per-layer grouping: expected tensor, layer or group, got '{}'", name));
}

namespace {

// The name of the set that tensor t belongs to under `grouping`.
std::string set_name(const ParameterTensor& t, LayerGrouping grouping) {
  switch (grouping) {
    case LayerGrouping::tensor: return t.name;
    case LayerGrouping::layer: {
      const auto dot = t.name.rfind('.');
      return dot == std::string::npos ? t.name : t.name.substr(0, dot);
    }
    case LayerGrouping::group: return t.group < 0 ? std::string("ungrouped") : fmt::format("group_{}", t.group);
  }
  return t.name;
}

// Adds the certified FFT MSD (lags 0..count-1) of coordinates [col, col + cols) of snapshots [first, first + count)
// to `sum`, reading at most ~64 MB at a time.
void add_columns(const WeightTrajectory& trajectory, std::size_t first, std::size_t count, std::size_t col,
                 std::size_t cols, std::vector<double>& sum) {
  const std::size_t width = std::max<std::size_t>(1, (std::size_t(8) << 20) / count);
  for (std::size_t c = col; c < col + cols; c += width) {
    const std::size_t w = std::min(width, col + cols - c);
    std::vector<double> rows(count * w);
    trajectory.read(first, count, c, w, rows.data());
    const auto block = WeightTrajectory::from_rows(std::move(rows), w);
    const auto m = msd_fft(block, 0, count);
    for (std::size_t lag = 0; lag < count; ++lag) sum[lag] += m[lag];
  }
}

}  // namespace

namespace {

std::vector<LayerMsd> layers_msd(const WeightTrajectory& trajectory, const ParameterLayout& layout,
                                 LayerGrouping grouping, const MsdOptions& options, ShardReduction* reduction) {
  // The trajectory holds columns [base, base + D) of the layout's vector: all of it, or a coordinate shard's range.
  const std::size_t base = reduction != nullptr ? trajectory.column_offset() : 0;
  if (reduction == nullptr ? layout.dimension() != trajectory.dimension()
                           : layout.dimension() < base + trajectory.dimension()) {
    throw InputError(fmt::format("per_layer_msd: the parameter layout covers {} coordinates, the trajectory has {}{}",
                                 layout.dimension(), trajectory.dimension(),
                                 reduction != nullptr ? fmt::format(" from column {}", base) : std::string()));
  }
  // The sets in order of first appearance, and the tensors of each.
  std::vector<LayerMsd> layers;
  std::vector<std::vector<const ParameterTensor*>> members;
  std::map<std::string, std::size_t> index;
  for (const auto& t : layout.tensors) {
    const std::string name = set_name(t, grouping);
    auto it = index.find(name);
    if (it == index.end()) {
      it = index.emplace(name, layers.size()).first;
      layers.push_back({name, 0, {}});
      members.emplace_back();
    }
    layers[it->second].dimension += t.size;
    members[it->second].push_back(&t);
  }
  for (const auto& part : split_parts(trajectory.size(), options.part_length)) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      std::vector<double> by_lag(part.count, 0.0);
      for (const auto* t : members[i]) {
        // The tensor's columns within this trajectory's range (a shard may hold part of a tensor, or none of it).
        const std::size_t lo = std::max(t->offset, base);
        const std::size_t hi = std::min(t->offset + t->size, base + trajectory.dimension());
        if (hi > lo) add_columns(trajectory, part.start, part.count, lo - base, hi - lo, by_lag);
      }
      if (reduction != nullptr) reduction->sum(by_lag.data(), by_lag.size());  // MSD adds over coordinates
      layers[i].parts.push_back(msd_curve(part, by_lag, options.max_lag));
    }
  }
  return layers;
}

}  // namespace

std::vector<LayerMsd> per_layer_msd(const WeightTrajectory& trajectory, const ParameterLayout& layout,
                                    LayerGrouping grouping, const MsdOptions& options) {
  return layers_msd(trajectory, layout, grouping, options, nullptr);
}

std::vector<LayerMsd> per_layer_msd(const WeightTrajectory& trajectory, const ParameterLayout& layout,
                                    LayerGrouping grouping, const MsdOptions& options, ShardReduction& reduction) {
  return layers_msd(trajectory, layout, grouping, options, &reduction);
}

}  // namespace anodiff
