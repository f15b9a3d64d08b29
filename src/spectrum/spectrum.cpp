#include "anodiff/spectrum/spectrum.hpp"

#include <Spectra/SymEigsSolver.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "anodiff/base/error.hpp"

namespace anodiff {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}
double norm(const std::vector<double>& a) { return std::sqrt(dot(a, a)); }

// The operator with a count of its products.
class Counted {
 public:
  explicit Counted(SymmetricOperator& op) : op_(op), dimension_(op.dimension()) {}
  [[nodiscard]] std::size_t dimension() const { return dimension_; }
  void apply(const double* x, double* y) {
    op_.apply(x, y);
    ++products_;
  }
  [[nodiscard]] std::size_t products() const { return products_; }

 private:
  SymmetricOperator& op_;
  std::size_t dimension_;
  std::size_t products_ = 0;
};
}  // namespace

// ------------------------------------------------------------------------------------------------ dense operator
DenseSymmetricOperator::DenseSymmetricOperator(Eigen::MatrixXd matrix) : matrix_(std::move(matrix)) {
  if (matrix_.rows() == 0 || matrix_.rows() != matrix_.cols()) {
    throw std::invalid_argument(fmt::format("DenseSymmetricOperator: the matrix must be square and not empty, got {} x {}",
                                            matrix_.rows(), matrix_.cols()));
  }
}

std::size_t DenseSymmetricOperator::dimension() const { return std::size_t(matrix_.rows()); }

void DenseSymmetricOperator::apply(const double* x, double* y) {
  Eigen::Map<Eigen::VectorXd>(y, matrix_.rows()).noalias() = matrix_ * Eigen::Map<const Eigen::VectorXd>(x, matrix_.rows());
}

std::vector<double> EigenResult::eigenvalues() const {
  std::vector<double> out;
  for (const auto& p : eigenpairs) out.push_back(p.eigenvalue);
  return out;
}

// ------------------------------------------------------------------------------------------------ eigenpairs
namespace {

// Spectra's init() multiplies the start vector by A before its first Lanczos step, to force it into A's range: only a
// generalized problem needs that (ARPACK does it for bmat = 'G' alone). The first call therefore passes the start
// through unchanged, so that Lanczos starts from it as ARPACK's standard mode (scipy's eigsh) does, one product fewer.
struct SpectraOperator {
  using Scalar = double;
  Counted* op;
  mutable bool start_pending = true;
  Eigen::Index rows() const { return Eigen::Index(op->dimension()); }
  Eigen::Index cols() const { return Eigen::Index(op->dimension()); }
  void perform_op(const double* x, double* y) const {
    if (start_pending) {
      start_pending = false;
      std::copy(x, x + op->dimension(), y);
      return;
    }
    op->apply(x, y);
  }
};

// Spectra's solver, which returns only the converged pairs, with access to all k Ritz values (ranked) and the Ritz
// vector of any of them.
class RankedSymEigs : public Spectra::SymEigsSolver<SpectraOperator> {
 public:
  using Spectra::SymEigsSolver<SpectraOperator>::SymEigsSolver;
  // The k Ritz values in the final (sorted) order, converged or not.
  [[nodiscard]] Eigen::VectorXd ritz_values() const { return m_ritz_val.head(m_nev); }
  // The Ritz vector of the Ritz value nearest `value` (as Spectra's eigenvectors() computes it).
  [[nodiscard]] Eigen::VectorXd ritz_vector(double value) const {
    Spectra::TridiagEigen<double> decomp(m_fac.matrix_H());
    const Eigen::VectorXd& values = decomp.eigenvalues();
    Eigen::Index nearest = 0;
    (values.array() - value).abs().minCoeff(&nearest);
    return m_fac.matrix_V() * decomp.eigenvectors().col(nearest);
  }
};

std::vector<double> random_unit(std::size_t D, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n;
  std::vector<double> v(D);
  for (auto& x : v) x = n(rng);
  const double s = norm(v);
  for (auto& x : v) x /= s;
  return v;
}

// Fills r.eigenpairs (rank, eigenvalue, converged) and `vectors`, both by rank.
void lanczos(Counted& op, const EigenOptions& o, std::size_t ncv, EigenResult& r,
             std::vector<std::vector<double>>& vectors) {
  SpectraOperator sop{&op};
  RankedSymEigs eigs(sop, Eigen::Index(o.k), Eigen::Index(ncv));
  const std::vector<double> start = o.start.size() == op.dimension() && norm(o.start) > 0
                                        ? o.start
                                        : random_unit(op.dimension(), o.seed);
  eigs.init(start.data());
  const auto rule = o.end == SpectrumEnd::largest ? Spectra::SortRule::LargestAlge : Spectra::SortRule::SmallestAlge;
  eigs.compute(rule, Eigen::Index(o.max_iterations), o.tolerance, rule);
  r.iterations = std::size_t(eigs.num_iterations());
  // Spectra returns the converged pairs only, in the order of all k Ritz values: find each one's rank there.
  const Eigen::VectorXd converged = eigs.eigenvalues();
  const Eigen::MatrixXd converged_vectors = eigs.eigenvectors();
  const Eigen::VectorXd ritz = eigs.ritz_values();
  Eigen::Index next = 0;
  for (Eigen::Index i = 0; i < ritz.size(); ++i) {
    Eigenpair p;
    p.rank = std::size_t(i) + 1;
    p.eigenvalue = ritz(i);
    if (next < converged.size() && converged(next) == ritz(i)) {
      p.converged = true;
      const auto v = converged_vectors.col(next++);
      vectors.emplace_back(v.data(), v.data() + v.size());
    } else {
      const Eigen::VectorXd v = eigs.ritz_vector(ritz(i));
      vectors.emplace_back(v.data(), v.data() + v.size());
    }
    r.eigenpairs.push_back(std::move(p));
  }
}

// The study's deflated power iteration: eigenvalue i from A - sum_{j<i} lambda_j u_j u_j^T, stopping when the
// Rayleigh quotient changes by less than tol relative (or, with PowerStop::residual, when the residual of the
// current vector is below tol |lambda|), or after max_iterations products.
void power_iteration(Counted& op, const EigenOptions& o, EigenResult& r, std::vector<std::vector<double>>& vectors) {
  const std::size_t D = op.dimension();
  std::vector<double> values;
  std::vector<bool> converged;
  std::vector<double> w(D);
  for (std::size_t i = 0; i < o.k; ++i) {
    auto v = random_unit(D, o.seed + 1 + i);
    double lambda = 0, previous = 0;
    bool done = false;
    for (std::size_t it = 0; it < o.max_iterations; ++it) {
      op.apply(v.data(), w.data());
      for (std::size_t j = 0; j < vectors.size(); ++j) {
        const double c = values[j] * dot(vectors[j], v);
        for (std::size_t d = 0; d < D; ++d) w[d] -= c * vectors[j][d];
      }
      lambda = dot(v, w);
      const double s = norm(w);
      ++r.iterations;
      if (s == 0) break;
      if (o.power_stop == PowerStop::residual) {  // |w - lambda v| of the current v, which is then kept
        double residual2 = 0;
        for (std::size_t d = 0; d < D; ++d) residual2 += (w[d] - lambda * v[d]) * (w[d] - lambda * v[d]);
        if (std::sqrt(residual2) <= o.tolerance * std::fabs(lambda)) {
          done = true;
          break;
        }
      }
      for (std::size_t d = 0; d < D; ++d) v[d] = w[d] / s;
      if (o.power_stop == PowerStop::relative_change && it > 0 &&
          std::fabs(lambda - previous) <= o.tolerance * std::fabs(lambda)) {
        done = true;
        break;
      }
      previous = lambda;
    }
    values.push_back(lambda);
    converged.push_back(done);
    vectors.push_back(v);
  }
  // Ranked from the chosen end, as Lanczos does.
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return o.end == SpectrumEnd::largest ? values[a] > values[b] : values[a] < values[b];
  });
  std::vector<std::vector<double>> sorted;
  for (auto i : order) {
    Eigenpair p;
    p.rank = r.eigenpairs.size() + 1;
    p.eigenvalue = values[i];
    p.converged = converged[i];
    r.eigenpairs.push_back(std::move(p));
    sorted.push_back(std::move(vectors[i]));
  }
  vectors = std::move(sorted);
}

}  // namespace

void EigenOptions::validate(const char* owner, const std::string& path) const {
  require(k >= 1, owner, fmt::format("{}k must be >= 1, got {}", path, k));
  require(ncv == 0 || ncv > k, owner, fmt::format("{0}ncv must be 0 (automatic) or > {0}k = {1}, got {2}", path, k, ncv));
  require(tolerance > 0, owner, fmt::format("{}tolerance must be positive, got {}", path, tolerance));
  require(method == EigenMethod::lanczos || method == EigenMethod::power, owner,
          fmt::format("{}method must be lanczos or power, got {}", path, int(method)));
  require(end == SpectrumEnd::largest || end == SpectrumEnd::smallest, owner,
          fmt::format("{}end must be largest or smallest, got {}", path, int(end)));
  require(power_stop == PowerStop::relative_change || power_stop == PowerStop::residual, owner,
          fmt::format("{}power_stop must be relative_change or residual, got {}", path, int(power_stop)));
}

EigenResult extreme_eigenpairs(SymmetricOperator& target, const EigenOptions& o) {
  o.validate("extreme_eigenpairs: EigenOptions");
  Counted op(target);
  const std::size_t D = op.dimension();
  if (o.k < 1 || o.k >= D) {
    throw std::invalid_argument(
        fmt::format("extreme_eigenpairs: EigenOptions::k must lie in 1..D-1 = 1..{}, got {}", D - 1, o.k));
  }
  const std::size_t ncv = o.ncv ? o.ncv : std::min(D, std::max<std::size_t>(2 * o.k + 1, 20));
  if (o.method == EigenMethod::lanczos && (ncv <= o.k || ncv > D)) {
    throw std::invalid_argument(
        fmt::format("extreme_eigenpairs: EigenOptions::ncv must lie in k+1..D = {}..{}, got {}", o.k + 1, D, ncv));
  }
  EigenResult r;
  const double t0 = now();
  std::vector<std::vector<double>> vectors;
  if (o.method == EigenMethod::lanczos) {
    lanczos(op, o, ncv, r, vectors);
  } else {
    power_iteration(op, o, r, vectors);
  }
  r.products = op.products();
  std::vector<double> hv(D);
  for (std::size_t i = 0; i < r.eigenpairs.size(); ++i) {
    auto& p = r.eigenpairs[i];
    if (p.converged) ++r.converged_count;
    if (o.verify) {
      op.apply(vectors[i].data(), hv.data());
      double s = 0;
      for (std::size_t d = 0; d < D; ++d) s += std::pow(hv[d] - p.eigenvalue * vectors[i][d], 2);
      p.residual = std::sqrt(s);
      p.relative_residual = *p.residual / std::fabs(p.eigenvalue);
    }
    if (o.eigenvectors) p.eigenvector = std::move(vectors[i]);
  }
  r.verification_products = op.products() - r.products;
  r.seconds = now() - t0;
  return r;
}

// ------------------------------------------------------------------------------------------------ trace
double hutchpp_trace(SymmetricOperator& op, std::size_t products, std::uint64_t seed) {
  if (products < 3 || products % 3 != 0) {
    throw std::invalid_argument(fmt::format("hutchpp_trace: products must be a positive multiple of 3, got {}", products));
  }
  const std::size_t D = op.dimension(), m = products / 3;
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution coin;
  Eigen::MatrixXd S(D, m), G(D, m), Y(D, m), HQ(D, m);
  for (Eigen::Index i = 0; i < S.size(); ++i) S.data()[i] = coin(rng) ? 1 : -1;
  for (Eigen::Index i = 0; i < G.size(); ++i) G.data()[i] = coin(rng) ? 1 : -1;
  const auto columns = Eigen::Index(m);
  for (Eigen::Index j = 0; j < columns; ++j) op.apply(S.col(j).data(), Y.col(j).data());
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(Y);
  const Eigen::MatrixXd Q = qr.householderQ() * Eigen::MatrixXd::Identity(Eigen::Index(D), Eigen::Index(m));
  for (Eigen::Index j = 0; j < columns; ++j) op.apply(Q.col(j).data(), HQ.col(j).data());
  double trace = (Q.transpose() * HQ).trace();
  const Eigen::MatrixXd Gp = G - Q * (Q.transpose() * G);
  Eigen::VectorXd hg(D);
  double rest = 0;
  for (Eigen::Index j = 0; j < columns; ++j) {
    Eigen::VectorXd g = Gp.col(j);
    op.apply(g.data(), hg.data());
    rest += g.dot(hg);
  }
  return trace + rest / double(m);
}

// ------------------------------------------------------------------------------------------------ density
std::vector<double> SpectralDensity::smoothed(const std::vector<double>& x, double sigma) const {
  std::vector<double> out(x.size(), 0.0);
  const double c = 1.0 / (sigma * std::sqrt(2 * M_PI));
  for (std::size_t i = 0; i < x.size(); ++i) {
    for (std::size_t j = 0; j < nodes.size(); ++j) out[i] += weights[j] * c * std::exp(-0.5 * std::pow((x[i] - nodes[j]) / sigma, 2));
  }
  return out;
}

SpectralDensity spectral_density(SymmetricOperator& op, std::size_t probes, std::size_t steps, std::uint64_t seed) {
  const std::size_t D = op.dimension();
  if (probes == 0 || steps < 2 || steps > D) {
    throw std::invalid_argument(fmt::format(
        "spectral_density: needs probes >= 1 and 2 <= steps <= D ({}), got probes = {} and steps = {}", D, probes, steps));
  }
  SpectralDensity out;
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution coin;
  for (std::size_t p = 0; p < probes; ++p) {
    Eigen::MatrixXd V(D, steps);  // Lanczos basis, fully reorthogonalised
    Eigen::VectorXd alpha(steps), beta(steps);
    Eigen::VectorXd v(D), w(D);
    for (std::size_t d = 0; d < D; ++d) v(Eigen::Index(d)) = coin(rng) ? 1 : -1;
    v /= v.norm();
    std::size_t m = 0;
    for (; m < steps; ++m) {
      V.col(Eigen::Index(m)) = v;
      op.apply(v.data(), w.data());
      alpha(Eigen::Index(m)) = v.dot(w);
      w -= V.leftCols(Eigen::Index(m + 1)) * (V.leftCols(Eigen::Index(m + 1)).transpose() * w);
      w -= V.leftCols(Eigen::Index(m + 1)) * (V.leftCols(Eigen::Index(m + 1)).transpose() * w);
      beta(Eigen::Index(m)) = w.norm();
      if (beta(Eigen::Index(m)) < 1e-12 * std::max(1.0, std::fabs(alpha(Eigen::Index(m))))) {
        ++m;
        break;
      }
      v = w / beta(Eigen::Index(m));
    }
    Eigen::MatrixXd T = Eigen::MatrixXd::Zero(Eigen::Index(m), Eigen::Index(m));
    for (std::size_t i = 0; i < m; ++i) {
      T(Eigen::Index(i), Eigen::Index(i)) = alpha(Eigen::Index(i));
      if (i + 1 < m) T(Eigen::Index(i), Eigen::Index(i + 1)) = T(Eigen::Index(i + 1), Eigen::Index(i)) = beta(Eigen::Index(i));
    }
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(T);
    for (Eigen::Index i = 0; i < Eigen::Index(m); ++i) {
      out.nodes.push_back(es.eigenvalues()(i));
      out.weights.push_back(std::pow(es.eigenvectors()(0, i), 2) / double(probes));
    }
  }
  return out;
}

SmoothedDensity smooth_density(const SpectralDensity& density, std::size_t points) {
  if (points < 2 || density.nodes.empty()) {
    throw std::invalid_argument(fmt::format("smooth_density: needs points >= 2 and at least one node, got points = {} "
                                            "and {} nodes", points, density.nodes.size()));
  }
  SmoothedDensity out;
  out.quadrature = density;
  const auto [lo, hi] = std::minmax_element(density.nodes.begin(), density.nodes.end());
  const double pad = 0.05 * (*hi - *lo) + 1e-12;
  out.x.resize(points);
  for (std::size_t i = 0; i < points; ++i) out.x[i] = *lo - pad + (*hi - *lo + 2 * pad) * double(i) / double(points - 1);
  out.sigma = (*hi - *lo + 2 * pad) / 100.0;
  out.y = density.smoothed(out.x, out.sigma);
  return out;
}

}  // namespace anodiff
