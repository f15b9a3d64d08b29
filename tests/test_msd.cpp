#include <catch2/catch.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "anodiff/analysis/fit.hpp"
#include "anodiff/analysis/msd.hpp"
#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/trajectory/synthetic.hpp"
#include "test_helpers.hpp"

using namespace anodiff;

namespace {
std::vector<double> lags_of(const MsdCurve& c) { return {c.lag.begin(), c.lag.end()}; }
}  // namespace

TEST_CASE("msd: a ballistic trajectory has MSD = tau^2 |v|^2 exactly", "[msd][known]") {
  const std::vector<double> v = {0.3, -0.4, 1.2};  // |v|^2 = 1.69
  const auto t = synthetic::ballistic(200, v);
  for (auto method : {MsdMethod::pairs, MsdMethod::fft}) {
    MsdOptions o;
    o.method = method;
    const auto curves = msd(t, o);
    REQUIRE(curves.size() == 1);
    const auto& c = curves[0];
    REQUIRE(c.lag.size() == 199);
    for (std::size_t i = 0; i < c.lag.size(); ++i) {
      const double tau = double(c.lag[i]);
      CHECK(c.msd[i] == Approx(1.69 * tau * tau).epsilon(method == MsdMethod::pairs ? 1e-12 : 1e-9));
    }
    const auto beta = local_exponent(c, 20);
    REQUIRE(beta.lag.size() == 199 - 20);
    for (double b : beta.beta) CHECK(b == Approx(2.0).epsilon(1e-9));
  }
}

TEST_CASE("msd: Brownian motion gives alpha = 1", "[msd][known]") {
  const auto t = synthetic::brownian(2000, 200, 0.01, 11);
  const auto c = msd(t).front();
  // MSD = D step^2 tau = 0.02 tau; statistical error of the time average at lags <= 100 is a few percent.
  const auto f = fit_power_law(lags_of(c), c.msd, 1, 100);
  CHECK(f.exponent == Approx(1.0).margin(0.03));
  CHECK(f.prefactor == Approx(0.02).epsilon(0.05));
}

TEST_CASE("msd: fractional Brownian motion with Hurst H gives alpha = 2H (tolerance 0.05)", "[msd][known]") {
  for (double H : {0.25, 0.5, 0.75}) {
    const auto t = synthetic::fractional_brownian(2000, 64, H, 5);
    const auto c = msd(t).front();
    const auto f = fit_power_law(lags_of(c), c.msd, 1, 200);
    INFO("H = " << H << ", alpha = " << f.exponent);
    CHECK(f.exponent == Approx(2 * H).margin(0.05));
    CHECK(f.prefactor == Approx(64.0).epsilon(0.1));  // unit increment variance per coordinate
  }
  CHECK_THROWS_AS(synthetic::fractional_brownian(10, 1, 1.0, 0), std::invalid_argument);
}

TEST_CASE("msd: the two-regime fit recovers a persistent walk's crossover within 20%", "[msd][known][fit]") {
  // Runs of 50 steps in a random direction: ballistic (alpha 2) below 50 steps, diffusive (alpha 1) above;
  // the asymptotes v^2 tau^2 and v^2 L tau meet at tau0 = L = 50.
  const auto t = synthetic::persistent_walk(20000, 400, 50, 1.0, 9);
  const auto c = msd(t).front();
  CrossoverOptions o;
  o.max_lag = 2000;
  const auto f = fit_crossover(lags_of(c), c.msd, o);
  INFO("early " << f.early_exponent << " late " << f.late_exponent << " tau0 " << f.crossover);
  REQUIRE(f.valid);
  CHECK(f.crossover == Approx(50).epsilon(0.2));
  CHECK(f.early_exponent > 1.8);
  CHECK(f.late_exponent == Approx(1.0).margin(0.15));
  CHECK(f.crossover_error > 0);
}

TEST_CASE("msd: the FFT method agrees with the exact pairs method", "[msd]") {
  const auto t = synthetic::brownian(1500, 50, 1.0, 2);
  MsdOptions exact, fft;
  exact.method = MsdMethod::pairs;
  fft.method = MsdMethod::fft;
  exact.part_length = fft.part_length = 700;  // two parts, a remainder of 100 dropped
  const auto a = msd(t, exact), b = msd(t, fft);
  REQUIRE(a.size() == 2);
  REQUIRE(b.size() == 2);
  CHECK(a[1].start == 700);
  for (std::size_t p = 0; p < 2; ++p) {
    for (std::size_t i = 0; i < a[p].msd.size(); ++i) CHECK(b[p].msd[i] == Approx(a[p].msd[i]).epsilon(1e-9));
  }
}

TEST_CASE("msd: with two threads the FFT MSD is the same to the bit in every run, and equals one thread's",
          "[msd]") {
  const auto t = synthetic::brownian(600, 4000, 1.0, 9);  // many column blocks, shared by the threads
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto one = msd_fft(t, 0, t.size());
  omp_set_num_threads(2);
  const auto first = msd_fft(t, 0, t.size());
  for (int run = 0; run < 4; ++run) CHECK(msd_fft(t, 0, t.size()) == first);
  omp_set_num_threads(threads);
  for (std::size_t k = 1; k < one.size(); ++k) CHECK(first[k] == Approx(one[k]).epsilon(1e-12));
}

TEST_CASE("msd: parts, max_lag and the aging MSD follow the conventions", "[msd]") {
  const auto t = synthetic::brownian(100, 3, 1.0, 4);
  MsdOptions o;
  o.part_length = 30;
  o.max_lag = 10;
  const auto c = msd(t, o);
  REQUIRE(c.size() == 3);  // 10 snapshots dropped
  CHECK(c[2].start == 60);
  CHECK(c[2].part == 2);
  CHECK(c[2].lag.back() == 10);
  const auto aging = aging_msd(t, o);
  REQUIRE(aging.size() == 3);
  const auto w0 = t.snapshot(60), w7 = t.snapshot(67);
  double d = 0;
  for (std::size_t j = 0; j < 3; ++j) d += (w7[j] - w0[j]) * (w7[j] - w0[j]);
  CHECK(aging[2].msd[6] == Approx(d));
  CHECK(split_parts(100, 0).size() == 1);
  CHECK_THROWS_AS(local_exponent(c[0], 0), std::invalid_argument);
}

TEST_CASE("msd: ensemble average and ergodicity breaking of Brownian motion", "[msd][known]") {
  // 1-D Brownian motion: EB(tau) -> (4/3) tau / T for tau << T (Burov et al. 2011); ensemble MSD = tau.
  std::vector<WeightTrajectory> ts;
  for (int k = 0; k < 400; ++k) ts.push_back(synthetic::brownian(1000, 1, 1.0, 1000 + k));
  const auto e = ensemble_msd(ts);
  REQUIRE(e.size() == 1);
  const auto& c = e[0];
  CHECK(c.trajectories == 400);
  CHECK(c.time_averaged_msd[9] == Approx(10.0).epsilon(0.05));
  CHECK(c.ensemble_msd[9] == Approx(10.0).epsilon(0.2));
  CHECK(c.ergodicity_breaking[9] == Approx(4.0 / 3.0 * 10.0 / 1000.0).epsilon(0.25));
  CHECK_THROWS_AS(ensemble_msd({ts[0]}), std::invalid_argument);
  CHECK_THROWS_AS(ensemble_msd({ts[0], synthetic::brownian(999, 1, 1.0, 0)}), std::invalid_argument);
}

#include "anodiff/analysis/random_projection.hpp"

TEST_CASE("random projection: the MSD of a sketched trajectory is within 3 sqrt(2/k) of the exact MSD",
          "[msd][projection]") {
  // Stated accuracy: relative standard deviation <= sqrt(2/k) = 2.2% per squared distance at k = 4096 (averaging
  // over pairs can only lower it); every lag within 3 standard deviations (6.6%). The lags share one sketch, so
  // their errors are correlated: the mean error over lags is about one draw, not an average of many.
  const std::size_t T = 300, D = 20000, k = 4096;
  const auto t = synthetic::fractional_brownian(T, D, 0.7, 3);
  const RandomProjection p(D, k, 11);
  std::vector<float> sketched(T * k), row_f(D);
  std::vector<double> row(D);
  for (std::size_t s = 0; s < T; ++s) {
    t.read(s, 1, 0, D, row.data());
    for (std::size_t j = 0; j < D; ++j) row_f[j] = float(row[j]);
    p.apply(row_f.data(), sketched.data() + s * k);
  }
  const auto exact = msd(t).front();
  const auto approx = msd(WeightTrajectory::from_rows(std::move(sketched), k)).front();
  double worst = 0, mean = 0;
  for (std::size_t i = 0; i < exact.msd.size(); ++i) {
    const double e = std::fabs(approx.msd[i] / exact.msd[i] - 1);
    worst = std::max(worst, e);
    mean += e / double(exact.msd.size());
  }
  INFO("worst relative MSD error " << worst << ", mean " << mean);
  const double sd = std::sqrt(2.0 / double(k));
  CHECK(worst < 3 * sd);
  CHECK_THROWS_AS(RandomProjection(0, 3, 1), std::invalid_argument);
}

namespace {

// Worst relative error of the certified FFT MSD against the float64 brute force.
double worst_fft_error(const WeightTrajectory& t, MsdFftResult& report) {
  report = msd_fft_certified(t, 0, t.size());
  const auto& fast = report.msd;
  const auto ref = test::brute_msd(t);
  double worst = 0;
  for (std::size_t tau = 1; tau < t.size(); ++tau) worst = std::max(worst, std::fabs(fast[tau] - ref[tau]) / ref[tau]);
  return worst;
}

// T snapshots of D coordinates from f(t, j), stored as float32 like a recorded trajectory.
template <class F>
WeightTrajectory float32_rows(std::size_t T, std::size_t D, F f) {
  std::vector<float> rows(T * D);
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t j = 0; j < D; ++j) rows[t * D + j] = static_cast<float>(f(t, j));
  return WeightTrajectory::from_rows(std::move(rows), D);
}

}  // namespace

TEST_CASE("msd: the certified FFT is exact to 1e-9 where the plain spectral identity is not", "[msd][precision]") {
  MsdFftResult report;
  SECTION("steps 1e-5 of the spread, a jump and an offset of 1000 (5000 snapshots)") {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> n(0.0, 1e-5);
    const std::size_t T = 5000, D = 8;
    std::vector<double> rows(T * D);
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t j = 0; j < D; ++j)
        rows[t * D + j] = (t ? rows[(t - 1) * D + j] : 1000.0) + n(rng) + (t == T / 2 ? 0.35 : 0.0);
    const double worst = worst_fft_error(WeightTrajectory::from_rows(std::move(rows), D), report);
    INFO("worst relative error " << worst << ", lags summed directly: " << report.direct_lags.size());
    CHECK(worst < 1e-9);
  }
  SECTION("a slow float32 drift with small wiggles (near-ballistic, 1200 snapshots)") {
    const auto t = float32_rows(1200, 37, [](std::size_t s, std::size_t j) {
      return 3.0 + 0.001 * double(s) * (1.0 + 0.1 * double(j)) + 1e-6 * std::sin(0.7 * double(s * (j + 1)));
    });
    const double worst = worst_fft_error(t, report);
    INFO("worst relative error " << worst << ", lags summed directly: " << report.direct_lags.size());
    CHECK(worst < 1e-9);
    CHECK(!report.direct_lags.empty());  // the bound sends the shortest lags to the direct sum here
  }
  SECTION("independent random points (every step as long as the distances)") {
    std::mt19937 rng(3);
    std::normal_distribution<double> n(0.0, 1.0);
    const auto t = float32_rows(600, 21, [&](std::size_t, std::size_t) { return n(rng); });
    const double worst = worst_fft_error(t, report);
    INFO("worst relative error " << worst);
    CHECK(worst < 1e-9);
    CHECK(report.direct_lags.empty());  // nothing to cancel: every spectral value is certified
  }
  SECTION("a float32 random walk over an odd number of coordinates and several FFT batches") {
    const auto t = synthetic::brownian(700, 53, 0.01, 5);
    const double worst = worst_fft_error(t, report);
    INFO("worst relative error " << worst);
    CHECK(worst < 1e-9);
    CHECK(report.direct_lags.empty());
    CHECK(report.fft_length == 2048);
  }
}

TEST_CASE("msd: the certified FFT equals the brute force for every short part length (FFT sizes 4 .. 128)", "[msd]") {
  const auto t = synthetic::brownian(64, 19, 0.1, 9);
  for (std::size_t count = 2; count <= 64; ++count) {
    const auto fast = msd_fft(t, 64 - count, count);
    const auto part = t.slice(64 - count, count);
    const auto ref = test::brute_msd(part);
    for (std::size_t tau = 1; tau < count; ++tau) CHECK(fast[tau] == Approx(ref[tau]).epsilon(1e-10));
  }
}

TEST_CASE("post-analysis: radial and angular MSD of scale-invariant groups separate norm drift from rotation",
          "[msd][motion]") {
  // Two groups of 50 coordinates and 10 free ones. Group 0: a fixed direction whose norm grows linearly (ballistic
  // radial motion, no angular motion). Group 1: a random walk on the sphere of radius 3 (angular motion only).
  const std::size_t T = 400, D = 110;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::vector<double> u0(50), u1(50), rows(T * D);
  for (auto& v : u0) v = normal(rng);
  for (auto& v : u1) v = normal(rng);
  auto normalise = [](std::vector<double>& v) {
    double n = 0;
    for (double x : v) n += x * x;
    for (double& x : v) x /= std::sqrt(n);
  };
  normalise(u0);
  normalise(u1);
  for (std::size_t t = 0; t < T; ++t) {
    for (std::size_t j = 0; j < 50; ++j) rows[t * D + j] = (1.0 + 0.01 * double(t)) * u0[j];
    for (auto& v : u1) v += 0.01 * normal(rng);
    normalise(u1);
    for (std::size_t j = 0; j < 50; ++j) rows[t * D + 50 + j] = 3.0 * u1[j];
    for (std::size_t j = 100; j < D; ++j) rows[t * D + j] = normal(rng);
  }
  PostAnalysisOptions o;
  o.layout = ParameterLayout{{{"a.weight", {5, 10}, 0, 50, 0}, {"b.weight", {50}, 50, 50, 1}, {"c.bias", {10}, 100, 10, -1}}};
  const auto parts = post_analysis(WeightTrajectory::from_rows(rows, D), o);
  REQUIRE(parts.front().motion.size() == 3);
  const auto& radial = parts.front().motion[1];
  const auto& angular = parts.front().motion[2];
  CHECK(radial.component == "radial");
  CHECK(radial.dimension == 2);
  CHECK(angular.dimension == 100);
  // Radial: only group 0's norm moves, by 0.01 a step: MSD = (0.01 tau)^2 exactly.
  for (std::size_t tau : {1, 10, 100}) CHECK(radial.msd.msd[tau - 1] == Approx(1e-4 * double(tau * tau)).epsilon(1e-9));
  CHECK(radial.short_band.median == Approx(2.0).margin(1e-9));
  // Angular: group 0's direction never moves; group 1's does, diffusively on the sphere (unit vectors).
  CHECK(angular.msd.msd[0] == Approx(50 * 1e-4).epsilon(0.2));
  CHECK(angular.short_band.median == Approx(1.0).margin(0.1));
  // A layout of another size is refused by name.
  o.layout->tensors.pop_back();
  CHECK_THROWS_WITH(post_analysis(WeightTrajectory::from_rows(rows, D), o), Catch::Contains("layout covers 100"));
}

TEST_CASE("parameter layout: malformed files are refused naming the file and line", "[layout][errors]") {
  const test::TempDir tmp;  // unique per process: two builds' tests may run at once
  const auto& dir = tmp.path;
  auto write = [&](const std::string& text) {
    std::ofstream(dir / "layout.csv") << text;
    return dir / "layout.csv";
  };
  const auto good = ParameterLayout::read_csv(write("name,offset,size,shape,group\r\nw,0,6,2x3,0\r\nb,6,2,2,-1\r\n"));
  CHECK(good.dimension() == 8);
  CHECK(good.groups() == 1);
  CHECK_THROWS_WITH(ParameterLayout::read_csv(write("name,size\n")), Catch::Contains("expected the header"));
  CHECK_THROWS_WITH(ParameterLayout::read_csv(write("name,offset,size,shape,group\nw,0,5,2x3,0\n")),
                    Catch::Contains("layout.csv:2: expected size = product of the shape (6)"));
  CHECK_THROWS_WITH(ParameterLayout::read_csv(write("name,offset,size,shape,group\nw,0,6,2x3,0\nb,7,2,2,-1\n")),
                    Catch::Contains("layout.csv:3: expected offset 6"));
  CHECK_THROWS_WITH(ParameterLayout::read_csv(write("name,offset,size,shape,group\nw,x,6,2x3,0\n")),
                    Catch::Contains("expected name,offset,size,shape,group with numbers"));
  CHECK_THROWS_WITH(ParameterLayout::read_csv(write("name,offset,size,shape,group\nw,0,6.5,2x3,0\n")),
                    Catch::Contains("with numbers"));
}

TEST_CASE("random projection: S x is a count sketch by its definition: one +-1 per column, buckets and signs even",
          "[msd][projection]") {
  // The definition (random_projection.hpp): coordinate j goes to bucket h(j) with sign s(j). Column j of S is read
  // with a unit vector (exactly one entry, +-1); S x must then be sum_j s(j) x_j e_{h(j)}, summed here in float64.
  const std::size_t D = 3000, k = 24;
  const RandomProjection p(D, k, 11);
  CHECK(p.input() == D);
  CHECK(p.output() == k);
  std::vector<std::size_t> bucket(D, k);
  std::vector<double> sign(D, 0.0);
  std::vector<float> unit(D, 0.0f), out(k);
  std::size_t malformed = 0;
  for (std::size_t j = 0; j < D; ++j) {
    unit[j] = 1.0f;
    std::fill(out.begin(), out.end(), std::nanf(""));  // apply() must overwrite every output, not add to it
    p.apply(unit.data(), out.data());
    unit[j] = 0.0f;
    std::size_t nonzero = 0;
    for (std::size_t b = 0; b < k; ++b) {
      if (out[b] != 0.0f) ++nonzero, bucket[j] = b, sign[j] = out[b];
    }
    if (nonzero != 1 || std::fabs(sign[j]) != 1.0) ++malformed;
  }
  REQUIRE(malformed == 0);
  // h and s drawn evenly: every bucket within 5 standard deviations of D / k, the signs within 5 of D / 2.
  std::vector<double> per_bucket(k, 0.0);
  double plus = 0;
  for (std::size_t j = 0; j < D; ++j) per_bucket[bucket[j]] += 1, plus += sign[j] > 0 ? 1 : 0;
  const double mean = double(D) / double(k);
  for (std::size_t b = 0; b < k; ++b) CHECK(std::fabs(per_bucket[b] - mean) < 5 * std::sqrt(mean));
  CHECK(std::fabs(plus - double(D) / 2) < 5 * std::sqrt(double(D)) / 2);
  // S x against the definition, for x of mixed magnitudes (float accumulation: 1e-5 of the bucket's |x| sum).
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> x(D);
  for (std::size_t j = 0; j < D; ++j) x[j] = u(rng) * float(1 + j % 7);
  std::vector<double> ref(k, 0.0), scale(k, 0.0);
  for (std::size_t j = 0; j < D; ++j) ref[bucket[j]] += sign[j] * double(x[j]), scale[bucket[j]] += std::fabs(x[j]);
  std::fill(out.begin(), out.end(), std::nanf(""));
  p.apply(x.data(), out.data());
  for (std::size_t b = 0; b < k; ++b) {
    INFO("bucket " << b);
    CHECK(std::fabs(double(out[b]) - ref[b]) <= 1e-5 * scale[b]);
  }
  // The seed decides the map: the same seed the same sketch, another seed another.
  std::vector<float> again(k), other(k);
  RandomProjection(D, k, 11).apply(x.data(), again.data());
  RandomProjection(D, k, 12).apply(x.data(), other.data());
  CHECK(again == out);
  CHECK(other != out);
  CHECK_THROWS_AS(RandomProjection(D, 0, 1), std::invalid_argument);
}

#include <Eigen/Dense>

#include "anodiff/analysis/trajectory_pca.hpp"

TEST_CASE("trajectory PCA: directions, variance ratios and coordinates equal the SVD of the centred snapshots",
          "[pca]") {
  // 16 snapshots of D = 4100 coordinates (two column blocks of trajectory_pca's 4096): an offset, three factors of
  // well separated variance along random (not orthogonal) vectors, and a little noise. The part is [2, 13).
  const std::size_t T = 16, D = 4100, first = 2, count = 11, components = 3;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::vector<std::vector<double>> factor(3, std::vector<double>(D));
  for (auto& f : factor) {
    for (auto& v : f) v = normal(rng);
  }
  const double weight[3] = {8.0, 3.0, 1.0};
  std::vector<double> rows(T * D);
  for (std::size_t t = 0; t < T; ++t) {
    double c[3];
    for (double& ci : c) ci = normal(rng);
    for (std::size_t j = 0; j < D; ++j) {
      double v = 0.5 + 0.05 * normal(rng);
      for (int q = 0; q < 3; ++q) v += weight[q] * c[q] * factor[std::size_t(q)][j];
      rows[t * D + j] = v;
    }
  }
  const auto traj = WeightTrajectory::from_rows(rows, D);
  for (const std::optional<std::size_t> reference : {std::optional<std::size_t>{}, std::optional<std::size_t>{0}}) {
    const std::size_t r = reference.value_or(first + count - 1);  // documented default: the part's last snapshot
    INFO("reference snapshot " << r);
    const auto pca = trajectory_pca(traj, first, count, components, reference);
    CHECK(pca.reference == r);
    REQUIRE(pca.directions.size() == components);
    REQUIRE(pca.explained_variance_ratio.size() == components);
    REQUIRE(pca.coordinates.size() == count);
    // The reference: X = W_part - w_ref, centred over the snapshots (sklearn's PCA), X_c = U S V^T.
    Eigen::MatrixXd X(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(D));
    for (std::size_t t = 0; t < count; ++t) {
      for (std::size_t j = 0; j < D; ++j) X(Eigen::Index(t), Eigen::Index(j)) = rows[(first + t) * D + j] - rows[r * D + j];
    }
    const Eigen::MatrixXd Xc = X.rowwise() - X.colwise().mean();
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(Xc, Eigen::ComputeThinV);
    const Eigen::VectorXd s = svd.singularValues();  // descending
    // The fixture's variances are well separated (the components are then defined up to sign).
    REQUIRE(s(0) > 1.5 * s(1));
    REQUIRE(s(1) > 1.5 * s(2));
    REQUIRE(s(2) > 1.5 * s(3));
    // Explained variance ratio: s_c^2 / (n - 1) over the total variance sum_i s_i^2 / (n - 1).
    const double total = s.squaredNorm();
    for (std::size_t c = 0; c < components; ++c) {
      INFO("component " << c);
      CHECK(pca.explained_variance_ratio[c] == Approx(s(Eigen::Index(c)) * s(Eigen::Index(c)) / total).epsilon(1e-9));
      REQUIRE(pca.directions[c].size() == D);
      const Eigen::Map<const Eigen::VectorXd> d(pca.directions[c].data(), Eigen::Index(D));
      const Eigen::VectorXd v = svd.matrixV().col(Eigen::Index(c));
      const double sgn = v.dot(d) < 0 ? -1.0 : 1.0;
      CHECK((d - sgn * v).norm() <= 1e-9);  // unit vectors: relative
      // Coordinates (documented): (w_t - w_ref) . direction, the uncentred difference.
      const Eigen::VectorXd ref = X * (sgn * v);
      double worst = 0;
      for (std::size_t t = 0; t < count; ++t) {
        REQUIRE(pca.coordinates[t].size() == components);
        worst = std::max(worst, std::fabs(pca.coordinates[t][c] - ref(Eigen::Index(t))));
      }
      INFO("worst coordinate error " << worst << " of " << ref.norm());
      CHECK(worst <= 1e-9 * ref.norm());
    }
  }
  CHECK_THROWS_AS(trajectory_pca(traj, 0, 2), std::invalid_argument);
  CHECK_THROWS_AS(trajectory_pca(traj, 0, 5, 5), std::invalid_argument);
}
