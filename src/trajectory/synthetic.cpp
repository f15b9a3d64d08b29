#include "anodiff/trajectory/synthetic.hpp"

#include <cmath>
#include <complex>
#include <limits>
#include <random>
#include <stdexcept>

#include <fmt/format.h>
#include <unsupported/Eigen/FFT>

#include "anodiff/trajectory/trajectory_writer.hpp"

namespace anodiff::synthetic {

WeightTrajectory ballistic(std::size_t snapshots, const std::vector<double>& velocity) {
  const std::size_t D = velocity.size();
  std::vector<double> rows(snapshots * D);
  for (std::size_t t = 0; t < snapshots; ++t) {
    for (std::size_t j = 0; j < D; ++j) rows[t * D + j] = static_cast<double>(t) * velocity[j];
  }
  return WeightTrajectory::from_rows(std::move(rows), D);
}

WeightTrajectory brownian(std::size_t snapshots, std::size_t dimension, double step, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, step);
  std::vector<double> rows(snapshots * dimension, 0.0);
  for (std::size_t t = 1; t < snapshots; ++t) {
    for (std::size_t j = 0; j < dimension; ++j) rows[t * dimension + j] = rows[(t - 1) * dimension + j] + normal(rng);
  }
  return WeightTrajectory::from_rows(std::move(rows), dimension);
}

WeightTrajectory fractional_brownian(std::size_t snapshots, std::size_t dimension, double hurst, std::uint64_t seed) {
  if (!(hurst > 0.0 && hurst < 1.0)) {
    throw std::invalid_argument(fmt::format("fractional_brownian: the Hurst exponent must lie in (0, 1), got {}", hurst));
  }
  if (snapshots < 2) throw std::invalid_argument("fractional_brownian: needs at least 2 snapshots");
  const std::size_t n = snapshots - 1;  // increments (fractional Gaussian noise)
  const std::size_t m = 2 * n;
  auto gamma = [hurst](double k) {
    return 0.5 * (std::pow(std::fabs(k + 1), 2 * hurst) - 2 * std::pow(std::fabs(k), 2 * hurst) +
                  std::pow(std::fabs(k - 1), 2 * hurst));
  };
  std::vector<std::complex<double>> c(m);
  for (std::size_t k = 0; k < m; ++k) c[k] = gamma(static_cast<double>(k <= n ? k : m - k));
  Eigen::FFT<double> fft;
  std::vector<std::complex<double>> lambda;
  fft.fwd(lambda, c);
  std::vector<double> root(m);
  for (std::size_t k = 0; k < m; ++k) root[k] = std::sqrt(std::max(0.0, lambda[k].real()) / static_cast<double>(m));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> rows(snapshots * dimension, 0.0);
  std::vector<std::complex<double>> z(m), y;
  for (std::size_t j = 0; j < dimension; ++j) {
    for (std::size_t k = 0; k < m; ++k) z[k] = root[k] * std::complex<double>(normal(rng), normal(rng));
    fft.fwd(y, z);
    for (std::size_t t = 1; t < snapshots; ++t) {
      rows[t * dimension + j] = rows[(t - 1) * dimension + j] + y[t - 1].real();
    }
  }
  return WeightTrajectory::from_rows(std::move(rows), dimension);
}

WeightTrajectory persistent_walk(std::size_t snapshots, std::size_t dimension, std::size_t run_length, double speed,
                                 std::uint64_t seed) {
  if (run_length == 0) throw std::invalid_argument("persistent_walk: run_length must be at least 1");
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> rows(snapshots * dimension, 0.0);
  std::vector<double> dir(dimension);
  auto redraw = [&] {
    double norm = 0;
    for (auto& d : dir) d = normal(rng), norm += d * d;
    norm = std::sqrt(norm);
    for (auto& d : dir) d *= speed / norm;
  };
  const std::size_t phase = std::uniform_int_distribution<std::size_t>(0, run_length - 1)(rng);
  redraw();
  for (std::size_t t = 1; t < snapshots; ++t) {
    if ((t + phase) % run_length == 0) redraw();
    for (std::size_t j = 0; j < dimension; ++j) rows[t * dimension + j] = rows[(t - 1) * dimension + j] + dir[j];
  }
  return WeightTrajectory::from_rows(std::move(rows), dimension);
}

WeightTrajectory demo(std::size_t snapshots, std::size_t dimension, std::uint64_t seed) {
  // Underdamped Langevin walker: v <- (1 - 1/tc) v - k x + s xi; x <- x + v. Persistence time tc gives
  // superdiffusion at short lags; the well (relaxation time ~ 1 / (k tc)) gives subdiffusion at long ones.
  const double tc = 10.0, k = 1.0 / (10.0 * 120.0), s = 1e-3;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<float> rows(snapshots * dimension);
  std::vector<double> x(dimension), v(dimension, 0.0);
  for (auto& xi : x) xi = 0.05 * normal(rng);
  StepTable steps;
  steps.names = {"step", "epoch", "loss"};
  steps.columns.assign(3, std::vector<double>(snapshots));
  for (std::size_t t = 0; t < snapshots; ++t) {
    double loss = 0.0;
    for (std::size_t j = 0; j < dimension; ++j) {
      if (t > 0) {
        v[j] = (1.0 - 1.0 / tc) * v[j] - k * x[j] + s * normal(rng);
        x[j] += v[j];
      }
      rows[t * dimension + j] = static_cast<float>(x[j]);
      loss += 0.5 * x[j] * x[j];
    }
    steps.columns[0][t] = static_cast<double>(t);
    const std::size_t epoch = t / 100;  // a chunk of 100 snapshots per "epoch"
    steps.columns[1][t] = static_cast<double>(epoch);
    steps.columns[2][t] = t == 0 ? std::numeric_limits<double>::quiet_NaN() : loss * (1.0 + 0.01 * normal(rng));
  }
  return WeightTrajectory::from_rows(std::move(rows), dimension, std::move(steps));
}

void write_trajectory(const WeightTrajectory& trajectory, const std::filesystem::path& directory, std::size_t chunk) {
  std::filesystem::remove_all(directory);
  TrajectoryWriter writer(directory, trajectory.dimension());
  std::vector<double> w(trajectory.dimension());
  std::vector<float> wf(trajectory.dimension());
  // The step table's step, epoch and loss where it has them (demo() has all three; brownian() none): else the
  // snapshot's index, epoch 0 and no loss.
  const auto& steps = trajectory.steps();
  const auto* step = steps.column("step");
  const auto* epoch = steps.column("epoch");
  const auto* loss = steps.column("loss");
  const double none = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t t = 0; t < trajectory.size(); ++t) {
    trajectory.read(t, 1, 0, trajectory.dimension(), w.data());
    for (std::size_t j = 0; j < w.size(); ++j) wf[j] = static_cast<float>(w[j]);
    writer.append(wf.data(), {step ? (*step)[t] : static_cast<double>(t), epoch ? (*epoch)[t] : 0.0,
                              loss ? (*loss)[t] : none});
    if ((t + 1) % chunk == 0) writer.commit();
  }
  writer.commit();
}

}  // namespace anodiff::synthetic
