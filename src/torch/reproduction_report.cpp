// The reproduction's report (report.md and report.html), built from the typed results of run_reproduction; the
// study's claims judged on them.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/output/report.hpp"
#include "anodiff/torch/reproduction.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {

using Quantity = std::function<double(const PartResult&)>;
const Quantity kEarly = [](const PartResult& p) { return p.fit.early_exponent; };
const Quantity kLate = [](const PartResult& p) { return p.fit.late_exponent; };
const Quantity kShortBand = [](const PartResult& p) { return p.short_band.median; };
const Quantity kFloorShare = [](const PartResult& p) { return p.fit.floor_share; };

// The finite values, sorted.
std::vector<double> finite_sorted(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  std::sort(v.begin(), v.end());
  return v;
}
// The (upper) median of the finite values; NaN without any.
double median(const std::vector<double>& v) {
  const auto f = finite_sorted(v);
  return f.empty() ? NAN : f[f.size() / 2];
}

// The parts of the late phase of a run (every part after the first; the first when it is the only one).
std::vector<const PartResult*> late_parts(const AnalysedRun& a) {
  std::vector<const PartResult*> late;
  for (const auto& p : a.parts) {
    if (p.part.index != 0 || a.parts.size() == 1) late.push_back(&p);
  }
  return late;
}

std::vector<double> values_of(const std::vector<const PartResult*>& parts, const Quantity& q) {
  std::vector<double> v;
  for (const PartResult* p : parts) v.push_back(q(*p));
  return v;
}

// The study's claims per run and phase (claims.hpp), each run's table followed by its attenuation picture; then the
// simplified model's claim over every walker.
void claims_section(Report& rep, const ReproductionResult& r, const std::vector<RunClaims>& claims, const fs::path& dir) {
  rep.heading("The study's claims, judged per run and phase");
  rep.para(verdict_rules() + " Each run is judged on its own, beside the study's values for the same network and batch "
           "size where the study reports them.");
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const auto& c = claims[i];
    rep.heading(c.run.label, 3);
    const auto table = claims_table(c);
    rep.table(table.head, table.rows);
    rep.para("<b>" + claims_summary(c) + "</b>");
    rep.image(dir, dir / (claims.size() == 1 ? std::string("attenuation.png") : fmt::format("attenuation_{}.png", i)),
              fmt::format("{}: the band exponents (left axis) and the training loss (right axis) against the waiting "
                          "time: the attenuation claim",
                          c.run.label));
  }
  std::map<std::string, const ExponentDistribution*> by;
  for (const auto& l : r.simplified.landscapes) by[to_string(l.kind)] = &l.exponent(WalkerMeasure::before_trapping);
  if (by.count("fractal") && by.count("convex") && by.count("random")) {
    auto cell = [&](const char* k) {
      const auto& e = *by[k];
      return fmt::format("{} {} [{}, {}], {:.0f}% above 1", k, report_number(e.median, 2), report_number(e.q25, 2), report_number(e.q75, 2),
                         100 * e.share_above_1);
    };
    const double fr = by["fractal"]->median, co = by["convex"]->median, ra = by["random"]->median;
    const bool measured = std::isfinite(fr) && std::isfinite(co) && std::isfinite(ra);
    const bool shown = fr > 1 && co <= 1 && ra <= 1;
    const bool ordered = fr > std::max(co, ra);
    rep.heading("The simplified model", 3);
    rep.table({"claim", "the study", "this run", "verdict", "why"},
              {{"Superdiffusion on the fractal landscape, not on the cone or the shuffled one",
                "one walker's segment (Fig. 4b)",
                "per walker, before trapping, lags 1-20: " + cell("fractal") + "; " + cell("convex") + "; " + cell("random"),
                !measured ? "not measured" : shown ? "<b>shown</b>" : ordered ? "<b>partly shown</b>" : "<b>not shown</b>",
                !measured ? "Too few walkers had a path long enough before trapping."
                : shown   ? "The median walker is superdiffusive on the fractal landscape only."
                : ordered ? "The fractal landscape's median walker moves fastest-growing but is not superdiffusive."
                          : "The fractal landscape's walkers are not more superdiffusive than the controls'."}});
  }
}

// Which regime each run is in, and why, from its judged parts and its training loss.
void regime_paragraphs(Report& rep, const ReproductionResult& r) {
  for (const auto& a : r.runs) {
    const auto judged = late_parts(a);
    const double early = median(values_of(judged, kEarly)), late = median(values_of(judged, kLate));
    const double floor_share = median(values_of(judged, kFloorShare));
    const double short_band = median(values_of(judged, kShortBand));
    const auto& metrics = a.metrics;
    std::string regime = r.runs.size() > 1 ? fmt::format("<i>{}</i>: ", a.label) : std::string();
    if (a.parts.size() > 1) {
      const auto& f0 = a.parts.front();
      regime += fmt::format("The first part (from initialisation: the initial phase) has early exponent {}, short-band "
                            "beta {} and late exponent {}. In the later parts (the late phase) ",
                            report_number(f0.fit.early_exponent), report_number(f0.short_band.median, 2), report_number(f0.fit.late_exponent));
    }
    if (early < 1) {
      regime += fmt::format("<b>short lags are subdiffusive</b> (early exponent {}, short-band beta {}; the jitter floor "
                            "is {:.0f}% of the MSD at the smallest fitted lag): the step-to-step motion does not persist - "
                            "over tens of steps the displacement grows more slowly than linearly. ",
                            report_number(early), report_number(short_band, 2), 100 * floor_share);
    } else if (std::isfinite(early)) {
      regime += fmt::format("<b>short lags are superdiffusive</b> (early exponent {}): the motion persists over "
                            "tens of steps. ", report_number(early));
    }
    if (late > 1 && metrics.size() > 2) {
      // Is the loss still falling? Its change over the last quarter of the epochs, relative to its value there.
      const std::size_t q = std::max<std::size_t>(1, (metrics.size() - 1) * 3 / 4);
      const double then = metrics[q].train_loss, last = metrics.back().train_loss;
      const bool falling = then > 0 && (then - last) / then > 0.05;
      regime += fmt::format("<b>Long lags are directed</b> (late exponent {}): the weights still travel one way; the "
                            "training loss went from {} (epoch 1) to {} (epoch {}) and {} over the last quarter of the "
                            "epochs ({} to {}){}.",
                            report_number(late), report_number(metrics[1].train_loss, 3), report_number(last, 3), metrics.back().epoch,
                            falling ? "was still falling" : "no longer fell by more than 5%", report_number(then, 3),
                            report_number(last, 3),
                            falling ? " - the study's late subdiffusion is expected once it stops falling"
                                    : " - a drift without descent (e.g. weight norms growing on a memorised training set)");
    } else if (late <= 1) {
      regime += fmt::format("<b>Long lags are subdiffusive</b> (late exponent {}): the weights are confined, the study's "
                            "late regime.", report_number(late));
    }
    rep.para(regime);
  }
}

void parts_section(Report& rep, const ReproductionResult& r, const fs::path& dir) {
  const auto& s = r.options;
  rep.heading("Mean-squared displacement per part");
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : r.runs) {
    for (const auto& f : a.parts) {
      const bool found = f.fit.crossover_found;
      const PartReading reading = read_part(f);
      rows.push_back({a.spec.model, fmt::format("{}{}", f.part.index, f.part.index == 0 && a.parts.size() > 1 ? " (transient)" : ""),
                      fmt::format("{}", f.part.start),
                      report_number(f.fit.early_exponent) + " ± " + report_number(f.fit.early_error),
                      report_number(f.fit.late_exponent) + " ± " + report_number(f.fit.late_error),
                      found ? report_number(f.fit.crossover, 1) + " ± " + report_number(f.fit.crossover_error, 1) : "none found",
                      report_number(f.short_band.median, 2) + " [" + report_number(f.short_band.q25, 2) + ", " + report_number(f.short_band.q75, 2) + "]",
                      report_number(f.long_band.median, 2) + " [" + report_number(f.long_band.q25, 2) + ", " + report_number(f.long_band.q75, 2) + "]",
                      report_number(f.fit.floor_share, 2),
                      reading.pattern() ? "yes" : reading.crossover_found && !reading.super_to_sub ? "no (crossover not super-to-sub)" : "no"});
    }
  }
  rep.table({"run", "part", "start (step)", "early exponent", "late exponent", "tau0 (steps)", "beta, short band [IQR]",
             "beta, long band [IQR]", "noise floor / MSD(lag min)", "study's pattern"},
            rows);
  const auto& first = r.runs.back().parts.front();
  rep.para(fmt::format("Fit: ln MSD = ln(floor + two power laws meeting at tau0) over lags {} to 0.9 of the part (docs/fits.md); "
                       "the floor absorbs the step-to-step jitter that flattens the first lags. The band exponents are the "
                       "median [quartiles] of the local exponent beta(tau) (window 20) over MSD lags {:g}-{:g} and 0.3-0.9 of "
                       "the part, no model. The study's values are for {} on CIFAR-10 at batch 1024 (parts of 1,000 "
                       "steps){}.",
                       report_number(first.fit.lag_min, 0), first.short_band.lag_lo, first.short_band.lag_hi, s.main_run.model,
                       s.dataset != "cifar10" ? fmt::format("; this run trains on {}", s.dataset) : ""));
  for (const auto& a : r.runs) {
    rep.image(dir, a.analysis / "band_exponents.png",
              fmt::format("{}: band exponents and fitted exponents against the waiting time", a.label));
    if (&a != &r.runs.back()) {  // the long run's; the main run's follow
      rep.image(dir, a.analysis / "msd.png", fmt::format("{}: time-averaged MSD per part", a.label));
      rep.image(dir, a.analysis / "local_exponent.png", fmt::format("{}: local exponent beta(tau)", a.label));
    }
  }
  const AnalysedRun& main = r.runs.back();
  std::vector<std::vector<std::string>> mrows;
  for (const auto& p : main.parts) {
    for (const auto& m : p.motion) {
      mrows.push_back({fmt::format("{}", p.part.index), m.component, fmt::format("{}", m.dimension),
                       report_number(m.fit.early_exponent), report_number(m.fit.late_exponent),
                       m.fit.crossover_found ? report_number(m.fit.crossover, 1) : "none", report_number(m.short_band.median, 2),
                       report_number(m.long_band.median, 2)});
    }
  }
  if (mrows.size() > main.parts.size()) {
    rep.heading("Radial and angular motion of the scale-invariant weights", 3);
    rep.para("BatchNorm makes each layer that feeds it scale-invariant: its norm can drift while the function does not "
             "change. <i>radial</i> is the MSD of the norms of those groups, <i>angular</i> of their directions w/|w| "
             "(docs/msd.md).");
    rep.table({"part", "component", "coordinates", "early", "late", "tau0", "beta short", "beta long"}, mrows);
    rep.image(dir, main.analysis / "motion_msd.png", "MSD of the weights, their norms and their directions");
  }
  rep.image(dir, main.analysis / "msd.png", "Time-averaged MSD per part");
  rep.image(dir, main.analysis / "local_exponent.png", "Local exponent beta(tau)");
  rep.image(dir, main.analysis / "msd_contour.png", "MSD against contour length");
  rep.image(dir, main.analysis / "msl.png", "Mean squared loss difference against distance");
  rep.image(dir, main.analysis / "displacement_histogram.png", "Displacement histograms");
  rep.image(dir, main.analysis / "aging_msd.png", "Aging MSD from the start of each part");
  rep.heading("Training");
  rep.image(dir, main.run / "metrics.png", "Loss and error per epoch");
}

void hessian_and_landscape_sections(Report& rep, const ReproductionResult& r, const fs::path& dir) {
  rep.heading("Hessian spectrum along training");
  std::vector<std::vector<std::string>> hrows;
  for (const auto& c : r.hessian.checkpoints) {
    if (c.eigen.eigenpairs.empty()) continue;
    const auto& top = c.eigen.eigenpairs.front();
    hrows.push_back({fmt::format("{}", c.epoch), report_number(top.eigenvalue, 4),
                     top.relative_residual ? fmt::format("{:.2g}", *top.relative_residual) : "n/a",
                     top.converged ? "yes" : "no", fmt::format("{}", c.eigen.products), c.warm_start ? "yes" : "no"});
  }
  rep.table({"epoch", "largest eigenvalue", "relative residual", "converged", "Hessian-vector products", "warm start"}, hrows);
  rep.image(dir, dir / "hessian" / "eigenvalues.png", "Top Hessian eigenvalues against epoch");
  for (const auto& l : r.landscapes) {
    rep.heading(fmt::format("Loss landscape at epoch {}", l.epoch));
    std::vector<std::vector<std::string>> lrows;
    if (l.roughness) {
      const auto& h = l.roughness->hurst;
      const auto& p = l.roughness->pairs.fit;
      lrows.push_back({"hurst_structure_function", report_number(h.hurst), report_number(h.error),
                       fmt::format("lags {:g}-{:g} px", h.lag_min, h.lag_max), ""});
      lrows.push_back({"mean_abs_dloss_slope", report_number(p.exponent), report_number(p.exponent_error),
                       fmt::format("distances {:.3g}-{:.3g}", p.x_min, p.x_max), "1 (the study)"});
      if (l.roughness->boxes) {
        const auto& b = *l.roughness->boxes;
        lrows.push_back({"box_counting_slope", report_number(b.fit.exponent), report_number(b.fit.exponent_error),
                         fmt::format("boxes {:g}-{:g} px", b.fit.x_min, b.fit.x_max), "-1.7 (the study; ResNet-56)"});
        lrows.push_back({"box_counting_dimension", report_number(b.dimension), report_number(b.fit.exponent_error),
                         fmt::format("boxes {:g}-{:g} px", b.fit.x_min, b.fit.x_max), ""});
      }
    }
    rep.table({"estimator", "value", "error", "fit range", "study"}, lrows);
    if (l.landscape.grid.x.points < 31) {
      rep.para(fmt::format("A {0} x {0} grid is too small to estimate a Hurst exponent or a box-counting slope (their fit "
                           "ranges span 1-4 pixels); these numbers are shown for completeness, not judged. The paper preset "
                           "computes 51 x 51 grids.", l.landscape.grid.x.points));
    }
    rep.image(dir, l.directory / "contour.png", "Loss contours (filter-normalised random directions)");
    rep.image(dir, l.directory / "surface_3d.png", "The surface");
  }
}

void simplified_model_section(Report& rep, const ReproductionResult& r, const fs::path& dir) {
  rep.heading("The simplified model on a fractal landscape");
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : r.simplified.landscapes) {
    for (auto m : kWalkerMeasures) {
      const auto& e = l.exponent(m);
      rows.push_back({to_string(l.kind), to_string(m), fmt::format("{}", e.walkers), report_number(e.median, 2),
                      report_number(e.q25, 2) + " - " + report_number(e.q75, 2), fmt::format("{:.0f}%", 100 * e.share_above_1),
                      fmt::format("{}", l.pinned_walkers), fmt::format("{:.1f}%", 100 * l.skipped_share)});
    }
  }
  rep.table({"landscape", "exponent of", "walkers", "median", "quartiles", "above 1", "pinned walkers", "skipped steps"}, rows);
  rep.para("Each walker's time-averaged MSD over lags 1-20: on its whole path, on its path before trapping (it stays within "
           "0.05 of its final position from then on), from its start, and on the study's hand-cut R1 segment where a walker "
           "has one (docs/simplified_model.md).");
  const fs::path sm = dir / "simplified_model";
  rep.image(dir, sm / "walker_exponents.png", "Per-walker exponents on the three landscapes");
  rep.image(dir, sm / "msd_landscapes.png", "MSD of the walkers on the three landscapes");
  rep.image(dir, sm / "fractal" / "landscape.png", "Walkers on walker 0's fractal landscape (each walker runs on one of a pool)");
}

}  // namespace

std::vector<RunClaims> judge_reproduction(const ReproductionResult& r) {
  std::vector<RunClaims> claims;
  for (const auto& a : r.runs) claims.push_back(judge_run(a.description, a.parts, a.part_loss));
  return claims;
}

bool shows_study_pattern(const ReproductionResult& r) {
  const auto claims = judge_reproduction(r);
  return !claims.empty() &&
         std::all_of(claims.begin(), claims.end(), [](const RunClaims& c) { return c.shows_pattern(); });
}

void write_reproduction_report(const ReproductionResult& r, const fs::path& dir) {
  const auto& s = r.options;
  if (r.runs.empty() || r.runs.back().parts.empty()) {
    throw std::invalid_argument("write_reproduction_report: the main run has no analysed part");
  }
  const auto claims = judge_reproduction(r);
  write_claims(claims, dir);
  Report rep;
  std::vector<std::string> names;
  for (const auto& a : r.runs) names.push_back(a.spec.model);
  const std::string title = fmt::format("anodiff: the study's claims on {}, {} (preset {})", s.dataset,
                                        fmt::join(names, " and "), s.preset);
  rep.heading(title, 1);
  std::string runs = "Reproduces G. Chen, C. K. Qu, P. Gong, <i>Anomalous diffusion dynamics of learning in deep "
                     "neural networks</i>, Neural Networks 149 (2022), with plain SGD and every step recorded. The runs:";
  for (const auto& a : r.runs) {
    const bool long_run = r.runs.size() > 1 && &a == &r.runs.front();
    runs += fmt::format(" <b>{}</b>: {} training samples of {}, {}, D = {} parameters, parts of {} steps{}.", a.label,
                        a.samples, s.dataset,
                        a.spec.augment ? "with augmentation" : "no augmentation", a.dimension, a.spec.part_length,
                        long_run ? " (the long run: the study's run length)" : "");
  }
  rep.para(runs);
  claims_section(rep, r, claims, dir);
  regime_paragraphs(rep, r);
  parts_section(rep, r, dir);
  hessian_and_landscape_sections(rep, r, dir);
  simplified_model_section(rep, r, dir);
  rep.heading("Wall time of each stage");
  std::vector<std::vector<std::string>> srows;
  double total = 0;
  for (const auto& [name, sec] : r.stage_seconds) srows.push_back({name, fmt::format("{:.0f} s", sec)}), total += sec;
  srows.push_back({"total", fmt::format("{:.0f} s ({:.1f} min)", total, total / 60)});
  rep.table({"stage", "wall time"}, srows);
  rep.write(dir, title);
}

}  // namespace anodiff
