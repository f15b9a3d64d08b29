#include "anodiff/analysis/trajectory_pca.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <Eigen/Dense>
#include <fmt/format.h>

namespace anodiff {

TrajectoryPca trajectory_pca(const WeightTrajectory& t, std::size_t first, std::size_t count, std::size_t components,
                             std::optional<std::size_t> reference_snapshot) {
  if (count < 3 || first + count > t.size()) {
    throw std::invalid_argument(fmt::format("trajectory_pca: part [{}, {}) of {} snapshots needs at least 3", first,
                                            first + count, t.size()));
  }
  if (components < 1 || components >= count) {
    throw std::invalid_argument(fmt::format("trajectory_pca: components must lie in 1..{}, got {}", count - 1, components));
  }
  const std::size_t reference = reference_snapshot.value_or(first + count - 1);
  const std::size_t D = t.dimension();
  const Eigen::Index n = Eigen::Index(count);
  std::vector<double> ref(D);
  t.read(reference, 1, 0, D, ref.data());
  // Column means of X = W - w_ref over the part, then the centred Gram matrix, block by block.
  const std::size_t width = 4096;
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(Eigen::Index(D));
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(n, n);
  Eigen::MatrixXd block(n, Eigen::Index(std::min(width, D)));
  auto load_block = [&](std::size_t col, std::size_t w) {
    std::vector<double> rows(count * w);
    t.read(first, count, col, w, rows.data());
    block.resize(n, Eigen::Index(w));
    for (std::size_t r = 0; r < count; ++r) {
      for (std::size_t j = 0; j < w; ++j) block(Eigen::Index(r), Eigen::Index(j)) = rows[r * w + j] - ref[col + j];
    }
  };
  for (std::size_t col = 0; col < D; col += width) {
    const std::size_t w = std::min(width, D - col);
    load_block(col, w);
    const Eigen::RowVectorXd m = block.colwise().mean();
    mean.segment(Eigen::Index(col), Eigen::Index(w)) = m.transpose();
    block.rowwise() -= m;
    gram.selfadjointView<Eigen::Lower>().rankUpdate(block);
  }
  gram = gram.selfadjointView<Eigen::Lower>();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(gram);
  const double total = std::max(es.eigenvalues().sum(), 1e-300);
  TrajectoryPca out;
  out.reference = reference;
  out.coordinates.assign(count, std::vector<double>(components, 0.0));
  for (std::size_t c = 0; c < components; ++c) {
    const Eigen::Index k = n - 1 - Eigen::Index(c);  // eigenvalues ascending
    const double lambda = std::max(es.eigenvalues()(k), 1e-300);
    const Eigen::VectorXd u = es.eigenvectors().col(k);
    out.explained_variance_ratio.push_back(es.eigenvalues()(k) / total);
    // direction = X_c^T u / sqrt(lambda), accumulated block by block
    std::vector<double> dir(D);
    for (std::size_t col = 0; col < D; col += width) {
      const std::size_t w = std::min(width, D - col);
      load_block(col, w);
      block.rowwise() -= mean.segment(Eigen::Index(col), Eigen::Index(w)).transpose();
      const Eigen::VectorXd part = block.transpose() * u / std::sqrt(lambda);
      std::copy(part.data(), part.data() + w, dir.begin() + std::ptrdiff_t(col));
    }
    out.directions.push_back(std::move(dir));
  }
  // Coordinates of the (uncentred) w_t - w_ref in the plane.
  std::vector<double> row(D);
  for (std::size_t r = 0; r < count; ++r) {
    t.read(first + r, 1, 0, D, row.data());
    for (std::size_t c = 0; c < components; ++c) {
      double s = 0;
      for (std::size_t j = 0; j < D; ++j) s += (row[j] - ref[j]) * out.directions[c][j];
      out.coordinates[r][c] = s;
    }
  }
  return out;
}

}  // namespace anodiff
