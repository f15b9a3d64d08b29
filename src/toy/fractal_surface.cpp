#include "anodiff/toy/fractal_surface.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>
#include <random>
#include <stdexcept>

#include <fmt/format.h>
#include <unsupported/Eigen/FFT>

#include "anodiff/base/error.hpp"
#include "anodiff/io/csv.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "detail/random.hpp"

namespace anodiff {
namespace fs = std::filesystem;

void Surface::write_npy(const fs::path& path) const { anodiff::write_npy(path, z.data(), {rows, cols}); }

void Surface::write_csv(const fs::path& path, std::size_t stride) const {
  CsvWriter out(path, "x,y,z");
  stride = std::max<std::size_t>(stride, 1);
  for (std::size_t i = 0; i < rows; i += stride) {
    for (std::size_t j = 0; j < cols; j += stride) out.row("{:.6g},{:.6g},{:.9g}", x(j), y(i), at(i, j));
    out.raw("");  // gnuplot's blank line between scan lines
  }
  out.flush();
}

Surface diamond_square(int n, double roughness, std::uint64_t seed) {
  if (n < 1 || n > 13) throw std::invalid_argument(fmt::format("diamond_square: n must lie in 1..13, got {}", n));
  if (!(roughness >= 0)) {
    throw std::invalid_argument(fmt::format("diamond_square: the roughness must be >= 0, got {}", roughness));
  }
  const std::size_t size = (std::size_t{1} << n) + 1;
  Surface s;
  s.rows = s.cols = size;
  s.x_min = s.y_min = 1.0;
  s.x_max = s.y_max = 2.0;
  s.z.assign(size * size, 0.0);
  double* z = s.z.data();
  detail::Rng rng(seed);
  double r = roughness;
  for (std::size_t step = size - 1; step > 1; step /= 2) {
    const std::size_t h = step / 2;
    // Diamond step: centres of squares.
    for (std::size_t i = h; i < size; i += step) {
      for (std::size_t j = h; j < size; j += step) {
        const double mean = 0.25 * (z[(i - h) * size + j - h] + z[(i - h) * size + j + h] + z[(i + h) * size + j - h] +
                                    z[(i + h) * size + j + h]);
        z[i * size + j] = mean + (rng.uniform() - 0.5) * r;
      }
    }
    // Square step: edge midpoints, mean of the 3 or 4 neighbours at distance h.
    for (int pass = 0; pass < 2; ++pass) {
      const std::size_t i0 = pass == 0 ? 0 : h, j0 = pass == 0 ? h : 0;
      for (std::size_t i = i0; i < size; i += step) {
        for (std::size_t j = j0; j < size; j += step) {
          double acc = 0;
          int cnt = 0;
          if (i >= h) acc += z[(i - h) * size + j], ++cnt;
          if (i + h < size) acc += z[(i + h) * size + j], ++cnt;
          if (j >= h) acc += z[i * size + j - h], ++cnt;
          if (j + h < size) acc += z[i * size + j + h], ++cnt;
          z[i * size + j] = acc / cnt + (rng.uniform() - 0.5) * r;
        }
      }
    }
    r /= 2;
  }
  return s;
}

namespace {

// In-place 2-D complex FFT (inverse when `inverse`), rows then columns, parallel over lines.
void fft2(std::vector<std::complex<double>>& a, std::size_t m, bool inverse) {
#pragma omp parallel
  {
    Eigen::FFT<double> fft;
    fft.SetFlag(Eigen::FFT<double>::Unscaled);
    std::vector<std::complex<double>> in(m), out(m);
#pragma omp for schedule(static)
    for (std::size_t i = 0; i < m; ++i) {
      const auto row = a.begin() + static_cast<std::ptrdiff_t>(i * m);
      std::copy(row, row + static_cast<std::ptrdiff_t>(m), in.begin());
      inverse ? fft.inv(out, in) : fft.fwd(out, in);
      std::copy(out.begin(), out.end(), row);
    }
    // Columns in groups of 8 for cache-friendly gathers.
#pragma omp for schedule(static)
    for (std::size_t j0 = 0; j0 < m; j0 += 8) {
      const std::size_t j1 = std::min(m, j0 + 8);
      std::vector<std::vector<std::complex<double>>> cols(j1 - j0, std::vector<std::complex<double>>(m));
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = j0; j < j1; ++j) cols[j - j0][i] = a[i * m + j];
      }
      for (std::size_t j = j0; j < j1; ++j) {
        inverse ? fft.inv(out, cols[j - j0]) : fft.fwd(out, cols[j - j0]);
        cols[j - j0].swap(out);
        out.resize(m);
      }
      for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = j0; j < j1; ++j) a[i * m + j] = cols[j - j0][i];
      }
    }
  }
}

}  // namespace

Surface spectral_surface(std::size_t size, double hurst, std::uint64_t seed) {
  if (!(hurst > 0 && hurst < 1)) {
    throw std::invalid_argument(fmt::format("spectral_surface: the Hurst exponent must lie in (0, 1), got {}", hurst));
  }
  if (size < 4) throw std::invalid_argument(fmt::format("spectral_surface: size must be at least 4, got {}", size));
  const std::size_t m = size;
  std::vector<std::complex<double>> a(m * m);
  const double twopi = 2.0 * M_PI;
  // Rows of the spectrum are independent streams, so the result does not depend on the thread count.
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < m; ++i) {
    detail::Rng rng(detail::mix(seed, i));
    const double ki = (i <= m / 2 ? double(i) : double(i) - double(m)) / double(m);
    for (std::size_t j = 0; j < m; ++j) {
      const double kj = (j <= m / 2 ? double(j) : double(j) - double(m)) / double(m);
      const double k = std::sqrt(ki * ki + kj * kj);
      const double amp = (i == 0 && j == 0) ? 0.0 : std::pow(k, -(hurst + 1.0));
      const double phase = twopi * rng.uniform();
      a[i * m + j] = std::polar(amp, phase);
    }
  }
  fft2(a, m, /*inverse=*/true);
  Surface s;
  s.rows = s.cols = m;
  s.z.resize(m * m);
  const double scale = 1.0 / (double(m) * double(m));
  for (std::size_t k = 0; k < m * m; ++k) s.z[k] = a[k].real() * scale;
  return s;
}

const char* to_string(ShuffleRecipe recipe) {
  switch (recipe) {
    case ShuffleRecipe::study: return "study";
    case ShuffleRecipe::rescaled: return "rescaled";
  }
  return "?";
}

namespace {

// Separable Gaussian filter of `radius` taps each side (weights exp(-k^2 / 2 sigma^2) normalised to sum 1), edges by
// clamping (MATLAB imgaussfilt's 'replicate' padding). The 2-D kernel is the product of the two 1-D ones, so this is
// the 2-D Gaussian of (2 radius + 1)^2 taps normalised to sum 1.
void gaussian_filter(Surface& s, double sigma, int radius) {
  std::vector<double> w(2 * radius + 1);
  double total = 0;
  for (int k = -radius; k <= radius; ++k) total += w[k + radius] = std::exp(-0.5 * k * k / (sigma * sigma));
  for (auto& v : w) v /= total;
  std::vector<double> tmp(s.z.size());
  const long R = long(s.rows), C = long(s.cols);
#pragma omp parallel for schedule(static)
  for (long i = 0; i < R; ++i) {
    for (long j = 0; j < C; ++j) {
      double acc = 0;
      for (int k = -radius; k <= radius; ++k) acc += w[k + radius] * s.z[i * C + std::clamp(j + k, 0L, C - 1)];
      tmp[i * C + j] = acc;
    }
  }
#pragma omp parallel for schedule(static)
  for (long i = 0; i < R; ++i) {
    for (long j = 0; j < C; ++j) {
      double acc = 0;
      for (int k = -radius; k <= radius; ++k) acc += w[k + radius] * tmp[std::clamp(i + k, 0L, R - 1) * C + j];
      s.z[i * C + j] = acc;
    }
  }
}

}  // namespace

Surface shuffled_surface(const Surface& surface, double sigma, double power, std::uint64_t seed,
                         ShuffleRecipe recipe) {
  if (!(sigma >= 0) || !std::isfinite(sigma)) {
    throw std::invalid_argument(fmt::format("shuffled_surface: sigma must be finite and >= 0, got {}", sigma));
  }
  if (!std::isfinite(power)) {
    throw std::invalid_argument(fmt::format("shuffled_surface: the power must be finite, got {}", power));
  }
  if (recipe != ShuffleRecipe::study && recipe != ShuffleRecipe::rescaled) {
    throw std::invalid_argument(fmt::format("shuffled_surface: unknown recipe {}", int(recipe)));
  }
  Surface s = surface;
  detail::Rng rng(seed);
  for (std::size_t k = s.z.size(); k > 1; --k) std::swap(s.z[k - 1], s.z[rng.below(k)]);
  if (recipe == ShuffleRecipe::study) {
    // imgaussfilt(z, sigma): FilterSize 2 ceil(2 sigma) + 1, i.e. radius ceil(2 sigma); then z.^power, whose value
    // for a negative z MATLAB makes complex: |z|^p e^(i p pi); anodiff keeps its real part.
    if (sigma > 0) gaussian_filter(s, sigma, static_cast<int>(std::ceil(2 * sigma)));
    const double negative = std::cos(power * M_PI);
    for (auto& v : s.z) v = v >= 0 ? std::pow(v, power) : negative * std::pow(-v, power);
    return s;
  }
  if (sigma > 0) gaussian_filter(s, sigma, static_cast<int>(std::ceil(4 * sigma)));
  const auto [lo, hi] = std::minmax_element(s.z.begin(), s.z.end());
  const double a = *lo, span = *hi - *lo;
  for (auto& v : s.z) v = std::pow(span > 0 ? (v - a) / span : 0.0, power);
  return s;
}

Surface cone_surface(std::size_t size) {
  if (size < 2) throw std::invalid_argument(fmt::format("cone_surface: size must be at least 2, got {}", size));
  Surface s;
  s.rows = s.cols = size;
  s.x_min = s.y_min = 1.0;
  s.x_max = s.y_max = 2.0;
  s.z.resize(size * size);
  for (std::size_t i = 0; i < size; ++i) {
    for (std::size_t j = 0; j < size; ++j) s.z[i * size + j] = 1.0 - std::hypot(s.x(j) - 1.5, s.y(i) - 1.5);
  }
  return s;
}

}  // namespace anodiff
