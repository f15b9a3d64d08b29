#pragma once
/// \file hessian_spectrum.hpp  (anodiff::core) The Hessian along a training run as plain data: its extreme
/// eigenpairs, trace and density checkpoint by checkpoint (computed by hessian_along_run / hessian_of_checkpoints,
/// torch/hessian_run.hpp; written by write_hessian_run, output/output.hpp).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "anodiff/spectrum/spectrum.hpp"

namespace anodiff {

/// The Hessian at one checkpoint of a run.
struct HessianCheckpoint {
  std::int64_t epoch = 0;                  ///< The checkpoint's epoch.
  EigenResult eigen;                       ///< Its extreme eigenpairs.
  bool warm_start = false;                 ///< Lanczos started from the previous checkpoint's eigenvectors.
  std::optional<TraceEstimate> trace;      ///< Hutch++ trace, when asked.
  std::optional<SmoothedDensity> density;  ///< SLQ density, when asked.
};

/// The Hessian along a training run, checkpoint by checkpoint (hessian_along_run).
struct HessianRun {
  std::size_t k = 0;                            ///< Eigenpairs asked for at each checkpoint.
  SpectrumEnd end = SpectrumEnd::largest;       ///< Which end of the spectrum.
  std::vector<HessianCheckpoint> checkpoints;   ///< In the order computed.
};

}  // namespace anodiff
