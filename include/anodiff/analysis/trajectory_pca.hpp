#pragma once
/// \file trajectory_pca.hpp  Principal directions of a trajectory part, for loss-landscape planes (Li et al. 2018).
#include <cstddef>
#include <optional>
#include <vector>

#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {

/// The leading principal components of the snapshots w_t - w_ref of a part (centred over t, as sklearn's PCA).
struct TrajectoryPca {
  std::vector<std::vector<double>> directions;  ///< Unit principal directions (each D values).
  std::vector<double> explained_variance_ratio; ///< Fraction of the part's variance along each direction.
  std::vector<std::vector<double>> coordinates; ///< Per snapshot: (w_t - w_ref) . direction, one per direction.
  std::size_t reference = 0;                    ///< The reference snapshot (default: the part's last).
};

/// PCA of snapshots [first, first + count) relative to snapshot `reference` (unset: first + count - 1), from the
/// count x count Gram matrix (O(count^2 D), memory-mapped input). Throws std::invalid_argument for count < 3 or
/// components outside 1..count-1.
[[nodiscard]] TrajectoryPca trajectory_pca(const WeightTrajectory& trajectory, std::size_t first, std::size_t count,
                                           std::size_t components = 2, std::optional<std::size_t> reference = {});

}  // namespace anodiff
