#define CATCH_CONFIG_PREFIX_ALL  // glog (pulled in by LibTorch) redefines CHECK
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <Eigen/Dense>
#include <torch/torch.h>

#include "anodiff/base/error.hpp"
#include "anodiff/torch/hessian_operator.hpp"
#include "anodiff/torch/hessian_run.hpp"
#include "anodiff/torch/models.hpp"
#include "torch/detail/conv2d.hpp"
#include "test_helpers.hpp"

using namespace anodiff;

namespace {

// A small float64 MLP classifier on fixed random data.
struct SmallMlp {
  torch::nn::Sequential net{torch::nn::Linear(4, 6), torch::nn::Tanh(), torch::nn::Linear(6, 3)};
  torch::Tensor x, y;
  SmallMlp() {
    torch::manual_seed(0);
    net->to(torch::kFloat64);
    x = torch::randn({20, 4}, torch::kFloat64);
    y = torch::randint(0, 3, {20});
  }
  std::unique_ptr<HessianOperator> hessian() {
    auto n = net;
    auto xx = x, yy = y;
    return std::make_unique<HessianOperator>(
        *net, std::vector<HessianOperator::Term>{{[n, xx, yy]() mutable { return torch::nn::functional::cross_entropy(n->forward(xx), yy); }, 1.0}});
  }
};

Eigen::MatrixXd dense(HessianOperator& op) {
  const auto D = Eigen::Index(op.dimension());
  Eigen::MatrixXd H(D, D);
  Eigen::VectorXd e = Eigen::VectorXd::Zero(D);
  for (Eigen::Index j = 0; j < D; ++j) {
    e.setZero();
    e(j) = 1;
    op.apply(e.data(), H.col(j).data());
  }
  return H;
}

// A module whose loss is 0.5 w^T A w + b^T w: its Hessian is A.
struct Quadratic : torch::nn::Module {
  torch::Tensor w, A, b;
  explicit Quadratic(const Eigen::MatrixXd& a) {
    const auto D = a.rows();
    w = register_parameter("w", torch::randn({D}, torch::kFloat64));
    A = torch::from_blob(const_cast<double*>(a.data()), {D, D}, torch::kFloat64).clone();
    b = torch::randn({D}, torch::kFloat64);
  }
  torch::Tensor loss() { return 0.5 * w.dot(A.mv(w)) + b.dot(w); }
};

Eigen::MatrixXd spd(Eigen::Index D, double decay, unsigned seed) {
  std::srand(seed);
  Eigen::MatrixXd Q = Eigen::MatrixXd::Random(D, D).householderQr().householderQ();
  Eigen::VectorXd d(D);
  for (Eigen::Index i = 0; i < D; ++i) d(i) = 10.0 * std::pow(decay, double(i)) - (i % 7 == 0 ? 0.5 : 0.0);
  return Q * d.asDiagonal() * Q.transpose();
}

}  // namespace

CATCH_TEST_CASE("Hessian: Lanczos equals the dense eigendecomposition of a float64 MLP to 1e-9", "[hessian]") {
  SmallMlp m;
  auto op = m.hessian();
  CATCH_REQUIRE(op->dimension() == 51);
  const Eigen::MatrixXd H = dense(*op);
  CATCH_CHECK((H - H.transpose()).cwiseAbs().maxCoeff() < 1e-12);  // symmetric: u.Hv = v.Hu
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(H);
  const Eigen::VectorXd ev = es.eigenvalues();  // ascending
  EigenOptions o;
  o.k = 5;
  o.tolerance = 1e-12;
  const auto top = extreme_eigenpairs(*op, o);
  CATCH_REQUIRE(top.all_converged());
  CATCH_REQUIRE(top.eigenpairs.size() == 5);
  for (int i = 0; i < 5; ++i) CATCH_CHECK(std::fabs(top.eigenpairs[i].eigenvalue - ev(50 - i)) < 1e-9);
  for (const auto& p : top.eigenpairs) CATCH_CHECK(*p.relative_residual < 1e-9);
  CATCH_CHECK(top.verification_products == 5);
  o.end = SpectrumEnd::smallest;
  o.k = 3;
  const auto low = extreme_eigenpairs(*op, o);
  for (int i = 0; i < 3; ++i) CATCH_CHECK(std::fabs(low.eigenpairs[i].eigenvalue - ev(i)) < 1e-9);
}

CATCH_TEST_CASE("Hessian: a quadratic loss has its matrix as Hessian, power iteration agrees on the top", "[hessian]") {
  torch::manual_seed(1);
  const Eigen::MatrixXd A = spd(60, 0.8, 3);
  auto q = std::make_shared<Quadratic>(A);
  HessianOperator op(*q, {{[q] { return q->loss(); }, 1.0}});
  const Eigen::MatrixXd H = dense(op);
  CATCH_CHECK((H - A).cwiseAbs().maxCoeff() < 1e-12);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(A);
  EigenOptions o;
  o.k = 3;
  o.tolerance = 1e-10;
  o.eigenvectors = true;
  const auto l = extreme_eigenpairs(op, o);
  o.method = EigenMethod::power;
  o.max_iterations = 2000;
  const auto p = extreme_eigenpairs(op, o);
  for (int i = 0; i < 3; ++i) {
    CATCH_CHECK(l.eigenpairs[i].eigenvalue == Approx(es.eigenvalues()(59 - i)).epsilon(1e-10));
    CATCH_CHECK(p.eigenpairs[i].eigenvalue == Approx(es.eigenvalues()(59 - i)).epsilon(1e-4));
    CATCH_CHECK(l.eigenpairs[i].eigenvector.size() == 60);
  }
  CATCH_CHECK(p.products > l.products);  // power iteration needs more products for the same eigenvalues
  // Stopping on the residual (Lanczos's rule): every verified relative residual meets the tolerance.
  o.power_stop = PowerStop::residual;
  o.tolerance = 1e-6;
  o.max_iterations = 20000;
  const auto pr = extreme_eigenpairs(op, o);
  CATCH_CHECK(pr.all_converged());
  for (int i = 0; i < 3; ++i) {
    CATCH_CHECK(pr.eigenpairs[i].eigenvalue == Approx(es.eigenvalues()(59 - i)).epsilon(1e-6));
    CATCH_CHECK(*pr.eigenpairs[i].relative_residual < 1e-5);  // deflation by converged-to-1e-6 vectors adds a little
  }
}

CATCH_TEST_CASE("Hessian: non-convergence is reported as data", "[hessian]") {
  torch::manual_seed(2);
  const Eigen::MatrixXd A = spd(200, 0.995, 4);  // a slowly decaying spectrum: hard to converge
  auto q = std::make_shared<Quadratic>(A);
  HessianOperator op(*q, {{[q] { return q->loss(); }, 1.0}});
  EigenOptions o;
  o.k = 10;
  o.ncv = 12;
  o.max_iterations = 1;
  o.tolerance = 1e-14;
  EigenResult r;
  CATCH_REQUIRE_NOTHROW(r = extreme_eigenpairs(op, o));
  CATCH_CHECK_FALSE(r.all_converged());
  CATCH_CHECK(r.eigenpairs.size() == 10);  // all k, each with its rank and flag
  CATCH_CHECK(r.converged_count < 10);
  CATCH_CHECK(r.products > 0);
  o.k = 200;
  o.ncv = 0;  // (a basis of 12 for k = 200 is refused before the operator is looked at)
  CATCH_CHECK_THROWS_WITH((void)extreme_eigenpairs(op, o), Catch::Contains("k must lie in 1..D-1 = 1..199"));
}

CATCH_TEST_CASE("Hessian: Hutch++ trace and the SLQ density match the dense spectrum", "[hessian]") {
  torch::manual_seed(3);
  const Eigen::MatrixXd A = spd(200, 0.97, 5);
  auto q = std::make_shared<Quadratic>(A);
  HessianOperator op(*q, {{[q] { return q->loss(); }, 1.0}});
  const double trace = A.trace();
  CATCH_CHECK(hutchpp_trace(op, 90, 1) == Approx(trace).epsilon(0.05));
  CATCH_CHECK(op.products() >= 90);  // the operator counts its own products
  const auto density = spectral_density(op, 8, 40, 2);
  double mass = 0, m1 = 0, m2 = 0;
  for (std::size_t i = 0; i < density.nodes.size(); ++i) {
    mass += density.weights[i];
    m1 += density.weights[i] * density.nodes[i];
    m2 += density.weights[i] * density.nodes[i] * density.nodes[i];
  }
  CATCH_CHECK(mass == Approx(1.0).epsilon(1e-12));
  CATCH_CHECK(m1 == Approx(trace / 200).epsilon(0.1));
  CATCH_CHECK(m2 == Approx((A * A).trace() / 200).epsilon(0.15));
  // The largest Ritz value of SLQ is the top eigenvalue.
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(A);
  CATCH_CHECK(*std::max_element(density.nodes.begin(), density.nodes.end()) == Approx(es.eigenvalues()(199)).epsilon(1e-6));
  CATCH_CHECK_THROWS_AS((void)hutchpp_trace(op, 10), std::invalid_argument);
}

CATCH_TEST_CASE("Hessian: several batches give the Hessian of the mean loss", "[hessian]") {
  SmallMlp m;
  auto n = m.net;
  auto x1 = m.x.slice(0, 0, 5), y1 = m.y.slice(0, 0, 5), x2 = m.x.slice(0, 5, 20), y2 = m.y.slice(0, 5, 20);
  HessianOperator split(*n, {{[n, x1, y1]() mutable { return torch::nn::functional::cross_entropy(n->forward(x1), y1); }, 0.25},
                             {[n, x2, y2]() mutable { return torch::nn::functional::cross_entropy(n->forward(x2), y2); }, 0.75}});
  auto whole = m.hessian();
  CATCH_CHECK((dense(split) - dense(*whole)).cwiseAbs().maxCoeff() < 1e-12);
  const auto g1 = split.gradient(), g2 = whole->gradient();
  for (std::size_t i = 0; i < g1.size(); ++i) CATCH_CHECK(g1[i] == Approx(g2[i]).margin(1e-12));
}

CATCH_TEST_CASE("Hessian: data shards sum every product, the gradient and the loss over the shards", "[hessian]") {
  SmallMlp whole_model;
  auto whole = whole_model.hessian();
  const Eigen::MatrixXd H = dense(*whole);
  const auto g = whole->gradient();
  const double loss = whole->loss();
  // Two shards, each with its own copy of the weights: samples [0, 5) with weight 0.25, [5, 20) with 0.75.
  SmallMlp copies[2];
  for (auto& c : copies) {
    torch::NoGradGuard no_grad;
    const auto from = whole_model.net->parameters();
    const auto to = c.net->parameters();
    for (std::size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
  }
  const std::int64_t bounds[3] = {0, 5, 20};
  const double weights[2] = {0.25, 0.75};
  test::ThreadReduction all(2);
  Eigen::MatrixXd shard_h[2];
  std::vector<double> shard_g[2];
  double shard_loss[2] = {0, 0};
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < 2; ++s) {
    threads.emplace_back([&, s] {
      auto n = copies[s].net;
      auto x = copies[s].x.slice(0, bounds[s], bounds[s + 1]), y = copies[s].y.slice(0, bounds[s], bounds[s + 1]);
      HessianOperator op(*n, {{[n, x, y]() mutable { return torch::nn::functional::cross_entropy(n->forward(x), y); },
                               weights[s]}});
      test::ThreadReduction::Member member(all, s);
      op.reduce_over(&member);
      shard_h[s] = dense(op);
      shard_g[s] = op.gradient();
      shard_loss[s] = op.loss();
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t s = 0; s < 2; ++s) {
    CATCH_CHECK((shard_h[s] - H).cwiseAbs().maxCoeff() < 1e-12);
    CATCH_REQUIRE(shard_g[s].size() == g.size());
    for (std::size_t i = 0; i < g.size(); ++i) CATCH_CHECK(shard_g[s][i] == Approx(g[i]).margin(1e-12));
    CATCH_CHECK(shard_loss[s] == Approx(loss).epsilon(1e-12));
  }
}

CATCH_TEST_CASE("Hessian: the models' convolution has LibTorch's values, gradient and Hessian-vector product",
                "[hessian]") {
  // Two stacked convolutions (stride 2 with padding, then 1x1 with bias) and a nonlinear loss, float64: the
  // gradient and the double-backward product through detail::conv2d against torch::conv2d's own autograd.
  torch::manual_seed(3);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto x = torch::randn({4, 3, 9, 9}, opts).requires_grad_(true);
  auto w1 = torch::randn({5, 3, 3, 3}, opts).requires_grad_(true);
  auto w2 = torch::randn({2, 5, 1, 1}, opts).requires_grad_(true);
  auto b2 = torch::randn({2}, opts).requires_grad_(true);
  const std::vector<torch::Tensor> params = {x, w1, w2, b2};
  std::vector<torch::Tensor> v;
  for (const auto& p : params) v.push_back(torch::randn_like(p));
  auto hvp = [&](bool ours) {
    auto h = ours ? anodiff::detail::conv2d(x, w1, {}, 2, 1) : torch::conv2d(x, w1, {}, torch::IntArrayRef{2, 2}, torch::IntArrayRef{1, 1});
    h = torch::tanh(h);
    h = ours ? anodiff::detail::conv2d(h, w2, b2, 1, 0) : torch::conv2d(h, w2, b2, torch::IntArrayRef{1, 1}, torch::IntArrayRef{0, 0});
    const auto loss = (h * h * h).sum();
    const auto g = torch::autograd::grad({loss}, params, {}, /*retain_graph=*/true, /*create_graph=*/true);
    auto inner = torch::zeros({}, opts);
    for (std::size_t i = 0; i < g.size(); ++i) inner = inner + (g[i] * v[i]).sum();
    auto hv = torch::autograd::grad({inner}, params);
    std::vector<torch::Tensor> out(g.begin(), g.end());
    out.insert(out.end(), hv.begin(), hv.end());
    out.push_back(loss.detach());
    return out;
  };
  const auto ours = hvp(true), theirs = hvp(false);
  CATCH_REQUIRE(ours.size() == theirs.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    CATCH_INFO("output " << i << " (gradients 0-3, Hessian-vector products 4-7, loss 8)");
    CATCH_CHECK(torch::allclose(ours[i], theirs[i], 1e-10, 1e-10));
  }
  // The same on a model built by make_model, in eval mode, against finite differences of its gradient.
  auto model = make_model("resnet14");
  model->to(torch::kFloat64);
  model->eval();
  const auto images = torch::randn({2, 3, 32, 32}, opts);
  const auto labels = torch::randint(0, 10, {2});
  HessianOperator op(*model, {{[&] { return torch::nn::functional::cross_entropy(model->forward(images), labels); }, 1.0}});
  std::vector<double> dir(op.dimension()), hdir(op.dimension());
  std::mt19937 rng(1);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (auto& d : dir) d = normal(rng);
  op.apply(dir.data(), hdir.data());
  // Central difference of the gradient along dir: a small step, so that no ReLU changes side (1e-5 already does).
  const double h = 1e-7;
  auto shifted_gradient = [&](double s) {
    torch::NoGradGuard guard;
    std::size_t offset = 0;
    for (auto& p : model->parameters()) {
      auto flat = p.view({-1});
      for (std::int64_t k = 0; k < flat.numel(); ++k) flat[k] += s * dir[offset + std::size_t(k)];
      offset += std::size_t(p.numel());
    }
    return offset;
  };
  shifted_gradient(h);
  const auto gp = op.gradient();
  shifted_gradient(-2 * h);
  const auto gm = op.gradient();
  shifted_gradient(h);
  double err = 0, ref = 0;
  for (std::size_t i = 0; i < dir.size(); ++i) {
    const double fd = (gp[i] - gm[i]) / (2 * h);
    err += (fd - hdir[i]) * (fd - hdir[i]);
    ref += hdir[i] * hdir[i];
  }
  CATCH_INFO("relative difference to finite differences " << std::sqrt(err / ref));
  CATCH_CHECK(std::sqrt(err / ref) < 1e-6);
}

CATCH_TEST_CASE("Hessian along a run: the epoch list, the checkpoints it picks and the options' checks", "[hessian]") {
  CATCH_CHECK(parse_epoch_list("0,5, 10") == std::vector<std::int64_t>{0, 5, 10});
  for (const char* bad : {"", "0,,5", "1,", "-1", "a", "2.5"}) {
    CATCH_INFO(bad);
    CATCH_CHECK_THROWS_WITH((void)parse_epoch_list(bad), Catch::Contains("parse_epoch_list: expected comma-separated"));
  }
  // A run directory with the checkpoints of epochs 0..7 (empty files: only their existence is read).
  const test::TempDir tmp;
  const auto run = tmp.path;
  std::filesystem::create_directories(run / "checkpoints");
  for (int e = 0; e <= 7; ++e) std::ofstream(run / "checkpoints" / ("model_epoch_" + std::to_string(e) + ".pt"));
  HessianRunOptions o;
  o.every = 3;
  CATCH_CHECK(hessian_epochs(run, o) == std::vector<std::int64_t>{0, 3, 6});
  o.last = true;
  CATCH_CHECK(hessian_epochs(run, o) == std::vector<std::int64_t>{0, 3, 6, 7});
  o.every = 7;
  CATCH_CHECK(hessian_epochs(run, o) == std::vector<std::int64_t>{0, 7});
  o.epochs = {5, 1};
  CATCH_CHECK(hessian_epochs(run, o) == std::vector<std::int64_t>{5, 1});
  o.epochs = {9};
  CATCH_CHECK_THROWS_AS((void)hessian_epochs(run, o), InputError);
  const HessianRunOptions defaults;
  CATCH_CHECK_THROWS_AS((void)hessian_epochs(run / "none", defaults), InputError);
  // validate() names the option and its value.
  auto invalid = [](auto change, const std::string& message) {
    HessianRunOptions v;
    v.device = "cpu";
    change(v);
    CATCH_CHECK_THROWS_WITH(v.validate(), Catch::Contains("HessianRunOptions: " + message));
  };
  invalid([](HessianRunOptions& v) { v.every = 0; }, "every must be >= 1, got 0");
  invalid([](HessianRunOptions& v) { v.trace_products = 10; }, "trace_products must be 0 or a positive multiple of 3, got 10");
  invalid([](HessianRunOptions& v) { v.eigen.k = 0; }, "eigen.k must be >= 1, got 0");
  invalid([](HessianRunOptions& v) { v.eigen.start = {1.0}; }, "eigen.start must be empty");
  invalid([](HessianRunOptions& v) { v.data.batch_size = 0; }, "data.batch_size must be >= 1, got 0");
  invalid([](HessianRunOptions& v) { v.density_probes = 1; v.density_steps = 1; }, "density_steps must be >= 2, got 1");
  HessianOptions own;  // hessian_of_checkpoints' options: no checkpoint selection to ignore, its own name in messages
  own.device = "cpu";
  own.eigen.k = 0;
  CATCH_CHECK_THROWS_WITH(own.validate(), Catch::Contains("HessianOptions: eigen.k must be >= 1, got 0"));
  HessianRunOptions fine;
  fine.device = "cpu";
  CATCH_CHECK_NOTHROW(fine.validate());
  fine.device = "tpu";
  CATCH_CHECK_THROWS_WITH(fine.validate(), Catch::Contains("device must be cpu, cuda or auto, got 'tpu'"));
}
