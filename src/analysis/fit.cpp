#include "anodiff/analysis/fit.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "anodiff/base/error.hpp"

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

// Log-spaced sampling of (lag, msd) for lags in [lo, hi]: the valid point closest to each grid value 10^(k/ppd),
// without repeats; x = ln lag, y = ln msd.
void log_sample(const std::vector<double>& lag, const std::vector<double>& msd, double lo, double hi,
                std::size_t points_per_decade, std::vector<double>& x, std::vector<double>& y) {
  const std::size_t n = std::min(lag.size(), msd.size());
  std::vector<std::pair<double, double>> valid;
  for (std::size_t i = 0; i < n; ++i) {
    if (lag[i] >= lo && lag[i] <= hi && lag[i] > 0 && msd[i] > 0 && std::isfinite(msd[i])) {
      valid.emplace_back(lag[i], msd[i]);
    }
  }
  std::sort(valid.begin(), valid.end());
  if (valid.empty()) return;
  const double ppd = static_cast<double>(std::max<std::size_t>(points_per_decade, 1));
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

// The model of fit_crossover with parameters p = (c, early, late, x0, f): ln(F + exp(hinge)), F = f * floor_scale.
struct HingeModel {
  const std::vector<double>& x;
  const std::vector<double>& y;
  double floor_scale;  // MSD at the smallest fitted lag; the floor is a fraction f in [0, 1) of it
  bool single;         // one power law: early = late, x0 unused

  [[nodiscard]] double value(const Eigen::VectorXd& p, double xi) const {
    const double d = xi - p(3);
    const double h = p(0) + (single ? p(1) * d : p(1) * std::min(d, 0.0) + p(2) * std::max(d, 0.0));
    const double F = p(4) * floor_scale;
    return F > 0 ? std::log(F + std::exp(h)) : h;
  }
  [[nodiscard]] double sse(const Eigen::VectorXd& p) const {
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double r = y[i] - value(p, x[i]);
      s += r * r;
    }
    return s;
  }
  // Least squares of (c, early, late) for a fixed breakpoint and floor, on ln(msd - F) (exact for F = 0, a start
  // otherwise); returns the SSE of the full model.
  double linear_start(double x0, double f, Eigen::VectorXd& p) const {
    const Eigen::Index n = static_cast<Eigen::Index>(x.size());
    const double F = f * floor_scale;
    Eigen::MatrixXd A(n, single ? 2 : 3);
    Eigen::VectorXd b(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double m = std::exp(y[i]) - F;
      const double d = x[i] - x0;
      A(i, 0) = 1.0;
      if (single) {
        A(i, 1) = d;
      } else {
        A(i, 1) = std::min(d, 0.0);
        A(i, 2) = std::max(d, 0.0);
      }
      b(i) = m > 0 ? std::log(m) : std::log(std::exp(y[i]) * 1e-3);
    }
    const Eigen::VectorXd beta = A.colPivHouseholderQr().solve(b);
    p.resize(5);
    p << beta(0), beta(1), single ? beta(1) : beta(2), x0, f;
    return sse(p);
  }
};

// Numerical Jacobian of the model's log-MSD with respect to the parameters `free` (central differences).
Eigen::MatrixXd numerical_jacobian(const HingeModel& model, const Eigen::VectorXd& q, const std::vector<int>& free) {
  const Eigen::Index m = static_cast<Eigen::Index>(model.x.size());
  Eigen::MatrixXd J(m, static_cast<Eigen::Index>(free.size()));
  for (std::size_t j = 0; j < free.size(); ++j) {
    const int idx = free[j];
    const double h = 1e-6 * std::max(1.0, std::fabs(q(idx)));
    Eigen::VectorXd qp = q, qm = q;
    qp(idx) += h;
    qm(idx) -= h;
    if (model.single && idx == 1) qp(2) = qp(1), qm(2) = qm(1);
    for (Eigen::Index i = 0; i < m; ++i) {
      const double xi = model.x[static_cast<std::size_t>(i)];
      J(i, Eigen::Index(j)) = (model.value(qp, xi) - model.value(qm, xi)) / (2 * h);
    }
  }
  return J;
}

// Levenberg-Marquardt on the free parameters of `model`, x0 kept in [a, b], f in [0, f_max]; returns the SSE.
double refine(const HingeModel& model, Eigen::VectorXd& p, const std::vector<int>& free, double a, double b,
              double f_max) {
  const Eigen::Index m = static_cast<Eigen::Index>(model.x.size());
  const Eigen::Index k = static_cast<Eigen::Index>(free.size());
  auto clamp = [&](Eigen::VectorXd& q) {
    q(3) = std::clamp(q(3), a, b);
    q(4) = std::clamp(q(4), 0.0, f_max);
    if (model.single) q(2) = q(1);
  };
  double best = model.sse(p), lambda = 1e-3;
  for (int it = 0; it < 100; ++it) {
    const Eigen::MatrixXd J = numerical_jacobian(model, p, free);
    Eigen::VectorXd r(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      r(i) = model.y[static_cast<std::size_t>(i)] - model.value(p, model.x[static_cast<std::size_t>(i)]);
    }
    const Eigen::MatrixXd JtJ = J.transpose() * J;
    const Eigen::VectorXd g = J.transpose() * r;
    bool improved = false, tiny = false;
    for (int tries = 0; tries < 12 && !improved; ++tries) {
      Eigen::MatrixXd Aug = JtJ;
      for (Eigen::Index j = 0; j < k; ++j) Aug(j, j) += lambda * std::max(JtJ(j, j), 1e-12);
      const Eigen::VectorXd step = Aug.ldlt().solve(g);
      Eigen::VectorXd q = p;
      for (Eigen::Index j = 0; j < k; ++j) q(free[static_cast<std::size_t>(j)]) += step(j);
      clamp(q);
      const double s = model.sse(q);
      if (s < best) {
        tiny = best - s < 1e-12 * std::max(best, 1e-300);
        p = q, best = s, lambda = std::max(lambda / 10, 1e-12), improved = true;
      } else {
        lambda *= 10;
      }
    }
    if (!improved || tiny) break;
  }
  return best;
}

// The free parameters that did not end on a bound (a parameter held at its bound leaves the error calculation).
std::vector<int> interior(const Eigen::VectorXd& p, const std::vector<int>& free, double a, double b, double f_max) {
  std::vector<int> out;
  for (int idx : free) {
    if (idx == 3 && (p(3) <= a || p(3) >= b)) continue;
    if (idx == 4 && (p(4) <= 0 || p(4) >= f_max)) continue;
    out.push_back(idx);
  }
  return out;
}

// Standard errors of the free parameters: s^2 (J^T J)^-1.
std::vector<double> standard_errors(const Eigen::MatrixXd& J, double sse) {
  const Eigen::Index m = J.rows(), k = J.cols();
  std::vector<double> out(static_cast<std::size_t>(k), kNaN);
  if (m <= k) return out;
  const Eigen::MatrixXd jtj = J.transpose() * J;
  Eigen::FullPivLU<Eigen::MatrixXd> lu(jtj);
  if (!lu.isInvertible()) return out;
  const Eigen::MatrixXd cov = sse / static_cast<double>(m - k) * lu.inverse();
  for (Eigen::Index j = 0; j < k; ++j) out[static_cast<std::size_t>(j)] = std::sqrt(std::max(0.0, cov(j, j)));
  return out;
}

}  // namespace

void CrossoverOptions::validate(const char* owner, const std::string& path) const {
  require(std::isfinite(min_lag) && min_lag >= 1, owner, fmt::format("{}min_lag must be at least 1, got {}", path, min_lag));
  require(std::isfinite(max_lag) && max_lag >= 0, owner,
          fmt::format("{}max_lag must be 0 (automatic) or positive, got {}", path, max_lag));
  require(max_lag_fraction > 0 && max_lag_fraction <= 1, owner,
          fmt::format("{}max_lag_fraction must lie in (0, 1], got {}", path, max_lag_fraction));
  require(points_per_decade >= 1, owner, fmt::format("{}points_per_decade must be at least 1, got 0", path));
  require(min_points >= 1, owner, fmt::format("{}min_points must be at least 1, got 0", path));
  require(std::isfinite(min_exponent_change) && min_exponent_change >= 0, owner,
          fmt::format("{}min_exponent_change must be finite and >= 0, got {}", path, min_exponent_change));
}

CrossoverFit fit_crossover(const std::vector<double>& lag, const std::vector<double>& msd,
                           const CrossoverOptions& options) {
  options.validate("fit_crossover: CrossoverOptions");
  CrossoverFit f;
  const std::size_t n = std::min(lag.size(), msd.size());
  double largest = 0;
  for (std::size_t i = 0; i < n; ++i) largest = std::max(largest, lag[i]);
  const double lo = std::max(options.min_lag, 1e-300);
  const double hi = options.max_lag > 0 ? options.max_lag : options.max_lag_fraction * (largest + 1);
  std::vector<double> x, y;
  log_sample(lag, msd, lo, hi, options.points_per_decade, x, y);
  f.points = x.size();
  const std::size_t mp = std::max<std::size_t>(options.min_points, 2);
  if (x.size() < 2 * mp || x.size() < 6) {
    f.verdict = "too few lags";
    return f;
  }
  f.lag_min = std::exp(x.front());
  f.lag_max = std::exp(x.back());
  const double scale = std::exp(y.front());
  // The floor is capped at 0.9 of the smallest fitted MSD: subtracting a floor steepens the curve below it, and a
  // floor of nearly all of the MSD could make any upward-bending curve look superdiffusive.
  const double f_max = options.noise_floor ? 0.9 : 0.0;
  const std::vector<double> floors =
      options.noise_floor ? std::vector<double>{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9}
                          : std::vector<double>{0};
  // Breakpoint search range: between the mp-th sampled point from each end.
  const double a = x[mp - 1];
  const double b = x[x.size() - mp];
  HingeModel model{x, y, scale, false};
  Eigen::VectorXd best_p, p;
  double best = 1e308;
  const int grid = 200;
  for (double fl : floors) {
    for (int k = 0; k <= grid; ++k) {
      const double s = model.linear_start(a + (b - a) * k / grid, fl, p);
      if (s < best) best = s, best_p = p;
    }
  }
  std::vector<int> free = {0, 1, 2, 3};
  if (options.noise_floor) free.push_back(4);
  best = refine(model, best_p, free, a, b, f_max);
  const auto kept = interior(best_p, free, a, b, f_max);
  const auto kept_err = standard_errors(numerical_jacobian(model, best_p, kept), best);
  std::vector<double> err(5, kNaN);
  for (std::size_t j = 0; j < kept.size(); ++j) err[static_cast<std::size_t>(kept[j])] = kept_err[j];
  f.early_exponent = best_p(1);
  f.late_exponent = best_p(2);
  f.breakpoint = std::exp(best_p(3));
  f.noise_floor = best_p(4) * scale;
  f.floor_share = best_p(4);
  f.rms = std::sqrt(best / static_cast<double>(x.size()));
  f.early_error = err[1];
  f.late_error = err[2];
  // One power law (+ floor) over the same lags, for a run without a crossover.
  {
    HingeModel single{x, y, scale, true};
    Eigen::VectorXd q;
    double s1 = 1e308;
    for (double fl : floors) {
      Eigen::VectorXd t;
      const double s = single.linear_start(x.front(), fl, t);
      if (s < s1) s1 = s, q = t;
    }
    std::vector<int> sfree = {0, 1};
    if (options.noise_floor) sfree.push_back(4);
    s1 = refine(single, q, sfree, x.front(), x.front(), f_max);
    f.single_exponent = q(1);
    f.single_error = standard_errors(numerical_jacobian(single, q, interior(q, sfree, x.front(), x.front(), f_max)), s1)[1];
  }
  // A breakpoint within one sampling step of either bound is the search hitting its edge: no crossover inside.
  const double step = std::log(10.0) / static_cast<double>(std::max<std::size_t>(options.points_per_decade, 1));
  const bool on_bound = best_p(3) <= a + 0.5 * step || best_p(3) >= b - 0.5 * step;
  const bool bends = std::fabs(f.late_exponent - f.early_exponent) >= options.min_exponent_change;
  f.valid = true;
  f.crossover_found = !on_bound && bends;
  if (f.crossover_found) {
    f.crossover = f.breakpoint;
    f.crossover_error = f.crossover * err[3];
    f.verdict = "crossover";
  } else {
    f.verdict = on_bound ? fmt::format("no crossover found: the best breakpoint lies on the search bound (lag {:.0f})",
                                       f.breakpoint)
                         : fmt::format("no crossover found: the slopes differ by {:.2f} < {:.2f}",
                                       std::fabs(f.late_exponent - f.early_exponent), options.min_exponent_change);
  }
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
