#pragma once
/// \file toy_sgd.hpp  The study's simplified model of SGD: a noisy gradient walker on a 2-D landscape.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "anodiff/landscape_2d.hpp"
#include "anodiff/weight_trajectory.hpp"

namespace anodiff {

/// Options of the walker; defaults are the study's.
struct ToySgdOptions {
  double eta = 0.02;             ///< Learning rate.
  double sigma = 0.01;           ///< Noise standard deviation per coordinate and step.
  std::size_t steps = 1000;      ///< Steps per walker.
  std::size_t repeats = 5;       ///< Independent walkers.
  bool fixed_start = false;      ///< Start every walker at (start_x, start_y) instead of uniformly in [-1, 1]^2.
  double start_x = 0, start_y = 0;  ///< The fixed start.
  std::size_t max_redraws = 500; ///< Noise redraws when a step would leave [-1, 1]^2; then the step is skipped.
  std::uint64_t seed = 0;        ///< Walker k uses its own stream derived from (seed, k).
};

/// Paths of the walkers.
struct ToySgdResult {
  std::vector<WeightTrajectory> paths;   ///< One per walker: steps + 1 snapshots of D = 2, with the loss per step.
  std::vector<std::size_t> redraws;      ///< Noise redraws per walker.
  std::vector<std::size_t> skipped;      ///< Steps skipped per walker (500 redraws failed).
};

/// Runs the walkers (in parallel; results depend on the seed, not on the thread count):
/// p <- p - eta grad L(p) + sigma xi, xi ~ N(0, I), noise redrawn while p leaves [-1, 1]^2.
/// Throws std::invalid_argument for eta < 0, sigma < 0, zero steps or repeats, or a start outside [-1, 1]^2.
ToySgdResult run_toy_sgd(const Landscape2D& landscape, const ToySgdOptions& options = {});

}  // namespace anodiff
