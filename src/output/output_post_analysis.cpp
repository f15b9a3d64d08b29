#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "anodiff/io/csv.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/output/plot.hpp"
#include "detail/gnuplot.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {
std::string part_filter(std::size_t part, const std::string& column) {
  return fmt::format("($1=={} ? {} : 1/0)", part, column);
}

// What the CSVs of write_post_analysis hold beyond the MSD, for the pictures.
struct PostAnalysisFiles {
  bool have_loss = false;   // msl.csv has rows
  bool have_pairs = false;  // some part has its pair statistics
};

// The CSVs of write_post_analysis: the rows of parts[first_new..] appended after those of the earlier parts when
// first_new > 0 (files that do not exist yet are created with their header).
PostAnalysisFiles write_post_analysis_csv(const std::vector<PartResult>& parts, const fs::path& dir,
                                          std::size_t first_new) {
  bool have_loss = false, have_pairs = false;
  for (const auto& r : parts) {
    have_pairs = have_pairs || r.all_pairs;
    have_loss = have_loss || (r.all_pairs && (!r.msl_linear.count.empty() || !r.msl_log.count.empty()));
  }
  {
    const auto a = first_new > 0 ? CsvWriter::Mode::append : CsvWriter::Mode::create;
    CsvWriter msd(dir / "msd.csv", "part,start,lag,msd", a);
    CsvWriter beta(dir / "local_exponent.csv", "part,start,lag,beta", a);
    CsvWriter aging(dir / "aging_msd.csv", "part,start,lag,msd", a);
    CsvWriter fit(dir / "fit.csv",
            "part,start,snapshots,early_exponent,early_error,late_exponent,late_error,tau0,tau0_error,lag_min,"
            "lag_max,fit_points,rms,valid,contour_exponent,contour_exponent_error,msl_hurst,msl_hurst_error,"
            "tail_index,all_pairs,crossover_found,breakpoint,noise_floor,floor_share,single_exponent,single_error,"
            "short_band_lo,short_band_hi,short_band_median,short_band_q25,short_band_q75,long_band_lo,long_band_hi,"
            "long_band_median,long_band_q25,long_band_q75,verdict", a);
    CsvWriter motion(dir / "motion_msd.csv", "part,start,component,lag,msd", a);
    CsvWriter motion_fit(dir / "motion_fit.csv",
                         "part,start,component,dimension,early_exponent,early_error,late_exponent,late_error,tau0,"
                         "crossover_found,noise_floor,short_band_median,short_band_q25,short_band_q75,"
                         "long_band_median,long_band_q25,long_band_q75", a);
    CsvWriter steps(dir / "step_length.csv", "part,start,step,step_length", a);
    CsvWriter contour(dir / "contour.csv", "part,start,lag,mean_contour_length", a);
    CsvWriter mc(dir / "msd_contour.csv", "part,start,bin_lo,bin_hi,contour,msd,pairs", a);
    CsvWriter msl(dir / "msl.csv", "part,start,binning,bin_lo,bin_hi,distance,msl,pairs", a);
    CsvWriter hist(dir / "displacement_histogram.csv", "part,start,rescaled,lag,scale,bin_lo,bin_hi,count,density",
                   a);
    for (std::size_t i = std::min(first_new, parts.size()); i < parts.size(); ++i) {
      const auto& r = parts[i];
      const auto p = r.part.index, s = r.part.start;
      for (std::size_t i = 0; i < r.msd.lag.size(); ++i) msd.row("{},{},{},{}", p, s, r.msd.lag[i], csv_number(r.msd.msd[i]));
      for (std::size_t i = 0; i < r.beta.lag.size(); ++i) beta.row("{},{},{},{}", p, s, r.beta.lag[i], csv_number(r.beta.beta[i]));
      for (std::size_t i = 0; i < r.aging.lag.size(); ++i) aging.row("{},{},{},{}", p, s, r.aging.lag[i], csv_number(r.aging.msd[i]));
      const auto& f = r.fit;
      const std::string head = fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", p, s, r.part.count, csv_number(f.early_exponent),
              csv_number(f.early_error), csv_number(f.late_exponent), csv_number(f.late_error), csv_number(f.crossover), csv_number(f.crossover_error),
              csv_number(f.lag_min), csv_number(f.lag_max), f.points, csv_number(f.rms), f.valid ? 1 : 0, csv_number(r.contour_fit.exponent),
              csv_number(r.contour_fit.exponent_error), csv_number(r.msl_fit.exponent / 2), csv_number(r.msl_fit.exponent_error / 2),
              csv_number(r.tail_index), r.all_pairs ? 1 : 0);
      fit.raw(head + fmt::format(",{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", f.crossover_found ? 1 : 0,
                                 csv_number(f.breakpoint), csv_number(f.noise_floor), csv_number(f.floor_share),
                                 csv_number(f.single_exponent), csv_number(f.single_error), csv_number(r.short_band.lag_lo),
                                 csv_number(r.short_band.lag_hi), csv_number(r.short_band.median), csv_number(r.short_band.q25),
                                 csv_number(r.short_band.q75), csv_number(r.long_band.lag_lo), csv_number(r.long_band.lag_hi),
                                 csv_number(r.long_band.median), csv_number(r.long_band.q25), csv_number(r.long_band.q75),
                                 f.verdict));
      for (const auto& m : r.motion) {
        for (std::size_t i = 0; i < m.msd.lag.size(); ++i) motion.row("{},{},{},{},{}", p, s, m.component, m.msd.lag[i], csv_number(m.msd.msd[i]));
        motion_fit.row("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", p, s, m.component, m.dimension,
                       csv_number(m.fit.early_exponent), csv_number(m.fit.early_error), csv_number(m.fit.late_exponent),
                       csv_number(m.fit.late_error), csv_number(m.fit.crossover), m.fit.crossover_found ? 1 : 0,
                       csv_number(m.fit.noise_floor), csv_number(m.short_band.median), csv_number(m.short_band.q25),
                       csv_number(m.short_band.q75), csv_number(m.long_band.median), csv_number(m.long_band.q25),
                       csv_number(m.long_band.q75));
      }
      if (!r.all_pairs) continue;
      for (std::size_t k = 1; k < r.step_length.size(); ++k) steps.row("{},{},{},{}", p, s, s + k, csv_number(r.step_length[k]));
      for (std::size_t k = 1; k < r.mean_contour.size(); ++k) contour.row("{},{},{},{}", p, s, k, csv_number(r.mean_contour[k]));
      const auto& c = r.msd_contour;
      for (std::size_t b = 0; b < c.count.size(); ++b) {
        mc.row("{},{},{},{},{},{},{}", p, s, csv_number(c.lo[b]), csv_number(c.hi[b]), csv_number(c.x[b]), csv_number(c.mean[b]), c.count[b]);
      }
      for (const auto* m : {&r.msl_linear, &r.msl_log}) {
        const char* kind = m == &r.msl_linear ? "linear" : "log";
        for (std::size_t b = 0; b < m->count.size(); ++b) {
          msl.row("{},{},{},{},{},{},{},{}", p, s, kind, csv_number(m->lo[b]), csv_number(m->hi[b]), csv_number(m->x[b]), csv_number(m->mean[b]),
                  m->count[b]);
        }
      }
      for (const auto* hs : {&r.histograms, &r.rescaled}) {
        for (const auto& h : *hs) {
          for (std::size_t b = 0; b < h.count.size(); ++b) {
            hist.row("{},{},{},{},{},{},{},{},{}", p, s, hs == &r.rescaled ? 1 : 0, h.lag, csv_number(h.scale), csv_number(h.lo[b]),
                     csv_number(h.hi[b]), h.count[b], csv_number(h.density[b]));
          }
        }
      }
    }
    // A full disk fails here, naming the file (IoError), not silently in the writers' destructors.
    for (auto* w : {&msd, &beta, &aging, &fit, &motion, &motion_fit, &steps, &contour, &mc, &msl, &hist}) w->flush();
  }
  return {have_loss, have_pairs};
}

// The pictures of write_post_analysis, from its CSVs.
void draw_post_analysis(const std::vector<PartResult>& parts, const fs::path& dir, const PostAnalysisFiles& files,
                        const OutputOptions& output) {
  const bool have_loss = files.have_loss, have_pairs = files.have_pairs;
  Plot msd{"Time-averaged MSD per part", "lag {/Symbol t} (steps)", "MSD({/Symbol t})", true, true, {}, {}};
  Plot beta{"Local exponent {/Symbol b}({/Symbol t})", "lag {/Symbol t} (steps)", "{/Symbol b}", true, false, {},
            "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'black'"};
  Plot aging{"Aging MSD |w(t_w+{/Symbol t}) - w(t_w)|^2", "lag {/Symbol t} (steps)", "{/Symbol D}(t_w, {/Symbol t})",
             true, true, {}, {}};
  Plot mc{"MSD against contour length", "contour length C", "MSD", true, true, {}, {}};
  Plot msl{"Mean squared loss difference against distance", "distance dr", "MSL(dr)", true, true, {}, {}};
  const bool by_waiting_time = parts.size() > 1;
  if (by_waiting_time) {
    // A linear colour scale, so that the later parts (most of them) are told apart, as in the study's figure.
    const std::string colour_bar = "set cblabel 'waiting time t_w (steps)'\n"
                                   "set palette defined (0 '#3b4cc0', 0.5 '#b0b0b0', 1 '#b40426')";
    msd.title = "Time-averaged MSD of every part, coloured by its waiting time";
    msd.extra = colour_bar;
    beta.title = "Local exponent {/Symbol b}({/Symbol t}) of every part, coloured by its waiting time";
    beta.extra += "\n" + colour_bar;
  }
  for (const auto& r : parts) {
    const auto p = r.part.index;
    const std::string name = fmt::format("part {} (t_w = {})", p, r.part.start + 1);
    if (by_waiting_time) {
      // The study's Fig. 2b/c: every part in one panel, coloured by its waiting time (the colour bar), no legend.
      const std::string colour = fmt::format(":({})", r.part.start + 1);
      msd.series.push_back({dir / "msd.csv", "3:" + part_filter(p, "$4") + colour, "", "lines lw 2 palette"});
      beta.series.push_back({dir / "local_exponent.csv", "3:" + part_filter(p, "$4") + colour, "", "lines lw 2 palette"});
    } else {
      msd.series.push_back({dir / "msd.csv", "3:" + part_filter(p, "$4"), name, "lines lw 2"});
      beta.series.push_back({dir / "local_exponent.csv", "3:" + part_filter(p, "$4"), name, "lines lw 2"});
    }
    aging.series.push_back({dir / "aging_msd.csv", "3:" + part_filter(p, "$4"), name, "lines lw 2"});
    if (r.all_pairs) {
      mc.series.push_back({dir / "msd_contour.csv", "5:" + part_filter(p, "$6"), name, "linespoints pt 7 ps 0.6"});
      msl.series.push_back({dir / "msl.csv", "6:(($1=="+std::to_string(p)+" && strcol(3) eq 'log') ? $7 : 1/0)", name,
                            "linespoints pt 7 ps 0.6"});
    }
  }
  draw(msd, dir / "msd.png", output.log);
  bool any_band = false;
  for (const auto& r : parts) any_band = any_band || r.short_band.lags > 0 || r.long_band.lags > 0;
  if (parts.size() > 1 && any_band) {
    // How the exponents change with the waiting time: band medians with their quartiles, and the fit's exponents.
    Plot bands{"Exponents against the waiting time (part start)", "part start t_w (steps)", "exponent", false, false,
               {{dir / "fit.csv", "2:29:30:31", "beta, short band (median, quartiles)", "yerrorlines pt 7 lw 2"},
                {dir / "fit.csv", "2:34:35:36", "beta, long band (median, quartiles)", "yerrorlines pt 5 lw 2"},
                {dir / "fit.csv", "2:4", "fit: early exponent", "points pt 6 ps 1.5"},
                {dir / "fit.csv", "2:6", "fit: late exponent", "points pt 4 ps 1.5"}},
               "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'black'\n"
               "set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05"};
    draw(bands, dir / "band_exponents.png", output.log);
  }
  bool any_beta = false;
  for (const auto& r : parts) any_beta = any_beta || !r.beta.lag.empty();
  if (any_beta) draw(beta, dir / "local_exponent.png", output.log);
  draw(aging, dir / "aging_msd.png", output.log);
  if (have_pairs) {
    draw(mc, dir / "msd_contour.png", output.log);
    Plot hist{"Displacement |w_{t+{/Symbol t}} - w_t| (part 0)", "|{/Symbol D}w|", "density", true, true, {}, {}};
    for (std::size_t lag : parts.front().histograms.empty() ? std::vector<std::size_t>{} : default_histogram_lags()) {
      if (lag >= parts.front().part.count) continue;
      hist.series.push_back({dir / "displacement_histogram.csv",
                             fmt::format("(($1==0 && $3==0 && $4=={}) ? ($6+$7)/2 : 1/0):($9 > 0 ? $9 : 1/0)", lag),
                             fmt::format("{{/Symbol t}} = {}", lag), "linespoints pt 7 ps 0.5"});
    }
    if (!hist.series.empty()) draw(hist, dir / "displacement_histogram.png", output.log);
  }
  if (have_loss) draw(msl, dir / "msl.png", output.log);
  bool any_motion = false;
  Plot motion{"MSD of the weights (solid), of the scale-invariant groups' norms (radial, dashed) and directions "
              "(angular, dotted)", "lag {/Symbol t} (steps)", "MSD", true, true, {}, {}};
  for (const auto& r : parts) {
    for (const auto& m : r.motion) {
      any_motion = any_motion || m.component != "all";
      const char* style = m.component == "all" ? "lines lw 2" : m.component == "radial" ? "lines lw 2 dt 2" : "lines lw 2 dt 3";
      motion.series.push_back({dir / "motion_msd.csv",
                               fmt::format("(($1=={} && strcol(3) eq '{}') ? $4 : 1/0):5", r.part.index, m.component),
                               fmt::format("part {} {}", r.part.index, m.component), style});
    }
  }
  if (any_motion) draw(motion, dir / "motion_msd.png", output.log);
}

}  // namespace

void write_post_analysis(const std::vector<PartResult>& parts, const fs::path& dir, const OutputOptions& output,
                         std::size_t first_new) {
  fs::create_directories(dir);
  const auto files = write_post_analysis_csv(parts, dir, first_new);
  if (output.plots) draw_post_analysis(parts, dir, files, output);
}

std::string summary_table(const std::vector<PartResult>& parts) {
  std::string out = fmt::format("{:>5} {:>8} {:>9} {:>17} {:>17} {:>18} {:>18} {:>18}\n", "part", "start", "snapshots",
                                "early exponent", "late exponent", "tau0 (steps)", "beta short [IQR]",
                                "beta long [IQR]");
  auto band = [](const BandExponent& b) {
    return b.lags == 0 ? std::string("n/a") : fmt::format("{:.2f} [{:.2f},{:.2f}]", b.median, b.q25, b.q75);
  };
  for (const auto& r : parts) {
    const auto& f = r.fit;
    const std::string tau0 = f.crossover_found ? fmt::format("{:.1f} ± {:.1f}", f.crossover, f.crossover_error)
                                               : std::string("none found");
    out += fmt::format("{:>5} {:>8} {:>9} {:>9.3f} ± {:<5.3f} {:>9.3f} ± {:<5.3f} {:>18} {:>18} {:>18}\n", r.part.index,
                       r.part.start, r.part.count, f.early_exponent, f.early_error, f.late_exponent, f.late_error, tau0,
                       band(r.short_band), band(r.long_band));
  }
  return out;
}

}  // namespace anodiff

namespace anodiff {

void write_per_layer_msd(const std::vector<LayerMsd>& layers, const fs::path& path) {
  CsvWriter out(path, "part,start,name,dimension,lag,msd");
  for (const auto& layer : layers) {
    for (const auto& c : layer.parts) {
      for (std::size_t i = 0; i < c.lag.size(); ++i) {
        out.row("{},{},{},{},{},{}", c.part, c.start, layer.name, layer.dimension, c.lag[i], csv_number(c.msd[i]));
      }
    }
  }
  out.flush();
}

void write_per_layer(const std::vector<LayerMsd>& layers, const fs::path& dir, const OutputOptions& output) {
  fs::create_directories(dir);
  write_per_layer_msd(layers, dir / "per_layer_msd.csv");
  if (!output.plots || layers.empty()) return;
  for (std::size_t k = 0; k < layers.front().parts.size(); ++k) {
    const auto& part = layers.front().parts[k];
    Plot plot{fmt::format("MSD per coordinate of each set of parameters, part {} (t_w = {})", part.part, part.start + 1),
              "lag {/Symbol t} (steps)", "MSD({/Symbol t}) / dimension", true, true, {},
              "set key outside right font ',8'"};
    for (const auto& layer : layers) {
      if (layer.dimension == 0) continue;
      // Rows selected by part and name (the name as a single-quoted gnuplot string: any name is only text).
      plot.series.push_back({dir / "per_layer_msd.csv",
                             fmt::format("5:(($1=={} && strcol(3) eq {}) ? $6/$4 : 1/0)", part.part,
                                         detail::gnuplot_quoted(layer.name)),
                             layer.name, "lines lw 2"});
    }
    draw(plot, dir / fmt::format("per_layer_msd_part_{}.png", part.part), output.log);
  }
}

}  // namespace anodiff
