#pragma once
/// \file hessian_eigen.hpp  (anodiff::anodiff) Hessian-vector products by double backward, and the Hessian's
/// extreme eigenvalues (Spectra's Lanczos), trace (Hutch++) and spectral density (stochastic Lanczos quadrature).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "anodiff/datasets.hpp"
#include "anodiff/models.hpp"

namespace anodiff {

/// The Hessian of a loss sum_i w_i L_i with respect to all parameters of a module, as a matrix-free operator on
/// flattened parameter vectors (the order of flatten_parameters). Products are in the parameters' dtype.
class HessianOperator {
 public:
  /// One term L_i of the loss (e.g. the mean loss of one fixed batch) and its weight w_i.
  struct Term {
    std::function<torch::Tensor()> loss;  ///< Computes the scalar loss term from the module's current parameters.
    double weight = 1.0;                  ///< w_i.
  };
  /// `reuse_graph`: with a single term, keep the gradient's graph and reuse it for every product (faster, more
  /// memory); otherwise every product recomputes each term's gradient. Throws std::invalid_argument without terms.
  HessianOperator(torch::nn::Module& module, std::vector<Term> terms, bool reuse_graph = true);
  ~HessianOperator();
  HessianOperator(const HessianOperator&) = delete;
  HessianOperator& operator=(const HessianOperator&) = delete;

  /// D, the number of parameters.
  std::size_t dimension() const;
  /// y = H x for x, y of dimension() values.
  void apply(const double* x, double* y);
  /// The gradient of the loss (used to compare the cost of a product with that of a gradient).
  std::vector<double> gradient();
  /// The loss sum_i w_i L_i.
  double loss();
  /// Products computed so far.
  std::size_t products() const;
  /// Seconds spent in products so far.
  double seconds() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Which part of the spectrum.
enum class SpectrumEnd { largest, smallest };
/// How the eigenvalues are computed.
enum class EigenMethod { lanczos, power };
/// When deflated power iteration stops on an eigenvalue.
enum class PowerStop {
  relative_change,  ///< The Rayleigh quotient changed by at most tolerance (relative): the study's / PyHessian's rule.
  residual          ///< |H' v - lambda v| <= tolerance |lambda| on the deflated H': Lanczos's rule (no extra product).
};

/// Options of hessian_eigen.
struct HessianEigenOptions {
  std::size_t k = 20;                 ///< Number of eigenvalues.
  std::size_t ncv = 0;                ///< Lanczos basis size; 0 = max(2k + 1, 20) (as ARPACK/scipy's eigsh).
  double tolerance = 1e-4;            ///< Relative: converged when |H v - lambda v| <= tol |lambda|.
  std::size_t max_iterations = 1000;  ///< Lanczos restarts; power iteration: products per eigenvalue.
  std::uint64_t seed = 0;             ///< Random start.
  SpectrumEnd end = SpectrumEnd::largest;  ///< Largest (algebraic) or smallest eigenvalues.
  EigenMethod method = EigenMethod::lanczos;  ///< Lanczos (Spectra) or the study's deflated power iteration.
  PowerStop power_stop = PowerStop::relative_change;  ///< Stopping rule of power iteration.
  std::vector<double> start;          ///< A start vector (e.g. the previous checkpoint's eigenvectors summed).
  bool eigenvectors = false;          ///< Keep the eigenvectors in the result.
  bool verify = true;                 ///< Compute |H v - lambda v| with one more product per eigenvalue.
};

/// Eigenvalues with their quality; non-convergence is data, not an exception.
struct HessianEigenResult {
  std::vector<double> eigenvalues;          ///< Sorted from the chosen end inwards.
  std::vector<double> residuals;            ///< |H v - lambda v| for the unit eigenvector (NaN without verify).
  std::vector<double> relative_residuals;   ///< residual / |lambda|.
  std::vector<std::vector<double>> eigenvectors;  ///< Unit vectors, when requested.
  bool converged = false;                   ///< All k reached the tolerance (Lanczos) / the relative change (power).
  std::size_t products = 0;                 ///< Hessian-vector products of the solve.
  std::size_t verification_products = 0;    ///< Products spent on the residuals.
  std::size_t iterations = 0;               ///< Lanczos restarts, or power iterations in total.
  double seconds = 0;                       ///< Wall time.
};

/// The k extreme eigenvalues of the operator. Throws std::invalid_argument unless 1 <= k < D (and k + 1 < ncv <= D).
HessianEigenResult hessian_eigen(HessianOperator& op, const HessianEigenOptions& options = {});

/// Hutch++ estimate of the trace with `products` Hessian-vector products (a multiple of 3), seeded.
double hutchpp_trace(HessianOperator& op, std::size_t products = 99, std::uint64_t seed = 0);

/// A spectral density from stochastic Lanczos quadrature: nodes and weights of `probes` Lanczos runs of `steps`.
struct SpectralDensity {
  std::vector<double> nodes;    ///< Ritz values of all runs.
  std::vector<double> weights;  ///< Their quadrature weights (sum to 1 over all runs).
  /// The density smoothed with Gaussians of width `sigma` at points `x`.
  std::vector<double> smoothed(const std::vector<double>& x, double sigma) const;
};

/// SLQ density with `probes` Rademacher probes and `steps` Lanczos steps each (probes * steps products).
SpectralDensity spectral_density(HessianOperator& op, std::size_t probes = 4, std::size_t steps = 40,
                                 std::uint64_t seed = 0);

/// Options for the classifier Hessian's fixed data.
struct HessianDataOptions {
  std::int64_t batch_size = 128;  ///< Batch size.
  std::int64_t batches = 1;       ///< Fixed batches averaged (0 = the whole data set, batch by batch).
  bool train_mode = false;        ///< BN in train mode (batch statistics) instead of eval mode.
  bool float64 = false;           ///< Products in float64 (the model is converted).
  std::uint64_t seed = 0;         ///< Which samples form the batches (a seeded permutation).
};

/// The Hessian of the mean cross-entropy of `model` over fixed batches of `data` (no augmentation); the terms are
/// weighted by batch size so that several batches give the mean over their samples.
std::unique_ptr<HessianOperator> classifier_hessian(Network& model, const Dataset& data,
                                                    const HessianDataOptions& options, torch::Device device);

}  // namespace anodiff
