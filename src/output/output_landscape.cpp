#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "anodiff/io/csv.hpp"
#include "anodiff/io/loss_landscape_h5.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/io/study_trajectory.hpp"
#include "anodiff/output/plot.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "detail/gnuplot.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {

// Contour map of log10(loss) with the trajectory on it, and the 3-D surface: scripts of their own (splot).
// Whether any point has an accuracy (a model's own data-free loss has none).
bool has_accuracy(const LandscapeGrid& g) {
  return std::any_of(g.accuracy.begin(), g.accuracy.end(), [](double a) { return !std::isnan(a); });
}

void draw_surface_plots(const LandscapeResult& r, const fs::path& dir, const OutputOptions& output) {
  double lowest = std::numeric_limits<double>::infinity();
  for (double v : r.grid.loss) lowest = std::min(lowest, v);
  {
    std::ofstream gp(dir / "contour.gp");
    gp << "set terminal pngcairo size 1000,800 enhanced font 'sans,11'\nset output 'contour.png'\n"
          "set datafile separator ','\nset datafile columnheaders\nset title " << detail::gnuplot_quoted(r.title + " (log10 loss)")
       << "\n"
          "set xlabel 'direction 1'\nset ylabel 'direction 2'\nset view map\nset size ratio -1\nset autoscale fix\n"
          "set palette rgb 33,13,10\nset contour base\nset cntrparam levels auto 15\nunset clabel\n"
          "set key below\n"
          "splot 'grid.csv' using 'x':'y':(log10(column('loss'))) with pm3d notitle, \\\n"
          "      'grid.csv' using 'x':'y':(log10(column('loss'))) with lines lc rgb 'black' nosurface notitle";
    if (!r.path.empty()) {
      gp << ", \\\n      'trajectory_projection.csv' using 'x':'y':(" << std::log10(lowest)
         << ") with linespoints pt 7 ps 0.4 lc rgb 'white' title 'trajectory'";
    }
    gp << "\n" << std::flush;
    if (!gp) throw IoError(fmt::format("{}: cannot write the gnuplot script", (dir / "contour.gp").string()));
  }
  run_gnuplot(dir / "contour.gp", output.log);
  if (has_accuracy(r.grid)) {  // not for a model's own data-free loss
    Plot heat{r.title + ": accuracy", "direction 1", "direction 2", false, false, {},
              "set size ratio -1\nset palette rgb 33,13,10"};
    heat.series.push_back({dir / "grid.csv", "'x':'y':'accuracy'", "", "image"});
    draw(heat, dir / "accuracy_heatmap.png", output.log);
  }
  {
    std::ofstream gp(dir / "surface_3d.gp");
    gp << "set terminal pngcairo size 1000,800 enhanced font 'sans,11'\nset output 'surface_3d.png'\n"
          "set datafile separator ','\nset datafile columnheaders\nset title " << detail::gnuplot_quoted(r.title + " (loss)")
       << "\n"
          "set xlabel 'direction 1'\nset ylabel 'direction 2'\nset zlabel 'loss' rotate\nset pm3d\n"
          "set palette rgb 33,13,10\nset hidden3d\nsplot 'grid.csv' using 'x':'y':'loss' with pm3d notitle\n"
       << std::flush;
    if (!gp) throw IoError(fmt::format("{}: cannot write the gnuplot script", (dir / "surface_3d.gp").string()));
  }
  run_gnuplot(dir / "surface_3d.gp", output.log);
}

}  // namespace

void write_landscape(const LandscapeResult& r, const std::optional<LandscapeRoughness>& roughness, const fs::path& dir,
                     const OutputOptions& output) {
  fs::create_directories(dir);
  const LandscapeGrid& g = r.grid;
  const bool two_d = g.y.points > 1;
  if (!r.direction1.empty()) {
    std::vector<double> both(r.direction1.begin(), r.direction1.end());
    both.insert(both.end(), r.direction2.begin(), r.direction2.end());
    write_npy(dir / "directions.npy", both.data(), {r.direction2.empty() ? 1u : 2u, r.direction1.size()});
  }
  if (have_hdf5()) {  // Li et al.'s loss-landscape layout, for its plotting scripts and ParaView converter
    const bool directions = !r.direction1.empty() && r.layout.dimension() == r.direction1.size() &&
                            (r.direction2.empty() || r.direction2.size() == r.direction1.size());
    if (directions) write_loss_landscape_directions(r.direction1, r.direction2, r.layout, dir / "directions.h5");
    write_loss_landscape_surface(g, dir / "surface.h5",
                                 directions ? fs::absolute(dir / "directions.h5").string() : std::string());
  }
  {
    CsvWriter grid(dir / "grid.csv", "x,y,loss,accuracy");
    for (std::size_t j = 0; j < g.y.points; ++j) {
      for (std::size_t i = 0; i < g.x.points; ++i) {
        const std::size_t p = j * g.x.points + i;
        grid.row("{:.8g},{:.8g},{:.10g},{:.10g}", g.x.at(i), g.y.at(j), g.loss[p], g.accuracy[p]);
      }
      if (two_d) grid.raw("");
    }
    grid.flush();
  }
  write_npy(dir / "surface_loss.npy", g.loss.data(), {g.y.points, g.x.points});
  write_npy(dir / "surface_accuracy.npy", g.accuracy.data(), {g.y.points, g.x.points});
  if (!r.path.empty()) {
    CsvWriter p(dir / "trajectory_projection.csv", "snapshot,x,y");
    for (std::size_t t = 0; t < r.path.size(); ++t) p.row("{},{:.8g},{:.8g}", t, r.path[t][0], r.path[t][1]);
    p.flush();
  }
  if (roughness) {
    const auto& h = roughness->hurst;
    const auto& pairs = roughness->pairs;
    CsvWriter csv(dir / "roughness.csv", "estimator,value,error,fit_range,reference");
    csv.row("hurst_structure_function,{:.4f},{:.4f},lags {:g}-{:g} px,", h.hurst, h.error, h.lag_min, h.lag_max);
    csv.row("mean_abs_dloss_slope,{:.4f},{:.4f},distances {:.3g}-{:.3g},1 (the study)", pairs.fit.exponent,
            pairs.fit.exponent_error, pairs.fit.x_min, pairs.fit.x_max);
    if (roughness->boxes) {
      const auto& b = *roughness->boxes;
      csv.row("box_counting_slope,{:.4f},{:.4f},boxes {:g}-{:g} px,-1.7 (the study; ResNet-56)", b.fit.exponent,
              b.fit.exponent_error, b.fit.x_min, b.fit.x_max);
      csv.row("box_counting_dimension,{:.4f},{:.4f},boxes {:g}-{:g} px,", b.dimension, b.fit.exponent_error,
              b.fit.x_min, b.fit.x_max);
    }
    csv.flush();
    CsvWriter sf(dir / "structure_function.csv", "lag_px,s2");
    for (std::size_t k = 0; k < roughness->structure.lag.size(); ++k) {
      sf.row("{},{:.10g}", roughness->structure.lag[k], roughness->structure.value[k]);
    }
    sf.flush();
  }
  if (!output.plots) return;
  if (!two_d) {
    const bool accuracy = has_accuracy(r.grid);
    Plot p{r.title, "alpha", "loss", false, false, {},
           accuracy ? "set y2label 'accuracy'\nset y2tics\nset ytics nomirror" : ""};
    p.series.push_back({dir / "grid.csv", "'x':'loss'", "loss", "linespoints pt 7 ps 0.6 lw 2"});
    if (accuracy) {
      p.series.push_back({dir / "grid.csv", "'x':'accuracy' axes x1y2", "accuracy (right)", "linespoints pt 6 ps 0.6 dt 2"});
    }
    draw(p, dir / "line.png", output.log);
    return;
  }
  draw_surface_plots(r, dir, output);
}

}  // namespace anodiff
