#include "anodiff/toy_sgd.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "detail/random.hpp"

namespace anodiff {

ToySgdResult run_toy_sgd(const Landscape2D& landscape, const ToySgdOptions& o) {
  if (!(o.eta >= 0)) throw std::invalid_argument(fmt::format("toy SGD: eta must be >= 0, got {}", o.eta));
  if (!(o.sigma >= 0)) throw std::invalid_argument(fmt::format("toy SGD: sigma must be >= 0, got {}", o.sigma));
  if (o.steps == 0 || o.repeats == 0) throw std::invalid_argument("toy SGD: steps and repeats must be positive");
  if (o.fixed_start && (std::fabs(o.start_x) > 1 || std::fabs(o.start_y) > 1)) {
    throw std::invalid_argument(
        fmt::format("toy SGD: the start ({}, {}) lies outside [-1, 1]^2", o.start_x, o.start_y));
  }
  const std::size_t W = o.repeats;
  std::vector<std::vector<double>> rows(W);
  std::vector<std::vector<double>> losses(W);
  ToySgdResult r;
  r.redraws.assign(W, 0);
  r.skipped.assign(W, 0);
#pragma omp parallel for schedule(dynamic, 1)
  for (std::size_t w = 0; w < W; ++w) {
    detail::Rng rng(detail::mix(o.seed, w));
    double x = o.fixed_start ? o.start_x : 2 * rng.uniform() - 1;
    double y = o.fixed_start ? o.start_y : 2 * rng.uniform() - 1;
    auto& path = rows[w];
    auto& loss = losses[w];
    path.resize(2 * (o.steps + 1));
    loss.resize(o.steps + 1);
    path[0] = x, path[1] = y;
    loss[0] = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t t = 1; t <= o.steps; ++t) {
      const auto g = landscape.gradient(x, y);
      loss[t] = landscape.loss(x, y);  // the loss of step t is computed at snapshot t - 1, before the update
      const double bx = x - o.eta * g[0], by = y - o.eta * g[1];
      bool moved = false;
      for (std::size_t k = 0; k < o.max_redraws; ++k) {
        const double nx = bx + o.sigma * rng.normal(), ny = by + o.sigma * rng.normal();
        if (std::fabs(nx) <= 1 && std::fabs(ny) <= 1) {
          x = nx, y = ny, moved = true;
          break;
        }
        ++r.redraws[w];
      }
      if (!moved) ++r.skipped[w];
      path[2 * t] = x, path[2 * t + 1] = y;
    }
  }
  for (std::size_t w = 0; w < W; ++w) {
    StepTable steps;
    steps.names = {"step", "loss"};
    steps.columns.resize(2);
    for (std::size_t t = 0; t <= o.steps; ++t) steps.columns[0].push_back(double(t));
    steps.columns[1] = std::move(losses[w]);
    r.paths.push_back(WeightTrajectory::from_rows(std::move(rows[w]), 2, std::move(steps)));
  }
  return r;
}

}  // namespace anodiff
