#include "anodiff/landscape/landscape_2d.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace anodiff {

namespace {
// Cell index and weight of coordinate u in [-1, 1] on n nodes of spacing h.
inline void locate(double u, std::size_t n, double h, std::size_t& k, double& f) {
  double pos = (u + 1.0) / h;
  pos = std::clamp(pos, 0.0, double(n - 1));
  k = std::min(static_cast<std::size_t>(pos), n - 2);
  f = pos - double(k);
}

inline double bilinear(const std::vector<double>& v, std::size_t n, std::size_t i, std::size_t j, double fy,
                       double fx) {
  const double* r0 = v.data() + i * n + j;
  const double* r1 = r0 + n;
  return (1 - fy) * ((1 - fx) * r0[0] + fx * r0[1]) + fy * ((1 - fx) * r1[0] + fx * r1[1]);
}
}  // namespace

Landscape2D Landscape2D::from_heights(const Surface& z, std::size_t grid, double offset) {
  if (grid < 3) throw std::invalid_argument(fmt::format("Landscape2D: the grid needs at least 3 points, got {}", grid));
  if (z.rows < 2 || z.cols < 2) throw std::invalid_argument("Landscape2D: the height field needs 2 x 2 points");
  Landscape2D l;
  l.n_ = grid;
  l.h_ = 2.0 / double(grid - 1);
  const std::size_t n = grid;
  l.loss_.resize(n * n);
  // Node t of the fine grid sits at fraction t / (n - 1) of the source's extent.
  std::vector<std::size_t> ci(n), cj(n);
  std::vector<double> fi(n), fj(n);
  for (std::size_t t = 0; t < n; ++t) {
    const double pi = double(t) / double(n - 1) * double(z.rows - 1);
    const double pj = double(t) / double(n - 1) * double(z.cols - 1);
    ci[t] = std::min(static_cast<std::size_t>(pi), z.rows - 2);
    cj[t] = std::min(static_cast<std::size_t>(pj), z.cols - 2);
    fi[t] = pi - double(ci[t]);
    fj[t] = pj - double(cj[t]);
  }
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      l.loss_[i * n + j] = offset - bilinear(z.z, z.cols, ci[i], cj[j], fi[i], fj[j]);
    }
  }
  l.gx_.resize(n * n);
  l.gy_.resize(n * n);
  const double h = l.h_;
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const double* L = l.loss_.data();
      l.gx_[i * n + j] = j == 0       ? (L[i * n + 1] - L[i * n]) / h
                         : j == n - 1 ? (L[i * n + j] - L[i * n + j - 1]) / h
                                      : (L[i * n + j + 1] - L[i * n + j - 1]) / (2 * h);
      l.gy_[i * n + j] = i == 0       ? (L[n + j] - L[j]) / h
                         : i == n - 1 ? (L[i * n + j] - L[(i - 1) * n + j]) / h
                                      : (L[(i + 1) * n + j] - L[(i - 1) * n + j]) / (2 * h);
    }
  }
  return l;
}

double Landscape2D::loss(double x, double y) const {
  std::size_t i, j;
  double fy, fx;
  locate(y, n_, h_, i, fy);
  locate(x, n_, h_, j, fx);
  return bilinear(loss_, n_, i, j, fy, fx);
}

std::array<double, 2> Landscape2D::gradient(double x, double y) const {
  std::size_t i, j;
  double fy, fx;
  locate(y, n_, h_, i, fy);
  locate(x, n_, h_, j, fx);
  return {bilinear(gx_, n_, i, j, fy, fx), bilinear(gy_, n_, i, j, fy, fx)};
}

Surface Landscape2D::surface() const {
  Surface s;
  s.rows = s.cols = n_;
  s.x_min = s.y_min = -1;
  s.x_max = s.y_max = 1;
  s.z = loss_;
  return s;
}

}  // namespace anodiff
