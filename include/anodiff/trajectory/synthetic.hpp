#pragma once
/// \file synthetic.hpp  Trajectories with known diffusion exponents, for tests, calibration and the demo.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff::synthetic {

/// w_t = t * velocity (T snapshots, D = velocity.size()): MSD(tau) = tau^2 |velocity|^2 exactly.
WeightTrajectory ballistic(std::size_t snapshots, const std::vector<double>& velocity);

/// Gaussian random walk, steps N(0, step^2) per coordinate: MSD(tau) = D step^2 tau (alpha = 1).
WeightTrajectory brownian(std::size_t snapshots, std::size_t dimension, double step, std::uint64_t seed);

/// Fractional Brownian motion with Hurst exponent `hurst` in (0, 1), exact (Davies-Harte circulant embedding),
/// unit increments variance per coordinate: MSD(tau) = D tau^(2H). Throws std::invalid_argument for H outside (0,1).
WeightTrajectory fractional_brownian(std::size_t snapshots, std::size_t dimension, double hurst, std::uint64_t seed);

/// Persistent (run-and-tumble) walk: speed `speed` along a random unit direction, redrawn every `run_length`
/// steps (random phase): ballistic below and diffusive above the crossover lag run_length.
WeightTrajectory persistent_walk(std::size_t snapshots, std::size_t dimension, std::size_t run_length, double speed,
                                 std::uint64_t seed);

/// The built-in demonstration: an inertial (momentum-like) walker in a harmonic well, started away from its
/// minimum, with a loss series L = |w|^2 / 2 + noise. Superdiffusive at short lags, subdiffusive at long ones.
WeightTrajectory demo(std::size_t snapshots = 3000, std::size_t dimension = 2000, std::uint64_t seed = 0);

/// Writes `trajectory` to `directory` in anodiff's format (float32, one chunk per `chunk` snapshots, the step table
/// copied), replacing what is there, so that it is read back as a recorded run is (the --demo of
/// anodiff-post-analysis).
void write_trajectory(const WeightTrajectory& trajectory, const std::filesystem::path& directory,
                      std::size_t chunk = 100);

}  // namespace anodiff::synthetic
