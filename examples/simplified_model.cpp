// anodiff-simplified-model: the study's simplified model of SGD (paper section 6) on a fractal landscape and on
// its two controls, with the MSD analysis of the walkers.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/csv.hpp"
#include "anodiff/fit.hpp"
#include "anodiff/fractal_surface.hpp"
#include "anodiff/landscape_2d.hpp"
#include "anodiff/msd.hpp"
#include "anodiff/plot.hpp"
#include "anodiff/progress.hpp"
#include "anodiff/roughness.hpp"
#include "anodiff/toy_sgd.hpp"
#include "cli.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace anodiff;

namespace {

struct Summary {
  std::string landscape;
  CrossoverFit fit;         // time-averaged MSD, mean over walkers
  CrossoverFit from_start;  // ensemble MSD from the start, |p(t) - p(0)|^2 averaged over walkers
  PowerLawFit short_lags;
  double tail = 0;
  double hurst = 0;
  std::vector<WalkerStatistics> walkers;
  std::size_t pinned = 0, skipped = 0, steps = 0;
};

// The per-walker exponents that are compared across landscapes.
const std::vector<std::pair<std::string, double WalkerStatistics::*>> kMeasures = {
    {"whole_path", &WalkerStatistics::whole_exponent},
    {"before_trapping", &WalkerStatistics::before_trap_exponent},
    {"from_start", &WalkerStatistics::from_start_exponent},
    {"study_r1_segment", &WalkerStatistics::r1_exponent}};

std::vector<double> values(const std::vector<WalkerStatistics>& w, double WalkerStatistics::*m) {
  std::vector<double> v;
  for (const auto& s : w) v.push_back(s.*m);
  return v;
}

Surface heights_of(const std::string& kind, int n, std::uint64_t seed) {
  if (kind == "convex") return cone_surface((std::size_t{1} << n) + 1);
  const Surface fractal = diamond_square(n, 3.0, seed);
  return kind == "random" ? shuffled_surface(fractal, 8.0, 0.7, seed + 1) : fractal;
}

Summary simulate(const std::string& kind, const ToySgdOptions& options, const WalkerAnalysisOptions& analysis, int n,
                 std::size_t grid, const fs::path& dir, bool plots) {
  fs::create_directories(dir);
  Progress progress(fmt::format("simplified model ({})", kind), 3);
  const Surface heights = heights_of(kind, n, options.seed);
  heights.write_npy(dir / "heights.npy");
  const auto landscape = Landscape2D::from_heights(heights, grid);
  const Surface loss = landscape.surface();
  progress.update(1, "landscape built");
  loss.write_csv(dir / "landscape.csv", std::max<std::size_t>(1, grid / 200));
  const auto result = run_toy_sgd(landscape, options);
  progress.update(2, "walkers done");

  // Per walker: path, MSD, local exponent; then the mean MSD over walkers and its fits.
  CsvWriter msd_csv(dir / "msd.csv", "walker,lag,msd");
  CsvWriter beta_csv(dir / "local_exponent.csv", "walker,lag,beta");
  CsvWriter paths(dir / "paths.csv", "walker,step,x,y,loss");
  std::vector<double> step_lengths, increments;
  for (std::size_t w = 0; w < result.paths.size(); ++w) {
    const auto& path = result.paths[w];
    const auto loss_of = path.loss();
    std::vector<double> prev;
    for (std::size_t t = 0; t < path.size(); ++t) {
      const auto p = path.snapshot(t);
      paths.row("{},{},{:.9g},{:.9g},{}", w, t, p[0], p[1], csv_number(loss_of[t]));
      if (!prev.empty()) {
        step_lengths.push_back(std::hypot(p[0] - prev[0], p[1] - prev[1]));
        increments.push_back(p[0] - prev[0]);
        increments.push_back(p[1] - prev[1]);
      }
      prev = p;
    }
    paths.raw("");  // gnuplot: a new line per walker
    const auto curve = msd(path).front();
    const auto beta = local_exponent(curve, 20);
    for (std::size_t i = 0; i < curve.lag.size(); ++i) msd_csv.row("{},{},{}", w, curve.lag[i], csv_number(curve.msd[i]));
    msd_csv.raw("");  // gnuplot draws each walker as its own line, in one pass over the file
    for (std::size_t i = 0; i < beta.lag.size(); ++i) beta_csv.row("{},{},{}", w, beta.lag[i], csv_number(beta.beta[i]));
  }
  paths.flush();
  Summary s;
  s.walkers = analyse_walkers(result, options, analysis);
  {
    CsvWriter walkers(dir / "walkers.csv", "walker,whole_path_exponent,before_trapping_exponent,from_start_exponent,"
                                           "trap_step,pinned,skipped_steps,redraws,r1_start,r1_end,r1_exponent,trapped");
    for (std::size_t w = 0; w < s.walkers.size(); ++w) {
      const auto& v = s.walkers[w];
      walkers.row("{},{},{},{},{},{},{},{},{},{},{},{}", w, csv_number(v.whole_exponent), csv_number(v.before_trap_exponent),
                  csv_number(v.from_start_exponent), v.trap_step, v.pinned ? 1 : 0, v.skipped, v.redraws, v.r1_start,
                  v.r1_end, csv_number(v.r1_exponent), v.trapped ? 1 : 0);
      s.pinned += v.pinned;
      s.skipped += v.skipped;
    }
    s.steps = s.walkers.size() * options.steps;
  }
  msd_csv.flush();
  beta_csv.flush();
  const auto ensemble = ensemble_msd(result.paths).front();
  std::vector<double> lags(ensemble.lag.begin(), ensemble.lag.end());
  {
    CsvWriter mean_csv(dir / "msd_mean.csv", "lag,time_averaged_msd,ensemble_msd,ergodicity_breaking");
    for (std::size_t i = 0; i < lags.size(); ++i) {
      mean_csv.row("{},{},{},{}", ensemble.lag[i], csv_number(ensemble.time_averaged_msd[i]),
                   csv_number(ensemble.ensemble_msd[i]), csv_number(ensemble.ergodicity_breaking[i]));
    }
  }
  s.landscape = kind;
  s.fit = fit_crossover(lags, ensemble.time_averaged_msd);
  s.from_start = fit_crossover(lags, ensemble.ensemble_msd);
  s.short_lags = fit_power_law(lags, ensemble.time_averaged_msd, 1, 20);
  s.tail = tail_index(increments);
  s.hurst = hurst_exponent(structure_function(loss, 2, 16), 1, 16).hurst;
  {
    CsvWriter fit(dir / "fit.csv",
                  "landscape,early_exponent,early_error,late_exponent,late_error,tau0,tau0_error,exponent_lags_1_20,"
                  "start_early_exponent,start_late_exponent,start_tau0,tail_index,landscape_hurst_1_16px,redraws,"
                  "skipped_steps");
    std::size_t redraws = 0, skipped = 0;
    for (auto r : result.redraws) redraws += r;
    for (auto k : result.skipped) skipped += k;
    fit.row("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", kind, csv_number(s.fit.early_exponent),
            csv_number(s.fit.early_error), csv_number(s.fit.late_exponent), csv_number(s.fit.late_error),
            csv_number(s.fit.crossover), csv_number(s.fit.crossover_error), csv_number(s.short_lags.exponent),
            csv_number(s.from_start.early_exponent), csv_number(s.from_start.late_exponent),
            csv_number(s.from_start.crossover), csv_number(s.tail), csv_number(s.hurst), redraws, skipped);
  }
  // Step-length histogram over all walkers, log bins.
  {
    double lo = 1e300, hi = 0;
    for (double v : step_lengths) {
      if (v > 0) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    const std::size_t bins = 30;
    std::vector<std::size_t> count(bins, 0);
    for (double v : step_lengths) {
      if (!(v > 0) || !(hi > lo)) continue;
      const auto b = std::min<std::size_t>(bins - 1, std::size_t(std::log(v / lo) / std::log(hi / lo) * bins));
      ++count[b];
    }
    CsvWriter h(dir / "step_length_histogram.csv", "bin_lo,bin_hi,count,density");
    for (std::size_t b = 0; b < bins && hi > lo; ++b) {
      const double a = lo * std::pow(hi / lo, double(b) / bins), z = lo * std::pow(hi / lo, double(b + 1) / bins);
      h.row("{},{},{},{}", a, z, count[b], double(count[b]) / (double(step_lengths.size()) * (z - a)));
    }
  }
  if (plots) {
    Plot map{fmt::format("{} landscape L(x, y) with {} of its {} walkers", kind,
                         std::min<std::size_t>(5, result.paths.size()), result.paths.size()), "x", "y", false, false,
             {}, "set size ratio -1\nset xrange [-1:1]\nset yrange [-1:1]\nset palette rgb 33,13,10"};
    map.series.push_back({dir / "landscape.csv", "1:2:3", "", "image"});
    for (std::size_t w = 0; w < std::min<std::size_t>(5, result.paths.size()); ++w) {
      map.series.push_back({dir / "paths.csv", fmt::format("($1=={} ? $3 : 1/0):4", w), fmt::format("walker {}", w),
                            "lines lw 1.5"});
    }
    draw(map, dir / "landscape.png");
    Plot m{fmt::format("MSD of the walkers on the {} landscape", kind), "lag {/Symbol t} (steps)", "MSD", true, true,
           {}, {}};
    m.series.push_back({dir / "msd.csv", "2:3", "each walker", "lines lc rgb '#bbbbbb'"});
    m.series.push_back({dir / "msd_mean.csv", "1:2", "time average, mean over walkers", "lines lw 3 lc rgb 'black'"});
    m.series.push_back({dir / "msd_mean.csv", "1:3", "ensemble, from the start", "lines lw 3 dt 2 lc rgb 'red'"});
    draw(m, dir / "msd.png");
    Plot h{fmt::format("Step lengths on the {} landscape", kind), "|{/Symbol D}p|", "density", true, true, {}, {}};
    h.series.push_back({dir / "step_length_histogram.csv", "(($1+$2)/2):($4 > 0 ? $4 : 1/0)", "", "linespoints pt 7"});
    draw(h, dir / "step_length_histogram.png");
  }
  progress.finish();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  return anodiff::cli::run("anodiff-simplified-model", [&] {
    std::string kind, out, start, boundary = "skip";
    ToySgdOptions o;
    WalkerAnalysisOptions a;
    int n = 10;
    std::size_t grid = 2001;
    po::options_description desc(
        "anodiff-simplified-model: noisy gradient descent on a 2-D fractal landscape and its controls.\nUsage:\n"
        "  anodiff-simplified-model --landscape fractal|convex|random|all [--steps 1000 --repeats 5 --eta 0.02\n"
        "                           --sigma 0.01 --seed S] --out DIR\nOptions");
    desc.add_options()("help,h", "show this help")
        ("landscape", po::value(&kind)->default_value("all"), "fractal, convex, random or all")
        ("steps", po::value(&o.steps)->default_value(1000), "steps per walker")
        ("repeats", po::value(&o.repeats)->default_value(100), "walkers per landscape")
        ("boundary", po::value(&boundary)->default_value("skip"),
         "at the edge: skip (redraw up to 500 times, then skip the step: the study's script) or redraw (until "
         "inside: the 2020 script behind the study's figure)")
        ("band", po::value<std::string>()->default_value("1:20"), "lag band LO:HI of the per-walker exponents")
        ("trap-radius", po::value(&a.trap_radius)->default_value(0.05, "0.05"),
         "a walker is trapped once it stays this close to its final position")
        ("eta", po::value(&o.eta)->default_value(0.02, "0.02"), "learning rate")
        ("sigma", po::value(&o.sigma)->default_value(0.01, "0.01"), "noise standard deviation")
        ("seed", po::value(&o.seed)->default_value(0), "seed of the landscape and the walkers")
        ("start", po::value(&start), "fixed start X,Y in [-1, 1]^2 (default: uniform)")
        ("n", po::value(&n)->default_value(10), "diamond-square levels: (2^n + 1)^2 points")
        ("grid", po::value(&grid)->default_value(2001), "points per axis of the walker's grid over [-1, 1]^2")
        ("out", po::value(&out), "output directory")("no-plots", "write CSVs only");
    po::variables_map vm;
    if (!anodiff::cli::parse(argc, argv, desc, vm)) return 0;
    if (out.empty()) throw po::error("--out DIR is required");
    std::vector<std::string> kinds;
    if (kind == "all") {
      kinds = {"fractal", "convex", "random"};
    } else if (kind == "fractal" || kind == "convex" || kind == "random") {
      kinds = {kind};
    } else {
      throw po::error(fmt::format("--landscape must be fractal, convex, random or all, got '{}'", kind));
    }
    if (boundary != "skip" && boundary != "redraw") {
      throw po::error(fmt::format("--boundary must be skip or redraw, got '{}'", boundary));
    }
    o.boundary = boundary == "redraw" ? BoundaryRule::redraw : BoundaryRule::skip;
    const std::string band = vm["band"].as<std::string>();
    if (std::sscanf(band.c_str(), "%lf:%lf", &a.band_lo, &a.band_hi) != 2 || !(a.band_lo >= 1) || !(a.band_hi > a.band_lo)) {
      throw po::error(fmt::format("--band expects LO:HI with 1 <= LO < HI, got '{}'", band));
    }
    if (!(a.trap_radius > 0)) throw po::error(fmt::format("--trap-radius must be positive, got {}", a.trap_radius));
    if (!start.empty()) {
      if (std::sscanf(start.c_str(), "%lf,%lf", &o.start_x, &o.start_y) != 2) {
        throw po::error(fmt::format("--start expects X,Y, got '{}'", start));
      }
      o.fixed_start = true;
    }
    // Validate every parameter before any work (run_toy_sgd and diamond_square check them too).
    (void)run_toy_sgd(Landscape2D::from_heights(cone_surface(3), 3), [&] { auto c = o; c.steps = 1; c.repeats = 1; return c; }());
    diamond_square(n, 3.0, 0);
    std::vector<Summary> rows;
    for (const auto& k : kinds) rows.push_back(simulate(k, o, a, n, grid, fs::path(out) / k, vm.count("no-plots") == 0));
    // Per walker, objectively: the distribution of each exponent on each landscape.
    {
      CsvWriter d(fs::path(out) / "walker_exponents.csv",
                  "landscape,measure,walkers,median,q25,q75,share_above_1,pinned_walkers,skipped_share");
      for (const auto& r : rows) {
        for (const auto& [name, member] : kMeasures) {
          const auto e = exponent_distribution(values(r.walkers, member));
          d.row("{},{},{},{},{},{},{},{},{}", r.landscape, name, e.walkers, csv_number(e.median), csv_number(e.q25),
                csv_number(e.q75), csv_number(e.share_above_1), r.pinned, csv_number(double(r.skipped) / double(r.steps)));
        }
      }
    }
    if (vm.count("no-plots") == 0) {
      // Every walker's exponent as a point (jittered sideways), per landscape and measure.
      std::string tics;
      for (std::size_t k = 0; k < kinds.size(); ++k) {
        const std::string name = kinds[k] == "convex" ? "convex (cone)" : kinds[k] == "random" ? "random (shuffled)" : kinds[k];
        tics += fmt::format("{}'{}' {}", k ? ", " : "", name, k + 1);
      }
      Plot p{fmt::format("Per-walker exponents over lags {:g}-{:g} ({} walkers per landscape; boundary rule {})",
                         a.band_lo, a.band_hi, o.repeats, boundary),
             "landscape", "exponent", false, false, {},
             fmt::format("set xtics ({})\nset xrange [0.4:{}.6]\n", tics, kinds.size()) +
             "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'black'\nset key outside"};
      const char* kTitles[] = {"whole path", "before trapping", "from the start", "the study's R1 segment"};
      const char* styles[] = {"points pt 7 ps 0.5", "points pt 6 ps 0.6", "points pt 2 ps 0.5", "points pt 5 ps 1"};
      for (std::size_t m = 0; m < kMeasures.size(); ++m) {
        for (std::size_t k = 0; k < kinds.size(); ++k) {
          const double x = double(k + 1) + (double(m) - 1.5) * 0.18;
          const int col = int(m) == 0 ? 2 : int(m) == 1 ? 3 : int(m) == 2 ? 4 : 11;
          p.series.push_back({fs::path(out) / kinds[k] / "walkers.csv",
                              fmt::format("({:.3f} + 0.05 * (rand(0) - 0.5)):{}", x, col),
                              k == 0 ? kTitles[m] : "", std::string(styles[m]) + fmt::format(" lc {}", m + 1)});
        }
      }
      draw(p, fs::path(out) / "walker_exponents.png");
    }
    if (kinds.size() > 1 && vm.count("no-plots") == 0) {
      Plot m{"Time-averaged MSD, mean over walkers", "lag {/Symbol t} (steps)", "MSD", true, true, {}, {}};
      for (const auto& k : kinds) m.series.push_back({fs::path(out) / k / "msd_mean.csv", "1:2", k, "lines lw 2"});
      draw(m, fs::path(out) / "msd_landscapes.png");
    }
    std::cout << "time-averaged MSD (mean over walkers) and the ensemble MSD from the start, two-regime fits:\n";
    std::cout << fmt::format("{:<9} {:>16} {:>16} {:>16} | {:>8} {:>8} {:>8} | {:>6}\n", "landscape", "early exponent",
                             "late exponent", "tau0 (steps)", "early", "late", "tau0", "tail");
    for (const auto& s : rows) {
      std::cout << fmt::format(
          "{:<9} {:>8.3f} ± {:<5.3f} {:>8.3f} ± {:<5.3f} {:>8.1f} ± {:<5.1f} | {:>8.3f} {:>8.3f} {:>8.1f} | {:>6.2f}\n",
          s.landscape, s.fit.early_exponent, s.fit.early_error, s.fit.late_exponent, s.fit.late_error,
          s.fit.crossover, s.fit.crossover_error, s.from_start.early_exponent, s.from_start.late_exponent,
          s.from_start.crossover, s.tail);
    }
    std::cout << fmt::format("\nper walker, exponent of the MSD over lags {:g}-{:g}: median [quartiles], share above 1\n",
                             a.band_lo, a.band_hi);
    std::cout << fmt::format("{:<9} {:>26} {:>26} {:>26} {:>8} {:>8}\n", "landscape", "whole path", "before trapping",
                             "from the start", "pinned", "skipped");
    for (const auto& r : rows) {
      std::string line = fmt::format("{:<9}", r.landscape);
      for (std::size_t m = 0; m < 3; ++m) {
        const auto e = exponent_distribution(values(r.walkers, kMeasures[m].second));
        line += fmt::format(" {:>5.2f} [{:.2f},{:.2f}] {:>3.0f}% ({:>3})", e.median, e.q25, e.q75, 100 * e.share_above_1,
                            e.walkers);
      }
      std::cout << line << fmt::format(" {:>8} {:>7.1f}%\n", r.pinned, 100.0 * double(r.skipped) / double(r.steps));
    }
    std::fprintf(stderr, "anodiff-simplified-model: results in %s\n", out.c_str());
    return 0;
  });
}
