#include <fmt/format.h>

#include "anodiff/io/csv.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/output/plot.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {
std::string optional_number(const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : std::string(); }
}  // namespace

void write_hessian_run(const HessianRun& run, const fs::path& dir, const OutputOptions& output) {
  fs::create_directories(dir);
  bool any_trace = false;
  for (const auto& c : run.checkpoints) any_trace = any_trace || c.trace.has_value();
  {
    CsvWriter csv(dir / "eigenvalues.csv",
                  "epoch,rank,eigenvalue,residual,relative_residual,converged,products,verification_products,seconds,"
                  "warm_start");
    for (const auto& c : run.checkpoints) {
      const auto& r = c.eigen;
      for (const auto& p : r.eigenpairs) {
        csv.row("{},{},{:.10g},{},{},{},{},{},{:.3f},{}", c.epoch, p.rank, p.eigenvalue, optional_number(p.residual),
                optional_number(p.relative_residual), p.converged ? 1 : 0, r.products, r.verification_products,
                r.seconds, c.warm_start ? 1 : 0);
      }
    }
    csv.flush();
  }
  if (any_trace) {
    CsvWriter trace(dir / "trace.csv", "epoch,trace,products");
    for (const auto& c : run.checkpoints) {
      if (c.trace) trace.row("{},{:.10g},{}", c.epoch, c.trace->trace, c.trace->products);
    }
    trace.flush();
  }
  for (const auto& c : run.checkpoints) {
    std::vector<double> flat;
    std::size_t rows = 0, dimension = 0;
    for (const auto& p : c.eigen.eigenpairs) {
      if (p.eigenvector.empty()) continue;
      flat.insert(flat.end(), p.eigenvector.begin(), p.eigenvector.end());
      ++rows;
      dimension = p.eigenvector.size();
    }
    if (rows > 0) write_npy(dir / fmt::format("eigenvectors_epoch_{}.npy", c.epoch), flat.data(), {rows, dimension});
    if (!c.density) continue;
    const fs::path csv_path = dir / fmt::format("density_epoch_{}.csv", c.epoch);
    {
      CsvWriter dc(csv_path, "eigenvalue,density");
      for (std::size_t i = 0; i < c.density->x.size(); ++i) dc.row("{:.8g},{:.8g}", c.density->x[i], c.density->y[i]);
      dc.flush();
    }
    if (output.plots) {
      Plot p{fmt::format("Hessian spectral density (SLQ), epoch {}", c.epoch), "eigenvalue", "density", false, true, {}, {}};
      p.series.push_back({csv_path, "'eigenvalue':(column('density') > 1e-12 ? column('density') : 1/0)", "", "lines lw 2"});
      draw(p, dir / fmt::format("density_epoch_{}.png", c.epoch), output.log);
    }
  }
  if (output.plots && !run.checkpoints.empty()) {
    Plot p{fmt::format("{} {} Hessian eigenvalues along training", run.end == SpectrumEnd::largest ? "Top" : "Bottom",
                       run.k),
           "epoch", "eigenvalue", false, false, {}, "set palette rgb 33,13,10\nset cblabel 'rank'"};
    p.series.push_back({dir / "eigenvalues.csv", "'epoch':'eigenvalue':'rank'", "", "points pt 7 ps 1.2 lc palette"});
    draw(p, dir / "eigenvalues.png", output.log);
  }
}

}  // namespace anodiff
