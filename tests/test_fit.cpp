#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "anodiff/fit.hpp"

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
  CHECK(f.lag_max <= 500);
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
