// The spectrum algorithms of anodiff::core (spectrum.hpp) on dense matrices of known spectra, against Eigen's
// dense eigensolver; and write_hessian_run's files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include <Eigen/Dense>

#include "anodiff/io/csv.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/spectrum/hessian_spectrum.hpp"
#include "anodiff/spectrum/spectrum.hpp"
#include "test_helpers.hpp"

using namespace anodiff;

namespace {

// Q diag(d) Q^T with a random orthogonal Q (seeded).
Eigen::MatrixXd rotated(const Eigen::VectorXd& d, unsigned seed) {
  std::srand(seed);
  const Eigen::Index D = d.size();
  const Eigen::MatrixXd Q = Eigen::MatrixXd::Random(D, D).householderQr().householderQ();
  return Q * d.asDiagonal() * Q.transpose();
}

// A spectrum decaying geometrically from 10, with a few negative shifts.
Eigen::VectorXd decaying(Eigen::Index D, double decay) {
  Eigen::VectorXd d(D);
  for (Eigen::Index i = 0; i < D; ++i) d(i) = 10.0 * std::pow(decay, double(i)) - (i % 7 == 0 ? 0.5 : 0.0);
  return d;
}

// The eigenvalues in descending order.
std::vector<double> descending(const Eigen::MatrixXd& A) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(A);
  std::vector<double> v(es.eigenvalues().data(), es.eigenvalues().data() + A.rows());
  std::sort(v.rbegin(), v.rend());
  return v;
}

}  // namespace

TEST_CASE("spectrum: Lanczos finds both ends of a diagonal matrix, ranked, converged and verified", "[spectrum]") {
  Eigen::VectorXd d(80);
  for (Eigen::Index i = 0; i < 80; ++i) d(i) = double(i) - 20.0;  // -20 .. 59, in shuffled positions
  std::vector<Eigen::Index> perm(80);
  std::iota(perm.begin(), perm.end(), 0);
  std::reverse(perm.begin() + 10, perm.end());
  Eigen::VectorXd shuffled(80);
  for (Eigen::Index i = 0; i < 80; ++i) shuffled(i) = d(perm[std::size_t(i)]);
  DenseSymmetricOperator op(Eigen::MatrixXd(shuffled.asDiagonal()));
  REQUIRE(op.dimension() == 80);
  EigenOptions o;
  o.k = 4;
  o.tolerance = 1e-12;
  o.eigenvectors = true;
  const auto top = extreme_eigenpairs(op, o);
  REQUIRE(top.eigenpairs.size() == 4);
  CHECK(top.all_converged());
  CHECK(top.converged_count == 4);
  CHECK(top.products > 0);
  CHECK(top.verification_products == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    const auto& p = top.eigenpairs[i];
    CHECK(p.rank == i + 1);
    CHECK(p.converged);
    CHECK(p.eigenvalue == Approx(59.0 - double(i)).epsilon(1e-12));
    REQUIRE(p.residual.has_value());
    CHECK(*p.residual < 1e-9);
    CHECK(*p.relative_residual == Approx(*p.residual / std::fabs(p.eigenvalue)));
    // The eigenvector of a distinct diagonal entry is a unit coordinate vector (up to sign).
    REQUIRE(p.eigenvector.size() == 80);
    const auto where = std::find(shuffled.data(), shuffled.data() + 80, std::round(p.eigenvalue)) - shuffled.data();
    CHECK(std::fabs(p.eigenvector[std::size_t(where)]) == Approx(1.0).epsilon(1e-9));
  }
  CHECK(top.eigenvalues() == std::vector<double>{top.eigenpairs[0].eigenvalue, top.eigenpairs[1].eigenvalue,
                                                 top.eigenpairs[2].eigenvalue, top.eigenpairs[3].eigenvalue});
  o.end = SpectrumEnd::smallest;
  o.k = 3;
  o.eigenvectors = false;
  o.verify = false;
  const auto low = extreme_eigenpairs(op, o);
  REQUIRE(low.eigenpairs.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(low.eigenpairs[i].rank == i + 1);
    CHECK(low.eigenpairs[i].eigenvalue == Approx(-20.0 + double(i)).epsilon(1e-12));
    CHECK_FALSE(low.eigenpairs[i].residual.has_value());  // not verified: no residual, not a NaN
    CHECK_FALSE(low.eigenpairs[i].relative_residual.has_value());
    CHECK(low.eigenpairs[i].eigenvector.empty());
  }
  CHECK(low.verification_products == 0);
}

TEST_CASE("spectrum: Lanczos and power iteration on a rotated matrix agree with the dense eigensolver", "[spectrum]") {
  const Eigen::MatrixXd A = rotated(decaying(60, 0.8), 3);
  const auto ev = descending(A);
  DenseSymmetricOperator op(A);
  EigenOptions o;
  o.k = 3;
  o.tolerance = 1e-10;
  o.eigenvectors = true;
  const auto l = extreme_eigenpairs(op, o);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(A);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(l.eigenpairs[i].eigenvalue == Approx(ev[i]).epsilon(1e-10));
    // |<v, u>| = 1 with the dense eigenvector u.
    const Eigen::VectorXd u = es.eigenvectors().col(59 - Eigen::Index(i));
    const Eigen::Map<const Eigen::VectorXd> v(l.eigenpairs[i].eigenvector.data(), 60);
    CHECK(std::fabs(u.dot(v)) == Approx(1.0).epsilon(1e-8));
  }
  o.method = EigenMethod::power;
  o.max_iterations = 2000;
  const auto p = extreme_eigenpairs(op, o);
  CHECK(p.all_converged());
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(p.eigenpairs[i].rank == i + 1);
    CHECK(p.eigenpairs[i].eigenvalue == Approx(ev[i]).epsilon(1e-4));
  }
  CHECK(p.products > l.products);
  CHECK(p.iterations == p.products);  // one product per power iteration
  // The residual rule: every verified relative residual meets the tolerance (deflation adds a little).
  o.power_stop = PowerStop::residual;
  o.tolerance = 1e-6;
  o.max_iterations = 20000;
  const auto pr = extreme_eigenpairs(op, o);
  CHECK(pr.converged_count == 3);
  for (const auto& e : pr.eigenpairs) CHECK(*e.relative_residual < 1e-5);
  // Power iteration that runs out of products says so per eigenpair.
  o.max_iterations = 3;
  const auto cut = extreme_eigenpairs(op, o);
  REQUIRE(cut.eigenpairs.size() == 3);
  CHECK(cut.converged_count == 0);
  for (const auto& e : cut.eigenpairs) CHECK_FALSE(e.converged);
}

TEST_CASE("spectrum: Lanczos that cannot converge all k says how many did, and ranks every pair", "[spectrum]") {
  // Three well separated top eigenvalues, then a dense cluster: one restart converges the three, not the rest.
  Eigen::VectorXd d(300);
  d(0) = 100;
  d(1) = 50;
  d(2) = 25;
  for (Eigen::Index i = 3; i < 300; ++i) d(i) = 1.0 + 1e-3 * double(i);
  const Eigen::MatrixXd A = rotated(d, 7);
  const auto ev = descending(A);
  DenseSymmetricOperator op(A);
  EigenOptions o;
  o.k = 8;
  o.max_iterations = 1;
  o.tolerance = 1e-10;
  o.eigenvectors = true;
  EigenResult r;
  REQUIRE_NOTHROW(r = extreme_eigenpairs(op, o));
  REQUIRE(r.eigenpairs.size() == 8);  // all k: none silently dropped
  CHECK_FALSE(r.all_converged());
  CHECK(r.converged_count >= 3);
  CHECK(r.converged_count < 8);
  std::size_t flagged = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const auto& p = r.eigenpairs[i];
    CHECK(p.rank == i + 1);
    if (i > 0) CHECK(p.eigenvalue <= r.eigenpairs[i - 1].eigenvalue);  // ranked from the top
    REQUIRE(p.eigenvector.size() == 300);                              // a Ritz vector even when not converged
    REQUIRE(p.residual.has_value());
    if (p.converged) {
      ++flagged;
      CHECK(p.eigenvalue == Approx(ev[i]).epsilon(1e-9));  // the rank is its place in the spectrum
      CHECK(*p.relative_residual < 1e-8);
    }
  }
  CHECK(flagged == r.converged_count);
  for (std::size_t i = 0; i < 3; ++i) CHECK(r.eigenpairs[i].converged);
  // Given enough restarts, all converge, with the same top three.
  o.max_iterations = 1000;
  const auto full = extreme_eigenpairs(op, o);
  CHECK(full.all_converged());
  for (std::size_t i = 0; i < 8; ++i) CHECK(full.eigenpairs[i].eigenvalue == Approx(ev[i]).epsilon(1e-8));
  for (std::size_t i = 0; i < 3; ++i) CHECK(full.eigenpairs[i].eigenvalue == Approx(r.eigenpairs[i].eigenvalue).epsilon(1e-10));
}

TEST_CASE("spectrum: the start vector is used only when it has D values and is not zero", "[spectrum]") {
  // Every start gives the dense eigensolver's top two pairs; an unusable start gives the seeded random start's run
  // (the same number of products).
  const Eigen::MatrixXd A = rotated(decaying(50, 0.7), 11);
  const auto ev = descending(A);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(A);
  DenseSymmetricOperator op(A);
  EigenOptions o;
  o.k = 2;
  o.seed = 5;
  o.tolerance = 1e-10;
  o.eigenvectors = true;
  auto matches_dense = [&](const EigenResult& r) {
    REQUIRE(r.eigenpairs.size() == 2);
    CHECK(r.all_converged());
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(r.eigenpairs[i].eigenvalue == Approx(ev[i]).epsilon(1e-9));
      const Eigen::VectorXd u = es.eigenvectors().col(49 - Eigen::Index(i));
      const Eigen::Map<const Eigen::VectorXd> v(r.eigenpairs[i].eigenvector.data(), 50);
      CHECK(std::fabs(u.dot(v)) == Approx(1.0).epsilon(1e-8));
    }
  };
  const auto cold = extreme_eigenpairs(op, o);
  matches_dense(cold);
  for (const auto& start : {std::vector<double>(50, 0.0), std::vector<double>(49, 1.0)}) {
    INFO("start of " << start.size() << " values");
    o.start = start;
    const auto r = extreme_eigenpairs(op, o);
    CHECK(r.products == cold.products);  // the same seeded random start
    matches_dense(r);
  }
  o.start = std::vector<double>(50, 1.0);
  matches_dense(extreme_eigenpairs(op, o));
}

TEST_CASE("spectrum: errors name the function, the option and the value", "[spectrum]") {
  DenseSymmetricOperator op(Eigen::MatrixXd::Identity(10, 10));
  EigenOptions o;
  o.k = 10;
  CHECK_THROWS_WITH((void)extreme_eigenpairs(op, o), Catch::Contains("extreme_eigenpairs: EigenOptions::k must lie in 1..D-1 = 1..9, got 10"));
  o.k = 3;
  o.ncv = 3;
  CHECK_THROWS_WITH((void)extreme_eigenpairs(op, o),
                    Catch::Contains("extreme_eigenpairs: EigenOptions: ncv must be 0 (automatic) or > k = 3, got 3"));
  o.ncv = 11;  // what depends on the operator is checked when it is known
  CHECK_THROWS_WITH((void)extreme_eigenpairs(op, o), Catch::Contains("EigenOptions::ncv must lie in k+1..D = 4..10, got 11"));
  o.ncv = 0;
  o.tolerance = 0;
  CHECK_THROWS_WITH((void)extreme_eigenpairs(op, o), Catch::Contains("extreme_eigenpairs: EigenOptions: tolerance must be positive, got 0"));
  CHECK_THROWS_WITH((void)hutchpp_trace(op, 10), Catch::Contains("hutchpp_trace: products must be a positive multiple of 3, got 10"));
  CHECK_THROWS_WITH((void)spectral_density(op, 1, 11), Catch::Contains("spectral_density: needs probes >= 1 and 2 <= steps <= D (10)"));
  CHECK_THROWS_WITH(DenseSymmetricOperator(Eigen::MatrixXd(3, 4)), Catch::Contains("DenseSymmetricOperator: the matrix must be square"));
  CHECK_THROWS_AS((void)smooth_density(SpectralDensity{}), std::invalid_argument);
}

TEST_CASE("spectrum: Hutch++ is exact on a low-rank matrix and close on a decaying spectrum", "[spectrum]") {
  Eigen::VectorXd low = Eigen::VectorXd::Zero(100);
  for (Eigen::Index i = 0; i < 5; ++i) low(i) = 10.0 / double(i + 1);
  const Eigen::MatrixXd L = rotated(low, 2);
  DenseSymmetricOperator lop(L);
  CHECK(hutchpp_trace(lop, 30, 1) == Approx(L.trace()).epsilon(1e-10));  // the sketch holds the whole range
  const Eigen::MatrixXd A = rotated(decaying(200, 0.97), 5);
  DenseSymmetricOperator op(A);
  // The reference trace: the sum of the diagonal, by hand; and the operator is the matrix's product, by hand.
  double diagonal = 0;
  for (Eigen::Index i = 0; i < A.rows(); ++i) diagonal += A(i, i);
  const Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(200, -1.0, 2.0);
  Eigen::VectorXd y(200);
  op.apply(x.data(), y.data());
  double worst = 0;
  for (Eigen::Index i = 0; i < 200; ++i) {
    double yi = 0, size = 0;
    for (Eigen::Index j = 0; j < 200; ++j) yi += A(i, j) * x(j), size += std::fabs(A(i, j) * x(j));
    worst = std::max(worst, std::fabs(y(i) - yi) / size);
  }
  CHECK(worst < 1e-13);
  // With 3 D products (D sketch columns) the sketch spans R^D: the estimate is the trace itself.
  CHECK(hutchpp_trace(op, 600, 1) == Approx(diagonal).epsilon(1e-10));
  // With fewer, a seeded estimate within 5%; another seed draws other probes.
  const double one = hutchpp_trace(op, 90, 1), two = hutchpp_trace(op, 90, 2);
  CHECK(one == Approx(diagonal).epsilon(0.05));
  CHECK(two == Approx(diagonal).epsilon(0.05));
  CHECK(one != two);
  CHECK(hutchpp_trace(op, 90, 1) == one);  // reproducible (documented: seeded); the value is checked above
}

TEST_CASE("spectrum: SLQ has unit mass, the exact first two moments of a diagonal matrix, and the top eigenvalue",
          "[spectrum]") {
  // For a diagonal matrix and a Rademacher probe v, v^T A^j v / |v|^2 = trace(A^j) / D exactly (j = 1, 2).
  Eigen::VectorXd d(120);
  for (Eigen::Index i = 0; i < 120; ++i) d(i) = std::sin(double(i)) * 5.0 + 0.01 * double(i);
  DenseSymmetricOperator diag(Eigen::MatrixXd(d.asDiagonal()));
  const auto density = spectral_density(diag, 3, 30, 4);
  double mass = 0, m1 = 0, m2 = 0;
  for (std::size_t i = 0; i < density.nodes.size(); ++i) {
    mass += density.weights[i];
    m1 += density.weights[i] * density.nodes[i];
    m2 += density.weights[i] * density.nodes[i] * density.nodes[i];
  }
  CHECK(density.nodes.size() == 90);
  CHECK(mass == Approx(1.0).epsilon(1e-12));
  CHECK(m1 == Approx(d.sum() / 120).epsilon(1e-10));
  CHECK(m2 == Approx(d.squaredNorm() / 120).epsilon(1e-10));
  const Eigen::MatrixXd A = rotated(decaying(200, 0.97), 5);
  DenseSymmetricOperator op(A);
  const auto r = spectral_density(op, 8, 40, 2);
  double n1 = 0, n2 = 0;
  for (std::size_t i = 0; i < r.nodes.size(); ++i) n1 += r.weights[i] * r.nodes[i], n2 += r.weights[i] * r.nodes[i] * r.nodes[i];
  CHECK(n1 == Approx(A.trace() / 200).epsilon(0.1));
  CHECK(n2 == Approx((A * A).trace() / 200).epsilon(0.15));
  CHECK(*std::max_element(r.nodes.begin(), r.nodes.end()) == Approx(descending(A)[0]).epsilon(1e-6));
  // The smoothed curve: 400 points over the nodes' range padded by 5%, integrating to about 1.
  const auto s = smooth_density(r);
  REQUIRE(s.x.size() == 400);
  REQUIRE(s.y.size() == 400);
  const auto [lo, hi] = std::minmax_element(r.nodes.begin(), r.nodes.end());
  CHECK(s.x.front() == Approx(*lo - 0.05 * (*hi - *lo)).epsilon(1e-9));
  CHECK(s.x.back() == Approx(*hi + 0.05 * (*hi - *lo)).epsilon(1e-9));
  CHECK(s.sigma == Approx((s.x.back() - s.x.front()) / 100).epsilon(1e-9));
  double integral = 0;
  for (std::size_t i = 1; i < s.x.size(); ++i) integral += 0.5 * (s.y[i] + s.y[i - 1]) * (s.x[i] - s.x[i - 1]);
  CHECK(integral == Approx(1.0).epsilon(1e-3));
  CHECK(s.quadrature.nodes == r.nodes);
}

TEST_CASE("spectrum: write_hessian_run writes a row per eigenpair by rank, with the converged flag of each",
          "[spectrum]") {
  Eigen::VectorXd d(300);
  d(0) = 100, d(1) = 50, d(2) = 25;
  for (Eigen::Index i = 3; i < 300; ++i) d(i) = 1.0 + 1e-3 * double(i);
  DenseSymmetricOperator op(rotated(d, 7));
  EigenOptions o;
  o.k = 8;
  o.max_iterations = 1;
  o.tolerance = 1e-10;
  o.eigenvectors = true;
  HessianRun run;
  run.k = 8;
  for (std::int64_t epoch : {0, 5}) {
    HessianCheckpoint c;
    c.epoch = epoch;
    c.eigen = extreme_eigenpairs(op, o);
    c.warm_start = epoch > 0;
    if (epoch == 5) c.trace = TraceEstimate{hutchpp_trace(op, 9, 0), 9};
    if (epoch == 5) c.density = smooth_density(spectral_density(op, 2, 10, 0));
    run.checkpoints.push_back(c);
  }
  const test::TempDir dir;
  write_hessian_run(run, dir.path, {false, {}});
  const auto csv = CsvTable::read(dir / "eigenvalues.csv");
  CHECK(csv.names() == std::vector<std::string>{"epoch", "rank", "eigenvalue", "residual", "relative_residual",
                                                "converged", "products", "verification_products", "seconds",
                                                "warm_start"});
  REQUIRE(csv.rows() == 16);
  std::size_t converged = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const auto& p = run.checkpoints[0].eigen.eigenpairs[i];
    CHECK(csv.number(i, "rank") == double(i + 1));
    CHECK(csv.number(i, "eigenvalue") == Approx(p.eigenvalue).epsilon(1e-9));
    CHECK(csv.number(i, "converged") == (p.converged ? 1.0 : 0.0));
    CHECK(csv.number(i, "warm_start") == 0.0);
    CHECK(csv.number(i + 8, "warm_start") == 1.0);
    converged += p.converged ? 1 : 0;
  }
  CHECK(converged == run.checkpoints[0].eigen.converged_count);
  CHECK(converged < 8);
  const auto trace = CsvTable::read(dir / "trace.csv");
  REQUIRE(trace.rows() == 1);
  CHECK(trace.number(0, "epoch") == 5);
  CHECK(trace.number(0, "products") == 9);
  CHECK_FALSE(std::filesystem::exists(dir / "density_epoch_0.csv"));
  CHECK(CsvTable::read(dir / "density_epoch_5.csv").rows() == 400);
  CHECK(std::filesystem::file_size(dir / "eigenvectors_epoch_0.npy") > 8 * 300 * 8);
  CHECK_FALSE(std::filesystem::exists(dir / "eigenvalues.png"));
}
