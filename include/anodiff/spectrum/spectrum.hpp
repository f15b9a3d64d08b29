#pragma once
/// \file spectrum.hpp  (anodiff::core) The spectrum of a symmetric operator known only through its products y = A x
/// (a Hessian by double backward, or a plain matrix): the extreme eigenpairs (Spectra's implicitly restarted Lanczos,
/// or deflated power iteration), the trace (Hutch++) and the spectral density (stochastic Lanczos quadrature). The
/// Hessian along a training run, as plain data, is hessian_spectrum.hpp.
#include <cstddef>
#include <cstdint>
#include <string>
#include <optional>
#include <vector>

#include <Eigen/Core>

namespace anodiff {

/// A symmetric linear operator on R^D known through its products, in the manner of Spectra's `perform_op`: the
/// algorithms of this header need nothing else. HessianOperator (hessian_operator.hpp) is the LibTorch implementation.
class SymmetricOperator {
 public:
  virtual ~SymmetricOperator() = default;
  /// D, the dimension of the vectors.
  [[nodiscard]] virtual std::size_t dimension() const = 0;
  /// y = A x, for x and y of dimension() values (not overlapping).
  virtual void apply(const double* x, double* y) = 0;
};

/// A dense symmetric matrix as a SymmetricOperator (for tests, and for spectra of small matrices).
class DenseSymmetricOperator : public SymmetricOperator {
 public:
  /// Takes the matrix. Throws std::invalid_argument unless it is square and not empty; symmetry is the caller's
  /// promise (only the product A x is used).
  explicit DenseSymmetricOperator(Eigen::MatrixXd matrix);
  /// The number of rows.
  [[nodiscard]] std::size_t dimension() const override;
  /// y = A x.
  void apply(const double* x, double* y) override;
  /// The matrix.
  [[nodiscard]] const Eigen::MatrixXd& matrix() const { return matrix_; }

 private:
  Eigen::MatrixXd matrix_;
};

/// Which end of the spectrum.
enum class SpectrumEnd {
  largest,  ///< The largest (algebraic) eigenvalues first.
  smallest  ///< The smallest (algebraic) eigenvalues first.
};
/// How the eigenpairs are computed.
enum class EigenMethod {
  lanczos,  ///< Spectra's SymEigsSolver: implicitly restarted Lanczos, as ARPACK and scipy's eigsh.
  power     ///< The study's deflated power iteration (largest in magnitude; see docs/hessian.md).
};
/// When deflated power iteration stops on an eigenvalue.
enum class PowerStop {
  relative_change,  ///< The Rayleigh quotient changed by at most tolerance (relative): the study's / PyHessian's rule.
  residual          ///< |A' v - lambda v| <= tolerance |lambda| on the deflated A': Lanczos's rule (no extra product).
};

/// Options of extreme_eigenpairs.
struct EigenOptions {
  std::size_t k = 20;                 ///< Number of eigenpairs.
  std::size_t ncv = 0;                ///< Lanczos basis size; 0 = min(D, max(2k + 1, 20)) (as ARPACK/scipy's eigsh).
  double tolerance = 1e-4;            ///< Relative: Lanczos's pair converged when |A v - lambda v| <= tol |lambda|.
  std::size_t max_iterations = 1000;  ///< Lanczos: restarts; power iteration: products per eigenvalue.
  std::uint64_t seed = 0;             ///< Random start vector (Lanczos) / start vectors (power iteration).
  SpectrumEnd end = SpectrumEnd::largest;             ///< Which end of the spectrum (Lanczos).
  EigenMethod method = EigenMethod::lanczos;          ///< Lanczos or deflated power iteration.
  PowerStop power_stop = PowerStop::relative_change;  ///< Stopping rule of power iteration.
  std::vector<double> start;          ///< Lanczos start vector (e.g. a previous solve's eigenvectors summed); used
                                      ///< when it has D values and is not zero, else a seeded random one.
  bool eigenvectors = false;          ///< Keep the eigenvectors in the result.
  bool verify = true;                 ///< Compute |A v - lambda v| with one more product per eigenpair.
  /// Checks what does not depend on the operator (k >= 1, ncv 0 or above k, a positive tolerance, a known method and
  /// end); throws std::invalid_argument "OWNER: PATHk must be ..." naming the option and value (a parent passes its
  /// own name and the path to this struct, e.g. "HessianRunOptions", "eigen.").
  void validate(const char* owner = "EigenOptions", const std::string& path = "") const;
};

/// One eigenpair of a solve.
struct Eigenpair {
  std::size_t rank = 0;            ///< 1 = the most extreme (the largest, or the smallest with SpectrumEnd::smallest).
  double eigenvalue = 0;           ///< The Ritz value; an approximation when not converged.
  bool converged = false;          ///< Met the stopping rule (Lanczos: Spectra's; power: EigenOptions::power_stop).
  std::optional<double> residual;  ///< |A v - lambda v| for the unit vector v, when verified (EigenOptions::verify).
  std::optional<double> relative_residual;  ///< residual / |lambda|, when verified.
  std::vector<double> eigenvector;          ///< The unit vector v, when kept (EigenOptions::eigenvectors); else empty.
};

/// The k extreme eigenpairs with their quality; non-convergence is data, not an exception.
struct EigenResult {
  std::vector<Eigenpair> eigenpairs;     ///< k pairs by rank (eigenpairs[i].rank == i + 1), converged or not.
  std::size_t converged_count = 0;       ///< How many of them converged.
  std::size_t products = 0;              ///< Operator products of the solve.
  std::size_t verification_products = 0; ///< Products spent on the residuals.
  std::size_t iterations = 0;            ///< Lanczos restarts, or power iterations in total.
  double seconds = 0;                    ///< Wall time.

  /// Whether every pair converged.
  [[nodiscard]] bool all_converged() const { return converged_count == eigenpairs.size(); }
  /// The eigenvalues by rank.
  [[nodiscard]] std::vector<double> eigenvalues() const;
};

/// The k extreme eigenpairs of `op`. Throws std::invalid_argument (naming the option and its value) unless
/// 1 <= k < D, k < ncv <= D (Lanczos) and tolerance > 0.
[[nodiscard]] EigenResult extreme_eigenpairs(SymmetricOperator& op, const EigenOptions& options = {});

/// Hutch++ (Meyer et al. 2021) estimate of the trace with `products` products (a positive multiple of 3), seeded.
/// Throws std::invalid_argument for another number of products.
[[nodiscard]] double hutchpp_trace(SymmetricOperator& op, std::size_t products = 99, std::uint64_t seed = 0);

/// A spectral density from stochastic Lanczos quadrature: the nodes and weights of `probes` Lanczos runs.
struct SpectralDensity {
  std::vector<double> nodes;    ///< Ritz values of all runs.
  std::vector<double> weights;  ///< Their quadrature weights (sum to 1 over all runs).
  /// The density smoothed with Gaussians of width `sigma` at points `x`.
  [[nodiscard]] std::vector<double> smoothed(const std::vector<double>& x, double sigma) const;
};

/// SLQ density with `probes` Rademacher probes and `steps` Lanczos steps each (full reorthogonalisation; at most
/// probes * steps products). Throws std::invalid_argument unless probes >= 1 and 2 <= steps <= D.
[[nodiscard]] SpectralDensity spectral_density(SymmetricOperator& op, std::size_t probes = 4, std::size_t steps = 40,
                                               std::uint64_t seed = 0);

/// A spectral density with its smoothed curve on a grid.
struct SmoothedDensity {
  SpectralDensity quadrature;  ///< The SLQ nodes and weights.
  double sigma = 0;            ///< Width of the Gaussians.
  std::vector<double> x;       ///< Grid of eigenvalues.
  std::vector<double> y;       ///< The density at x.
};

/// `density` smoothed on `points` (>= 2) grid points spanning its nodes padded by 5% of their range on either side,
/// with Gaussians of width (grid span) / 100: the curve of anodiff-hessian's density_epoch_E.csv. Throws
/// std::invalid_argument for fewer than 2 points or no nodes.
[[nodiscard]] SmoothedDensity smooth_density(const SpectralDensity& density, std::size_t points = 400);

/// A Hutch++ trace estimate.
struct TraceEstimate {
  double trace = 0;          ///< The estimate.
  std::size_t products = 0;  ///< Products it used.
};

}  // namespace anodiff
