#include "anodiff/hessian_eigen.hpp"

#include <Spectra/SymEigsSolver.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <Eigen/Dense>
#include <fmt/format.h>

namespace anodiff {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}
double norm(const std::vector<double>& a) { return std::sqrt(dot(a, a)); }
}  // namespace

// ------------------------------------------------------------------------------------------------ HessianOperator
struct HessianOperator::Impl {
  std::vector<torch::Tensor> params;
  std::vector<Term> terms;
  bool reuse = false;
  std::vector<torch::Tensor> cached_grads;  // first-order graph of the single term, kept for reuse
  std::size_t dimension = 0;
  std::size_t products = 0;
  double seconds = 0;

  std::vector<torch::Tensor> split(const double* x) const {
    const auto& p0 = params.front();
    auto flat = torch::from_blob(const_cast<double*>(x), {std::int64_t(dimension)}, torch::kFloat64)
                    .to(p0.device(), p0.scalar_type());
    std::vector<torch::Tensor> out;
    std::int64_t offset = 0;
    for (const auto& p : params) {
      out.push_back(flat.narrow(0, offset, p.numel()).view(p.sizes()));
      offset += p.numel();
    }
    return out;
  }
  void gather(const std::vector<torch::Tensor>& parts, double* y) const {
    std::vector<torch::Tensor> flat;
    for (const auto& t : parts) flat.push_back(t.reshape({-1}));
    const auto host = torch::cat(flat).to(torch::kCPU, torch::kFloat64).contiguous();
    std::memcpy(y, host.data_ptr<double>(), dimension * sizeof(double));
  }
  std::vector<torch::Tensor> first_order(const Term& t, bool create_graph) {
    return torch::autograd::grad({t.loss()}, params, {}, /*retain_graph=*/create_graph, create_graph);
  }
};

HessianOperator::HessianOperator(torch::nn::Module& module, std::vector<Term> terms, bool reuse_graph)
    : impl_(std::make_unique<Impl>()) {
  if (terms.empty()) throw std::invalid_argument("HessianOperator: no loss terms");
  for (const auto& p : module.parameters()) {
    if (p.requires_grad()) impl_->params.push_back(p);
  }
  if (impl_->params.empty()) throw std::invalid_argument("HessianOperator: the module has no trainable parameters");
  for (const auto& p : impl_->params) impl_->dimension += std::size_t(p.numel());
  impl_->terms = std::move(terms);
  impl_->reuse = reuse_graph && impl_->terms.size() == 1;
}

HessianOperator::~HessianOperator() = default;

std::size_t HessianOperator::dimension() const { return impl_->dimension; }
std::size_t HessianOperator::products() const { return impl_->products; }
double HessianOperator::seconds() const { return impl_->seconds; }

void HessianOperator::apply(const double* x, double* y) {
  const double t0 = now();
  auto& m = *impl_;
  const auto v = m.split(x);
  std::vector<torch::Tensor> total;
  for (const auto& term : m.terms) {
    std::vector<torch::Tensor> grads;
    if (m.reuse) {
      if (m.cached_grads.empty()) m.cached_grads = m.first_order(term, true);
      grads = m.cached_grads;
    } else {
      grads = m.first_order(term, true);
    }
    torch::Tensor inner = torch::zeros({}, grads.front().options());
    for (std::size_t i = 0; i < grads.size(); ++i) inner = inner + (grads[i] * v[i]).sum();
    auto hv = torch::autograd::grad({inner}, m.params, {}, /*retain_graph=*/m.reuse);
    if (total.empty()) {
      for (auto& h : hv) total.push_back(h * term.weight);
    } else {
      for (std::size_t i = 0; i < hv.size(); ++i) total[i].add_(hv[i], term.weight);
    }
  }
  m.gather(total, y);
  ++m.products;
  m.seconds += now() - t0;
}

std::vector<double> HessianOperator::gradient() {
  auto& m = *impl_;
  std::vector<torch::Tensor> total;
  for (const auto& term : m.terms) {
    auto g = m.first_order(term, false);
    if (total.empty()) {
      for (auto& t : g) total.push_back(t * term.weight);
    } else {
      for (std::size_t i = 0; i < g.size(); ++i) total[i].add_(g[i], term.weight);
    }
  }
  std::vector<double> out(m.dimension);
  m.gather(total, out.data());
  return out;
}

double HessianOperator::loss() {
  torch::NoGradGuard no_grad;
  double total = 0;
  for (const auto& term : impl_->terms) total += term.weight * term.loss().item<double>();
  return total;
}

// ------------------------------------------------------------------------------------------------ eigenvalues
namespace {

struct SpectraOperator {
  using Scalar = double;
  HessianOperator* op;
  Eigen::Index rows() const { return Eigen::Index(op->dimension()); }
  Eigen::Index cols() const { return Eigen::Index(op->dimension()); }
  void perform_op(const double* x, double* y) const { op->apply(x, y); }
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

void lanczos(HessianOperator& op, const HessianEigenOptions& o, std::size_t ncv, HessianEigenResult& r,
             std::vector<std::vector<double>>& vectors) {
  SpectraOperator sop{&op};
  Spectra::SymEigsSolver<SpectraOperator> eigs(sop, Eigen::Index(o.k), Eigen::Index(ncv));
  const std::vector<double> start = o.start.size() == op.dimension() && norm(o.start) > 0
                                        ? o.start
                                        : random_unit(op.dimension(), o.seed);
  eigs.init(start.data());
  const auto rule = o.end == SpectrumEnd::largest ? Spectra::SortRule::LargestAlge : Spectra::SortRule::SmallestAlge;
  eigs.compute(rule, Eigen::Index(o.max_iterations), o.tolerance, rule);
  r.converged = eigs.info() == Spectra::CompInfo::Successful;
  r.iterations = std::size_t(eigs.num_iterations());
  const Eigen::VectorXd values = eigs.eigenvalues();
  const Eigen::MatrixXd vecs = eigs.eigenvectors();
  for (Eigen::Index i = 0; i < values.size(); ++i) {
    r.eigenvalues.push_back(values(i));
    vectors.emplace_back(vecs.col(i).data(), vecs.col(i).data() + vecs.rows());
  }
}

// The study's deflated power iteration: eigenvalue i from H - sum_{j<i} lambda_j u_j u_j^T, stopping when the
// Rayleigh quotient changes by less than tol relative (or, with PowerStop::residual, when the residual of the
// current vector is below tol |lambda|), or after max_iterations products.
void power_iteration(HessianOperator& op, const HessianEigenOptions& o, HessianEigenResult& r,
                     std::vector<std::vector<double>>& vectors) {
  const std::size_t D = op.dimension();
  r.converged = true;
  std::vector<double> w(D);
  for (std::size_t i = 0; i < o.k; ++i) {
    auto v = random_unit(D, o.seed + 1 + i);
    double lambda = 0, previous = 0;
    bool done = false;
    for (std::size_t it = 0; it < o.max_iterations; ++it) {
      op.apply(v.data(), w.data());
      for (std::size_t j = 0; j < vectors.size(); ++j) {
        const double c = r.eigenvalues[j] * dot(vectors[j], v);
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
    r.converged = r.converged && done;
    r.eigenvalues.push_back(lambda);
    vectors.push_back(v);
  }
  // Sort from the chosen end, as Lanczos does.
  std::vector<std::size_t> order(r.eigenvalues.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return o.end == SpectrumEnd::largest ? r.eigenvalues[a] > r.eigenvalues[b] : r.eigenvalues[a] < r.eigenvalues[b];
  });
  std::vector<double> values;
  std::vector<std::vector<double>> sorted;
  for (auto i : order) values.push_back(r.eigenvalues[i]), sorted.push_back(std::move(vectors[i]));
  r.eigenvalues = values;
  vectors = std::move(sorted);
}

}  // namespace

HessianEigenResult hessian_eigen(HessianOperator& op, const HessianEigenOptions& o) {
  const std::size_t D = op.dimension();
  if (o.k < 1 || o.k >= D) {
    throw std::invalid_argument(fmt::format("hessian_eigen: k must lie in 1..D-1 = 1..{}, got {}", D - 1, o.k));
  }
  const std::size_t ncv = o.ncv ? o.ncv : std::min(D, std::max<std::size_t>(2 * o.k + 1, 20));
  if (o.method == EigenMethod::lanczos && (ncv <= o.k || ncv > D)) {
    throw std::invalid_argument(fmt::format("hessian_eigen: ncv must lie in k+1..D = {}..{}, got {}", o.k + 1, D, ncv));
  }
  if (!(o.tolerance > 0)) throw std::invalid_argument("hessian_eigen: the tolerance must be positive");
  HessianEigenResult r;
  const double t0 = now();
  const std::size_t before = op.products();
  std::vector<std::vector<double>> vectors;
  if (o.method == EigenMethod::lanczos) {
    lanczos(op, o, ncv, r, vectors);
  } else {
    power_iteration(op, o, r, vectors);
  }
  r.products = op.products() - before;
  std::vector<double> hv(D);
  for (std::size_t i = 0; i < r.eigenvalues.size(); ++i) {
    double res = std::numeric_limits<double>::quiet_NaN();
    if (o.verify) {
      op.apply(vectors[i].data(), hv.data());
      double s = 0;
      for (std::size_t d = 0; d < D; ++d) s += std::pow(hv[d] - r.eigenvalues[i] * vectors[i][d], 2);
      res = std::sqrt(s);
    }
    r.residuals.push_back(res);
    r.relative_residuals.push_back(res / std::fabs(r.eigenvalues[i]));
  }
  r.verification_products = op.products() - before - r.products;
  if (o.eigenvectors) r.eigenvectors = std::move(vectors);
  r.seconds = now() - t0;
  return r;
}

double hutchpp_trace(HessianOperator& op, std::size_t products, std::uint64_t seed) {
  if (products < 3 || products % 3 != 0) {
    throw std::invalid_argument(fmt::format("hutchpp_trace: products must be a positive multiple of 3, got {}", products));
  }
  const std::size_t D = op.dimension(), m = products / 3;
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution coin;
  Eigen::MatrixXd S(D, m), G(D, m), Y(D, m), HQ(D, m);
  for (Eigen::Index i = 0; i < S.size(); ++i) S.data()[i] = coin(rng) ? 1 : -1;
  for (Eigen::Index i = 0; i < G.size(); ++i) G.data()[i] = coin(rng) ? 1 : -1;
  for (std::size_t j = 0; j < m; ++j) op.apply(S.col(j).data(), Y.col(j).data());
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(Y);
  const Eigen::MatrixXd Q = qr.householderQ() * Eigen::MatrixXd::Identity(Eigen::Index(D), Eigen::Index(m));
  for (std::size_t j = 0; j < m; ++j) op.apply(Q.col(j).data(), HQ.col(j).data());
  double trace = (Q.transpose() * HQ).trace();
  const Eigen::MatrixXd Gp = G - Q * (Q.transpose() * G);
  Eigen::VectorXd hg(D);
  double rest = 0;
  for (std::size_t j = 0; j < m; ++j) {
    Eigen::VectorXd g = Gp.col(j);
    op.apply(g.data(), hg.data());
    rest += g.dot(hg);
  }
  return trace + rest / double(m);
}

std::vector<double> SpectralDensity::smoothed(const std::vector<double>& x, double sigma) const {
  std::vector<double> out(x.size(), 0.0);
  const double c = 1.0 / (sigma * std::sqrt(2 * M_PI));
  for (std::size_t i = 0; i < x.size(); ++i) {
    for (std::size_t j = 0; j < nodes.size(); ++j) out[i] += weights[j] * c * std::exp(-0.5 * std::pow((x[i] - nodes[j]) / sigma, 2));
  }
  return out;
}

SpectralDensity spectral_density(HessianOperator& op, std::size_t probes, std::size_t steps, std::uint64_t seed) {
  const std::size_t D = op.dimension();
  if (probes == 0 || steps < 2 || steps > D) {
    throw std::invalid_argument(fmt::format("spectral_density: needs probes >= 1 and 2 <= steps <= D ({}), got {} and {}",
                                            D, probes, steps));
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

// ------------------------------------------------------------------------------------------------ classifier data
std::unique_ptr<HessianOperator> classifier_hessian(Network& model, const Dataset& data,
                                                    const HessianDataOptions& o, torch::Device device) {
  if (o.batch_size < 1) throw std::invalid_argument(fmt::format("--batch_size must be >= 1, got {}", o.batch_size));
  if (o.batches < 0) throw std::invalid_argument(fmt::format("--batches must be >= 0, got {}", o.batches));
  const std::int64_t n = data.size();
  const std::int64_t used = o.batches == 0 ? n : std::min(n, o.batches * o.batch_size);
  if (used == 0) throw std::invalid_argument("classifier_hessian: the data set is empty");
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (o.batches != 0) std::shuffle(order.begin(), order.end(), std::mt19937_64(o.seed));
  if (o.float64) model.to(torch::kFloat64);
  model.to(device);
  if (o.train_mode) model.train(); else model.eval();
  const auto dtype = o.float64 ? torch::kFloat64 : torch::kFloat32;
  std::vector<HessianOperator::Term> terms;
  std::mt19937_64 unused(0);
  for (std::int64_t start = 0; start < used; start += o.batch_size) {
    const std::vector<std::int64_t> idx(order.begin() + start, order.begin() + std::min(used, start + o.batch_size));
    auto x = make_batch(data, idx, false, unused).to(device, dtype);
    auto y = data.labels.index_select(0, torch::tensor(idx, torch::kInt64)).to(device);
    const double weight = double(idx.size()) / double(used);
    terms.push_back({[&model, x, y] { return torch::nn::functional::cross_entropy(model.forward(x), y); }, weight});
  }
  return std::make_unique<HessianOperator>(model, std::move(terms));
}

}  // namespace anodiff
