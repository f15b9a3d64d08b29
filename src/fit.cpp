#include "anodiff/fit.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <Eigen/Dense>

namespace anodiff {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

PowerLawFit fit_power_law(const std::vector<double>& x, const std::vector<double>& y, double x_min, double x_max) {
  PowerLawFit f;
  std::vector<double> lx, ly;
  const std::size_t n = std::min(x.size(), y.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] >= x_min && x[i] <= x_max && x[i] > 0 && y[i] > 0 && std::isfinite(x[i]) && std::isfinite(y[i])) {
      lx.push_back(std::log(x[i]));
      ly.push_back(std::log(y[i]));
    }
  }
  f.points = lx.size();
  if (f.points < 2) return f;
  f.x_min = std::exp(*std::min_element(lx.begin(), lx.end()));
  f.x_max = std::exp(*std::max_element(lx.begin(), lx.end()));
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) mx += lx[i], my += ly[i];
  mx /= static_cast<double>(lx.size());
  my /= static_cast<double>(ly.size());
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
  }
  if (!(sxx > 0)) return f;
  f.exponent = sxy / sxx;
  const double intercept = my - f.exponent * mx;
  f.prefactor = std::exp(intercept);
  if (lx.size() > 2) {
    double sse = 0;
    for (std::size_t i = 0; i < lx.size(); ++i) {
      const double r = ly[i] - intercept - f.exponent * lx[i];
      sse += r * r;
    }
    f.exponent_error = std::sqrt(sse / static_cast<double>(lx.size() - 2) / sxx);
  }
  return f;
}

namespace {

// Least squares of y on [1, min(x - x0, 0), max(x - x0, 0)]; returns SSE and the coefficients.
double hinge_fit(const std::vector<double>& x, const std::vector<double>& y, double x0, Eigen::Vector3d& beta) {
  const Eigen::Index n = static_cast<Eigen::Index>(x.size());
  Eigen::MatrixXd A(n, 3);
  Eigen::VectorXd b(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    A(i, 0) = 1.0;
    A(i, 1) = std::min(x[i] - x0, 0.0);
    A(i, 2) = std::max(x[i] - x0, 0.0);
    b(i) = y[i];
  }
  beta = A.colPivHouseholderQr().solve(b);
  return (A * beta - b).squaredNorm();
}

}  // namespace

CrossoverFit fit_crossover(const std::vector<double>& lag, const std::vector<double>& msd,
                           const CrossoverOptions& options) {
  CrossoverFit f;
  const std::size_t n = std::min(lag.size(), msd.size());
  double largest = 0;
  for (std::size_t i = 0; i < n; ++i) largest = std::max(largest, lag[i]);
  const double lo = std::max(options.min_lag, 1e-300);
  const double hi = options.max_lag > 0 ? options.max_lag : largest / 2;
  // Log-spaced sampling: the valid point closest to each grid value 10^(k/ppd), without repeats.
  std::vector<std::pair<double, double>> valid;
  for (std::size_t i = 0; i < n; ++i) {
    if (lag[i] >= lo && lag[i] <= hi && msd[i] > 0 && std::isfinite(msd[i])) valid.emplace_back(lag[i], msd[i]);
  }
  std::sort(valid.begin(), valid.end());
  std::vector<double> x, y;
  if (!valid.empty()) {
    const double ppd = static_cast<double>(std::max<std::size_t>(options.points_per_decade, 1));
    const double l0 = std::log10(valid.front().first);
    const double l1 = std::log10(valid.back().first);
    std::size_t last = valid.size();
    for (double g = l0; g <= l1 + 1e-12; g += 1.0 / ppd) {
      const double target = std::pow(10.0, g);
      auto it = std::lower_bound(valid.begin(), valid.end(), std::make_pair(target, -1e308));
      std::size_t k = static_cast<std::size_t>(it - valid.begin());
      if (k == valid.size()) k = valid.size() - 1;
      if (k > 0 && std::fabs(std::log(valid[k - 1].first / target)) < std::fabs(std::log(valid[k].first / target))) {
        --k;
      }
      if (k != last) {
        x.push_back(std::log(valid[k].first));
        y.push_back(std::log(valid[k].second));
        last = k;
      }
    }
  }
  f.points = x.size();
  const std::size_t mp = std::max<std::size_t>(options.min_points, 2);
  if (x.size() < 2 * mp || x.size() < 5) return f;
  f.lag_min = std::exp(x.front());
  f.lag_max = std::exp(x.back());
  // Grid search of the breakpoint between the mp-th point from each end.
  const double a = x[mp - 1];
  const double b = x[x.size() - mp];
  double best_sse = 1e308, best_x0 = a;
  Eigen::Vector3d beta;
  const int grid = 400;
  for (int k = 0; k <= grid; ++k) {
    const double x0 = a + (b - a) * k / grid;
    const double sse = hinge_fit(x, y, x0, beta);
    if (sse < best_sse) best_sse = sse, best_x0 = x0;
  }
  // Gauss-Newton refinement of (c, b1, b2, x0), kept inside [a, b].
  double x0 = best_x0;
  hinge_fit(x, y, x0, beta);
  const Eigen::Index m = static_cast<Eigen::Index>(x.size());
  Eigen::MatrixXd J(m, 4);
  auto jacobian = [&](double at, const Eigen::Vector3d& p) {
    for (Eigen::Index i = 0; i < m; ++i) {
      const double d = x[i] - at;
      J(i, 0) = 1.0;
      J(i, 1) = std::min(d, 0.0);
      J(i, 2) = std::max(d, 0.0);
      J(i, 3) = d < 0 ? -p(1) : -p(2);
    }
  };
  for (int it = 0; it < 20; ++it) {
    jacobian(x0, beta);
    Eigen::VectorXd r(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      const double d = x[i] - x0;
      r(i) = y[i] - (beta(0) + beta(1) * std::min(d, 0.0) + beta(2) * std::max(d, 0.0));
    }
    const Eigen::Vector4d step = J.colPivHouseholderQr().solve(r);
    const double nx0 = std::clamp(x0 + step(3), a, b);
    Eigen::Vector3d nb;
    const double sse = hinge_fit(x, y, nx0, nb);
    if (sse < best_sse - 1e-15 * std::max(1.0, best_sse)) {
      best_sse = sse;
      x0 = nx0;
      beta = nb;
    } else {
      break;
    }
  }
  jacobian(x0, beta);
  const double dof = static_cast<double>(m - 4);
  const double s2 = dof > 0 ? best_sse / dof : kNaN;
  const Eigen::Matrix4d jtj = J.transpose() * J;
  Eigen::FullPivLU<Eigen::Matrix4d> lu(jtj);
  f.early_exponent = beta(1);
  f.late_exponent = beta(2);
  f.crossover = std::exp(x0);
  f.rms = std::sqrt(best_sse / static_cast<double>(m));
  if (lu.isInvertible()) {
    const Eigen::Matrix4d cov = s2 * lu.inverse();
    f.early_error = std::sqrt(std::max(0.0, cov(1, 1)));
    f.late_error = std::sqrt(std::max(0.0, cov(2, 2)));
    f.crossover_error = f.crossover * std::sqrt(std::max(0.0, cov(3, 3)));
  }
  f.valid = true;
  return f;
}

TailIndexEstimator::TailIndexEstimator(std::size_t block) : m_(block) {
  if (block < 2) throw std::invalid_argument("TailIndexEstimator: the block size must be at least 2");
}

double TailIndexEstimator::alpha() const {
  if (k_ < 2 || n_ == 0) return kNaN;
  const double diff = log_y_ / static_cast<double>(k_) - log_x_ / static_cast<double>(n_);
  return std::log(static_cast<double>(m_)) / diff;
}

double tail_index(const std::vector<double>& samples, std::size_t block) {
  std::size_t nonzero = 0;
  for (double v : samples) nonzero += (v != 0.0 && v == v);
  if (block == 0) block = static_cast<std::size_t>(std::floor(std::sqrt(static_cast<double>(nonzero))));
  if (block < 2) return kNaN;
  TailIndexEstimator e(block);
  for (double v : samples) e.add(v);
  return e.alpha();
}

}  // namespace anodiff
