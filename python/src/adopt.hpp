#pragma once
// A WeightTrajectory over a buffer someone else owns (a numpy array), without copying it.
//
// WeightTrajectory builds such trajectories itself (from_rows, and the memory-mapped chunks) through its private
// static `adopt`; the library has no public entry for a foreign buffer yet. Until it has one (say
// `WeightTrajectory::from_buffer(owner, data, float64, values, dimension, steps)`), the module reaches `adopt`
// through the one standard-conforming route to a private member: an explicit template instantiation, where access
// is not checked ([temp.explicit]/12). Everything else in the module uses the public API.
#include <cstddef>
#include <memory>

#include "anodiff/weight_trajectory.hpp"

namespace anodiff::python::detail {

using AdoptFunction = WeightTrajectory (*)(std::shared_ptr<const void> owner, const void* data, bool float64,
                                           std::size_t values, std::size_t dimension, StepTable steps);

struct AdoptTag {
  friend AdoptFunction adopt_function(AdoptTag);
};

template <AdoptFunction F>
struct AdoptAccess {
  friend AdoptFunction adopt_function(AdoptTag) { return F; }
};

template struct AdoptAccess<&WeightTrajectory::adopt>;

/// The trajectory of `values` / `dimension` snapshots at `data` (float32 or float64, row after row), kept alive by
/// `owner`; the data is read in place.
inline WeightTrajectory adopt(std::shared_ptr<const void> owner, const void* data, bool float64, std::size_t values,
                              std::size_t dimension, StepTable steps = {}) {
  return adopt_function(AdoptTag{})(std::move(owner), data, float64, values, dimension, std::move(steps));
}

}  // namespace anodiff::python::detail
