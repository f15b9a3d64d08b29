// The simplified model's files, plots and tables (output.hpp); docs/formats.md lists the columns.
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "anodiff/io/csv.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/output/plot.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {

// The CSVs of one landscape in `dir`.
void write_landscape_csvs(const SimplifiedModelLandscape& r, const fs::path& dir) {
  fs::create_directories(dir);
  r.heights.write_npy(dir / "heights.npy");
  r.loss.write_csv(dir / "landscape.csv", std::max<std::size_t>(1, r.loss.cols / 200));
  {
    CsvWriter paths(dir / "paths.csv", "walker,step,x,y,loss");
    CsvWriter msd_csv(dir / "msd.csv", "walker,lag,msd");
    CsvWriter beta_csv(dir / "local_exponent.csv", "walker,lag,beta");
    for (std::size_t w = 0; w < r.walks.paths.size(); ++w) {
      const auto& path = r.walks.paths[w];
      const auto loss_of = path.loss();
      for (std::size_t t = 0; t < path.size(); ++t) {
        const auto p = path.snapshot(t);
        paths.row("{},{},{:.9g},{:.9g},{}", w, t, p[0], p[1], csv_number(loss_of[t]));
      }
      paths.raw("");  // gnuplot: a new line per walker
      const auto& curve = r.walker_msd[w];
      const auto& beta = r.walker_beta[w];
      for (std::size_t i = 0; i < curve.lag.size(); ++i) {
        msd_csv.row("{},{},{}", w, curve.lag[i], csv_number(curve.msd[i]));
      }
      msd_csv.raw("");  // gnuplot draws each walker as its own line, in one pass over the file
      for (std::size_t i = 0; i < beta.lag.size(); ++i) {
        beta_csv.row("{},{},{}", w, beta.lag[i], csv_number(beta.beta[i]));
      }
    }
    paths.flush();
    msd_csv.flush();
    beta_csv.flush();
  }
  {
    CsvWriter walkers(dir / "walkers.csv",
                      "walker,whole_path_exponent,before_trapping_exponent,from_start_exponent,trap_step,pinned,"
                      "skipped_steps,redraws,r1_start,r1_end,r1_exponent,trapped,landscape");
    for (std::size_t w = 0; w < r.walkers.size(); ++w) {
      const auto& v = r.walkers[w];
      const std::size_t landscape = w < r.landscape_index.size() ? r.landscape_index[w] : 0;
      walkers.row("{},{},{},{},{},{},{},{},{},{},{},{},{}", w, csv_number(v.whole_exponent),
                  csv_number(v.before_trap_exponent), csv_number(v.from_start_exponent), v.trap_step, v.pinned ? 1 : 0,
                  v.skipped, v.redraws, v.r1_start, v.r1_end, csv_number(v.r1_exponent), v.trapped ? 1 : 0,
                  landscape);
    }
    walkers.flush();
  }
  {
    const auto& e = r.ensemble;
    CsvWriter mean_csv(dir / "msd_mean.csv", "lag,time_averaged_msd,ensemble_msd,ergodicity_breaking");
    for (std::size_t i = 0; i < e.lag.size(); ++i) {
      mean_csv.row("{},{},{},{}", e.lag[i], csv_number(e.time_averaged_msd[i]), csv_number(e.ensemble_msd[i]),
                   csv_number(e.ergodicity_breaking[i]));
    }
    mean_csv.flush();
  }
  {
    CsvWriter fit(dir / "fit.csv",
                  "landscape,early_exponent,early_error,late_exponent,late_error,tau0,tau0_error,exponent_lags_1_20,"
                  "start_early_exponent,start_late_exponent,start_tau0,tail_index,landscape_hurst_1_16px,redraws,"
                  "skipped_steps");
    fit.row("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", to_string(r.kind), csv_number(r.fit.early_exponent),
            csv_number(r.fit.early_error), csv_number(r.fit.late_exponent), csv_number(r.fit.late_error),
            csv_number(r.fit.crossover), csv_number(r.fit.crossover_error), csv_number(r.short_lags.exponent),
            csv_number(r.from_start.early_exponent), csv_number(r.from_start.late_exponent),
            csv_number(r.from_start.crossover), csv_number(r.tail_index), csv_number(r.hurst.hurst), r.redraws,
            r.skipped_steps);
    fit.flush();
  }
  {
    const auto& h = r.step_lengths;
    CsvWriter hist(dir / "step_length_histogram.csv", "bin_lo,bin_hi,count,density");
    for (std::size_t b = 0; b < h.count.size(); ++b) {
      hist.row("{},{},{},{}", h.lo[b], h.hi[b], h.count[b], h.density[b]);
    }
    hist.flush();
  }
}

// Up to 5 walkers that ran on walker 0's landscape (landscape.csv): the first 5 when all share it, those that drew
// the same pool landscape, or walker 0 alone when each walker shuffled its own.
std::vector<std::size_t> walkers_on_map(const SimplifiedModelLandscape& r, LandscapeDraw draw) {
  const std::size_t walkers = r.walks.paths.size();
  if (r.kind == LandscapeKind::random && draw == LandscapeDraw::pool) return {0};
  std::vector<std::size_t> shown;
  for (std::size_t w = 0; w < walkers && shown.size() < 5; ++w) {
    if (w >= r.landscape_index.size() || r.landscape_index[w] == r.landscape_index[0]) shown.push_back(w);
  }
  return shown;
}

// The PNGs of one landscape in `dir` (its CSVs written).
void draw_landscape(const SimplifiedModelLandscape& r, LandscapeDraw drawn, const fs::path& dir, const LogSink& log) {
  const std::string kind = to_string(r.kind);
  const std::size_t walkers = r.walks.paths.size();
  const auto shown = walkers_on_map(r, drawn);
  Plot map{fmt::format("{} landscape L(x, y) of walker 0 with {} of its {} walkers", kind, shown.size(), walkers),
           "x", "y", false, false, {},
           "set size ratio -1\nset xrange [-1:1]\nset yrange [-1:1]\nset palette rgb 33,13,10"};
  map.series.push_back({dir / "landscape.csv", "'x':'y':'z'", "", "image"});
  for (const std::size_t w : shown) {
    map.series.push_back({dir / "paths.csv", fmt::format("(column('walker')=={} ? column('x') : 1/0):'y'", w),
                          fmt::format("walker {}", w), "lines lw 1.5"});
  }
  draw(map, dir / "landscape.png", log);
  Plot m{fmt::format("MSD of the walkers on the {} landscape", kind), "lag {/Symbol t} (steps)", "MSD", true, true,
         {}, {}};
  m.series.push_back({dir / "msd.csv", "'lag':'msd'", "each walker", "lines lc rgb '#bbbbbb'"});
  m.series.push_back({dir / "msd_mean.csv", "'lag':'time_averaged_msd'", "time average, mean over walkers",
                      "lines lw 3 lc rgb 'black'"});
  m.series.push_back({dir / "msd_mean.csv", "'lag':'ensemble_msd'", "ensemble, from the start",
                      "lines lw 3 dt 2 lc rgb 'red'"});
  draw(m, dir / "msd.png", log);
  Plot h{fmt::format("Step lengths on the {} landscape", kind), "|{/Symbol D}p|", "density", true, true, {}, {}};
  h.series.push_back({dir / "step_length_histogram.csv",
                      "((column('bin_lo')+column('bin_hi'))/2):(column('density') > 0 ? column('density') : 1/0)", "",
                      "linespoints pt 7"});
  draw(h, dir / "step_length_histogram.png", log);
}

// Every walker's exponent as a point (jittered sideways), per landscape and measure.
void draw_walker_exponents(const SimplifiedModelResult& result, const fs::path& dir, const LogSink& log) {
  const auto& o = result.options;
  const auto& kinds = result.landscapes;
  std::string tics;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const auto kind = kinds[k].kind;
    const std::string name = kind == LandscapeKind::convex   ? "convex (cone)"
                             : kind == LandscapeKind::random ? "random (shuffled)"
                                                             : to_string(kind);
    tics += fmt::format("{}'{}' {}", k ? ", " : "", name, k + 1);
  }
  Plot p{fmt::format("Per-walker exponents over lags {:g}-{:g} ({} walkers per landscape; boundary rule {})",
                     o.analysis.band_lo, o.analysis.band_hi, o.sgd.repeats, to_string(o.sgd.boundary)),
         "landscape", "exponent", false, false, {},
         fmt::format("set xtics ({})\nset xrange [0.4:{}.6]\n", tics, kinds.size()) +
             "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'black'\nset key outside"};
  const char* titles[] = {"whole path", "before trapping", "from the start", "the study's R1 segment"};
  const char* columns[] = {"whole_path_exponent", "before_trapping_exponent", "from_start_exponent", "r1_exponent"};
  const char* styles[] = {"points pt 7 ps 0.5", "points pt 6 ps 0.6", "points pt 2 ps 0.5", "points pt 5 ps 1"};
  for (std::size_t m = 0; m < kWalkerMeasures.size(); ++m) {
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      const double x = double(k + 1) + (double(m) - 1.5) * 0.18;
      p.series.push_back({dir / to_string(kinds[k].kind) / "walkers.csv",
                          fmt::format("({:.3f} + 0.05 * (rand(0) - 0.5)):'{}'", x, columns[m]), k == 0 ? titles[m] : "",
                          std::string(styles[m]) + fmt::format(" lc {}", m + 1)});
    }
  }
  draw(p, dir / "walker_exponents.png", log);
}

}  // namespace

void write_simplified_model(const SimplifiedModelResult& result, const fs::path& dir, const OutputOptions& output) {
  fs::create_directories(dir);
  for (const auto& r : result.landscapes) write_landscape_csvs(r, dir / to_string(r.kind));
  {
    CsvWriter d(dir / "walker_exponents.csv",
                "landscape,measure,walkers,median,q25,q75,share_above_1,pinned_walkers,skipped_share");
    for (const auto& r : result.landscapes) {
      for (const auto m : kWalkerMeasures) {
        const auto& e = r.exponent(m);
        d.row("{},{},{},{},{},{},{},{},{}", to_string(r.kind), to_string(m), e.walkers, csv_number(e.median),
              csv_number(e.q25), csv_number(e.q75), csv_number(e.share_above_1), r.pinned_walkers,
              csv_number(r.skipped_share));
      }
    }
    d.flush();
  }
  if (!output.plots) return;
  for (const auto& r : result.landscapes) draw_landscape(r, result.options.draw, dir / to_string(r.kind), output.log);
  draw_walker_exponents(result, dir, output.log);
  if (result.landscapes.size() > 1) {
    Plot m{"Time-averaged MSD, mean over walkers", "lag {/Symbol t} (steps)", "MSD", true, true, {}, {}};
    for (const auto& r : result.landscapes) {
      m.series.push_back({dir / to_string(r.kind) / "msd_mean.csv", "'lag':'time_averaged_msd'", to_string(r.kind),
                          "lines lw 2"});
    }
    draw(m, dir / "msd_landscapes.png", output.log);
  }
}

std::string simplified_model_table(const SimplifiedModelResult& result) {
  const auto& o = result.options;
  const auto& a = o.analysis;
  std::string out = fmt::format(
      "seed {}, {} walkers x {} steps, landscapes: {}{}, shuffle: {}, boundary: {}, R1 rule: {}\n\n", o.sgd.seed,
      o.sgd.repeats, o.sgd.steps, to_string(o.draw),
      o.draw == LandscapeDraw::pool ? fmt::format(" (a pool of {} per seed)", o.pool_size) : std::string(),
      to_string(o.shuffle), to_string(o.sgd.boundary), to_string(a.r1_rule));
  out += "time-averaged MSD (mean over walkers) and the ensemble MSD from the start, two-regime fits:\n";
  out += fmt::format("{:<9} {:>16} {:>16} {:>16} | {:>8} {:>8} {:>8} | {:>6}\n", "landscape", "early exponent",
                     "late exponent", "tau0 (steps)", "early", "late", "tau0", "tail");
  for (const auto& s : result.landscapes) {
    out += fmt::format(
        "{:<9} {:>8.3f} ± {:<5.3f} {:>8.3f} ± {:<5.3f} {:>8.1f} ± {:<5.1f} | {:>8.3f} {:>8.3f} {:>8.1f} | {:>6.2f}\n",
        to_string(s.kind), s.fit.early_exponent, s.fit.early_error, s.fit.late_exponent, s.fit.late_error,
        s.fit.crossover, s.fit.crossover_error, s.from_start.early_exponent, s.from_start.late_exponent,
        s.from_start.crossover, s.tail_index);
  }
  out += fmt::format("\nper walker, exponent of the MSD over lags {:g}-{:g}: median [quartiles], share above 1\n",
                     a.band_lo, a.band_hi);
  out += fmt::format("{:<9} {:>26} {:>26} {:>26} {:>26} {:>8} {:>8}\n", "landscape", "whole path", "before trapping",
                     "from the start", "the study's R1 segment", "pinned", "skipped");
  for (const auto& r : result.landscapes) {
    std::string line = fmt::format("{:<9}", to_string(r.kind));
    for (const auto m : kWalkerMeasures) {
      const auto& e = r.exponent(m);
      line += fmt::format(" {:>5.2f} [{:.2f},{:.2f}] {:>3.0f}% ({:>3})", e.median, e.q25, e.q75,
                          100 * e.share_above_1, e.walkers);
    }
    const double steps = double(r.walkers.size() * result.options.sgd.steps);
    out += line + fmt::format(" {:>8} {:>7.1f}%\n", r.pinned_walkers, 100.0 * double(r.skipped_steps) / steps);
  }
  return out;
}

}  // namespace anodiff
