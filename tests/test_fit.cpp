#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include <Eigen/Dense>

#include "anodiff/analysis/fit.hpp"
#include "anodiff/analysis/msd.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

using namespace anodiff;

TEST_CASE("fit: a power law is recovered exactly", "[fit]") {
  std::vector<double> x, y;
  for (int i = 1; i <= 100; ++i) x.push_back(i), y.push_back(3.0 * std::pow(i, 1.37));
  const auto f = fit_power_law(x, y, 2, 50);
  CHECK(f.exponent == Approx(1.37).epsilon(1e-12));
  CHECK(f.prefactor == Approx(3.0).epsilon(1e-12));
  CHECK(f.points == 49);
  CHECK(std::isnan(fit_power_law(x, y, 200, 300).exponent));
}

TEST_CASE("fit: the two-regime fit recovers exponents and crossover of a broken power law", "[fit]") {
  // The study's ResNet-14 values: early 1.215, late 0.783, tau0 = 70.
  std::vector<double> lag, msd;
  for (int t = 1; t < 1000; ++t) {
    lag.push_back(t);
    msd.push_back(t < 70 ? std::pow(t / 70.0, 1.215) : std::pow(t / 70.0, 0.783));
  }
  const auto f = fit_crossover(lag, msd);
  REQUIRE(f.valid);
  CHECK(f.early_exponent == Approx(1.215).epsilon(1e-3));
  CHECK(f.late_exponent == Approx(0.783).epsilon(1e-3));
  CHECK(f.crossover == Approx(70).epsilon(0.01));
  CHECK(f.crossover_found);
  CHECK(f.lag_min >= 4);
  CHECK(f.lag_max <= 900);
  CHECK(f.noise_floor < 1e-6);
  // With multiplicative noise the errors grow and still cover the truth.
  std::mt19937 rng(1);
  std::normal_distribution<double> n(0, 0.05);
  for (auto& m : msd) m *= std::exp(n(rng));
  const auto g = fit_crossover(lag, msd);
  CHECK(std::fabs(g.early_exponent - 1.215) < 4 * g.early_error);
  CHECK(std::fabs(g.late_exponent - 0.783) < 4 * g.late_error);
  CHECK(std::fabs(g.crossover - 70) < 4 * g.crossover_error);
  // Too few points: reported as invalid data, no exception.
  CHECK_FALSE(fit_crossover({1, 2, 3}, {1, 2, 3}).valid);
}

namespace {

// D coordinates of a Gaussian process with stationary increments whose MSD is exactly `msd_of(tau)`, T snapshots
// (Cholesky of the covariance of x_t - x_0), plus independent per-snapshot noise of variance noise/2 per coordinate
// (which adds `noise` to every MSD value: the jitter that flattens the first lags).
std::vector<double> gaussian_trajectory(std::size_t T, std::size_t D, double (*msd_of)(double), double noise,
                                        std::uint64_t seed) {
  const Eigen::Index n = static_cast<Eigen::Index>(T - 1);
  Eigen::MatrixXd C(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      C(i, j) = 0.5 * (msd_of(double(i + 1)) + msd_of(double(j + 1)) - (i == j ? 0.0 : msd_of(double(std::abs(i - j)))));
    }
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(C);
  const Eigen::VectorXd root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  const Eigen::MatrixXd L = eig.eigenvectors() * root.asDiagonal();
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd Z(n, static_cast<Eigen::Index>(D));
  for (Eigen::Index i = 0; i < Z.size(); ++i) Z.data()[i] = normal(rng);
  const Eigen::MatrixXd X = L * Z;
  std::vector<double> rows(T * D);
  const double s = std::sqrt(noise / 2);
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t d = 0; d < D; ++d) {
      const double x = t == 0 ? 0.0 : X(Eigen::Index(t - 1), Eigen::Index(d));
      rows[t * D + d] = (x + s * normal(rng)) / std::sqrt(double(D));
    }
  }
  return rows;
}

double two_regime(double tau) { return tau < 80 ? std::pow(tau / 80, 1.3) : std::pow(tau / 80, 0.7); }
double subdiffusive(double tau) { return std::pow(tau, 0.7); }
double superdiffusive(double tau) { return std::pow(tau, 1.3); }

anodiff::CrossoverFit fit_of(const std::vector<double>& rows, std::size_t D) {
  const auto curve = msd(WeightTrajectory::from_rows(rows, D)).front();
  return fit_crossover(std::vector<double>(curve.lag.begin(), curve.lag.end()), curve.msd);
}

}  // namespace

TEST_CASE("fit: a known two-regime MSD under per-snapshot jitter is recovered, a single regime has no crossover",
          "[fit]") {
  // Early 1.3, late 0.7, tau0 80; the jitter adds MSD(10) to every lag: the first ten lags look flat.
  const std::size_t T = 1000, D = 200;
  for (std::uint64_t seed : {1, 2, 3}) {
    const auto f = fit_of(gaussian_trajectory(T, D, two_regime, two_regime(10), seed), D);
    INFO("seed " << seed << ": early " << f.early_exponent << " late " << f.late_exponent << " tau0 " << f.crossover
                 << " floor share " << f.floor_share << " " << f.verdict);
    REQUIRE(f.crossover_found);
    CHECK(std::fabs(f.early_exponent - 1.3) < 0.1);
    CHECK(std::fabs(f.late_exponent - 0.7) < 0.1);
    CHECK(std::fabs(f.crossover / 80 - 1) < 0.3);
    // Without the floor, from lag 1, the jitter hides the early superdiffusion (docs/fits.md).
    const auto rows = gaussian_trajectory(T, D, two_regime, two_regime(10), seed);
    const auto curve = msd(WeightTrajectory::from_rows(rows, D)).front();
    CrossoverOptions plain;
    plain.noise_floor = false;
    plain.min_lag = 1;
    const auto g = fit_crossover(std::vector<double>(curve.lag.begin(), curve.lag.end()), curve.msd, plain);
    UNSCOPED_INFO("without the floor: early " << g.early_exponent << " late " << g.late_exponent << " tau0 " << g.crossover);
    CHECK(g.early_exponent < 1.0);
  }
  for (auto* single : {subdiffusive, superdiffusive}) {
    const auto f = fit_of(gaussian_trajectory(T, D, single, single(10), 4), D);
    INFO("early " << f.early_exponent << " late " << f.late_exponent << " breakpoint " << f.breakpoint << " single "
                  << f.single_exponent << " " << f.verdict);
    CHECK_FALSE(f.crossover_found);
    CHECK(std::isnan(f.crossover));
    CHECK(std::fabs(f.single_exponent - (single == subdiffusive ? 0.7 : 1.3)) < 0.1);
    CHECK(f.verdict.rfind("no crossover found", 0) == 0);
  }
}

TEST_CASE("fit: band exponents are the median and quartiles of beta over the band", "[fit]") {
  MsdCurve c;
  for (std::size_t t = 1; t < 1000; ++t) c.lag.push_back(t), c.msd.push_back(two_regime(double(t)));
  const auto beta = local_exponent(c, 20);
  const auto s = band_exponent(beta, 20, 4, 40);
  CHECK(s.lags == 17);  // tau = 4 .. 20
  CHECK(s.median == Approx(1.3).margin(1e-9));
  const auto l = band_exponent(beta, 20, 300, 900);
  CHECK(l.median == Approx(0.7).margin(1e-9));
  CHECK(l.q25 == Approx(0.7).margin(1e-9));
  CHECK(band_exponent(beta, 20, 2000, 3000).lags == 0);
  CHECK(std::isnan(band_exponent(beta, 20, 2000, 3000).median));
}

TEST_CASE("tail index: Gaussian gives 2, Cauchy 1, symmetric alpha-stable gives alpha", "[fit][tail]") {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> u(-M_PI / 2, M_PI / 2);
  std::exponential_distribution<double> ex(1.0);
  auto stable = [&](double a) {  // Chambers-Mallows-Stuck, symmetric
    const double v = u(rng), w = ex(rng);
    return std::sin(a * v) / std::pow(std::cos(v), 1 / a) * std::pow(std::cos(v - a * v) / w, (1 - a) / a);
  };
  const std::size_t N = 1 << 20;
  std::vector<double> g(N), c(N), s(N);
  for (std::size_t i = 0; i < N; ++i) g[i] = normal(rng), c[i] = stable(1.0), s[i] = stable(1.5);
  CHECK(tail_index(g) == Approx(2.0).margin(0.1));
  CHECK(tail_index(c) == Approx(1.0).margin(0.1));
  CHECK(tail_index(s) == Approx(1.5).margin(0.1));
  CHECK(std::isnan(tail_index({1.0, 2.0})));
  CHECK_THROWS_AS(TailIndexEstimator(1), std::invalid_argument);
}
