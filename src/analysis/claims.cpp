#include "anodiff/analysis/claims.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "anodiff/io/csv.hpp"
#include "anodiff/base/error.hpp"
#include "anodiff/base/run_config.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

std::string to_string(Phase phase) { return phase == Phase::initial ? "initial" : "late"; }

std::string to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::shown: return "shown";
    case Verdict::partly_shown: return "partly shown";
    case Verdict::weak: return "weak";
    case Verdict::not_shown: return "not shown";
    case Verdict::not_measured: break;
  }
  return "not measured";
}

void VerdictThresholds::validate() const {
  if (!(partly > 0 && partly <= shown && shown <= 1)) {
    throw std::invalid_argument(
        fmt::format("VerdictThresholds: expected 0 < partly <= shown <= 1, got partly {} and shown {}", partly, shown));
  }
}

Verdict verdict_of(std::size_t yes, std::size_t of, const VerdictThresholds& t) {
  t.validate();
  if (yes > of) throw std::invalid_argument(fmt::format("verdict_of: {} of {} parts", yes, of));
  if (of == 0) return Verdict::not_measured;
  if (yes == 0) return Verdict::not_shown;
  const double share = double(yes) / double(of);
  // The shares are compared with a tolerance of one part in 10^9, so that 3 of 4 is "shown" at 0.75.
  if (share >= t.shown - 1e-9) return Verdict::shown;
  if (share >= t.partly - 1e-9) return Verdict::partly_shown;
  return Verdict::weak;
}

std::optional<StudyValues> study_values(const std::string& model, std::int64_t batch_size, double lr) {
  // paper-methods.md section 2: the depth grid at batch 1024 (lr 0.1) with tau0; ResNet-14's lr grid at batch 128.
  static const std::map<std::string, StudyValues> kDepth = {
      {"resnet14", {1.215, 0.783, 70}},          {"resnet20", {1.360, 0.600, 45}},
      {"resnet56", {1.259, 0.733, 70}},          {"resnet14_noshort", {1.388, 0.690, 65}},
      {"resnet20_noshort", {1.314, 0.693, 100}}, {"resnet56_noshort", {1.033, 0.700, 133}}};
  static const std::map<double, StudyValues> kLr = {{0.001, {2.0, 2.0, kNaN}}, {0.01, {1.83, 1.7, kNaN}},
                                                    {0.05, {1.7, 0.68, kNaN}}, {0.1, {1.39, 0.69, kNaN}},
                                                    {0.5, {1.4, 0.73, kNaN}}};
  if (batch_size == 1024 && std::abs(lr - 0.1) < 1e-12 && kDepth.count(model)) return kDepth.at(model);
  if (batch_size == 128 && model == "resnet14") {
    for (const auto& [rate, values] : kLr) {
      if (std::abs(lr - rate) < 1e-12) return values;
    }
  }
  return std::nullopt;
}

PartReading read_part(const PartResult& p, double loss) {
  PartReading r;
  r.index = p.part.index;
  r.start = p.part.start;
  r.phase = p.part.index == 0 ? Phase::initial : Phase::late;
  const CrossoverFit& f = p.fit;
  r.crossover_found = f.crossover_found;
  // With a crossover the two slopes describe the two ranges; without one the single power law is the exponent of
  // every lag (the two slopes of a breakpoint on the bound are not two regimes).
  r.short_exponent = f.crossover_found ? f.early_exponent : f.single_exponent;
  r.long_exponent = f.crossover_found ? f.late_exponent : f.single_exponent;
  r.super_to_sub = f.crossover_found && f.early_exponent > 1 && f.late_exponent < 1;
  r.tau0 = f.crossover_found ? f.crossover : kNaN;
  r.short_band = p.short_band.median;
  r.long_band = p.long_band.median;
  r.short_measured = std::isfinite(r.short_exponent) && std::isfinite(r.short_band);
  r.long_measured = std::isfinite(r.long_exponent) && std::isfinite(r.long_band);
  r.short_superdiffusive = r.short_measured && r.short_exponent > 1 && r.short_band > 1;
  r.long_subdiffusive = r.long_measured && r.long_exponent < 1 && r.long_band < 1;
  r.hurst = p.msl_fit.exponent / 2;
  r.hurst_error = p.msl_fit.exponent_error / 2;
  // Rough: 0 < H < 1 beyond two standard errors (H = 1 is a smooth landscape; H near 0: the loss differences do not
  // grow with distance, the mini-batch noise of the recorded loss dominates).
  const double e2 = 2 * (std::isfinite(r.hurst_error) ? r.hurst_error : 0);
  r.rough = std::isfinite(r.hurst) && r.hurst - e2 > 0 && r.hurst + e2 < 1;
  r.loss = loss;
  return r;
}

namespace {

// Least-squares slope of y on x and its standard error (NaN with fewer than 3 points or no spread in x).
std::pair<double, double> slope_with_error(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 3) return {kNaN, kNaN};
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= double(n), my /= double(n);
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < n; ++i) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  if (!(sxx > 0)) return {kNaN, kNaN};
  const double b = sxy / sxx, a = my - b * mx;
  double rss = 0;
  for (std::size_t i = 0; i < n; ++i) rss += (y[i] - a - b * x[i]) * (y[i] - a - b * x[i]);
  return {b, std::sqrt(rss / double(n - 2) / sxx)};
}

}  // namespace

AttenuationTrend attenuation_trend(const std::vector<PartReading>& parts) {
  AttenuationTrend t;
  std::vector<double> log_wait, beta, loss_x, loss_beta;
  for (const auto& p : parts) {
    if (!std::isfinite(p.short_band)) continue;
    log_wait.push_back(std::log10(double(p.start) + 1));
    beta.push_back(p.short_band);
    if (std::isfinite(p.loss)) loss_x.push_back(p.loss), loss_beta.push_back(p.short_band);
  }
  t.parts = beta.size();
  if (t.parts < 3) return t;
  t.first = beta.front();
  t.last = beta.back();
  std::tie(t.slope_log_wait, t.slope_log_wait_error) = slope_with_error(log_wait, beta);
  if (loss_x.size() >= 3) std::tie(t.slope_loss, t.slope_loss_error) = slope_with_error(loss_x, loss_beta);
  // A slope "beyond two standard errors" in the direction of attenuation; a zero error (an exact line) counts.
  auto beyond = [](double slope, double error, double sign) {
    return std::isfinite(slope) && std::isfinite(error) && sign * slope > 2 * error;
  };
  const bool with_wait = beyond(t.slope_log_wait, t.slope_log_wait_error, -1);
  const bool loss_known = std::isfinite(t.slope_loss);
  const bool with_loss = beyond(t.slope_loss, t.slope_loss_error, +1);
  if (!std::isfinite(t.slope_log_wait)) {
    t.verdict = Verdict::not_measured;
  } else if (with_wait && (with_loss || !loss_known)) {
    t.verdict = Verdict::shown;
  } else if (with_wait || with_loss) {
    t.verdict = Verdict::partly_shown;
  } else {
    t.verdict = Verdict::not_shown;
  }
  return t;
}

std::vector<double> part_losses(const std::vector<double>& loss, const std::vector<PartResult>& parts) {
  std::vector<double> out;
  for (const auto& p : parts) {
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t t = p.part.start + 1; t < p.part.start + p.part.count && t < loss.size(); ++t) {
      if (std::isfinite(loss[t])) sum += loss[t], ++n;
    }
    out.push_back(n > 0 ? sum / double(n) : kNaN);
  }
  return out;
}

namespace {
// "model, batch B, lr L, N steps": a run whose configuration is known.
std::string configured_label(const RunDescription& d, std::size_t steps) {
  return fmt::format("{}, batch {}, lr {:g}, {} steps", d.model, d.batch_size, d.lr, steps);
}
}  // namespace

RunDescription describe_run(const fs::path& trajectory, std::size_t steps) {
  RunDescription d;
  fs::path path = fs::absolute(trajectory).lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // "run/trajectory/"
  const fs::path run = path.parent_path();
  if (fs::exists(run / "config.txt")) {
    for (const auto& [key, value] : read_run_config(run)) {
      try {
        if (key == "model") d.model = value;
        if (key == "batch_size") d.batch_size = std::stoll(value);
        if (key == "lr") d.lr = std::stod(value);
      } catch (const std::exception&) {
        throw InputError(
            fmt::format("{}: expected a number for '{}', found '{}'", (run / "config.txt").string(), key, value));
      }
    }
  }
  d.label = d.model.empty() ? fmt::format("{}, {} steps", path.filename().string(), steps)
                            : configured_label(d, steps);
  return d;
}

RunDescription describe_run(const fs::path& trajectory, std::size_t steps, const RunDescription& known) {
  RunDescription d = describe_run(trajectory, steps);
  if (known.model.empty() && known.batch_size <= 0 && std::isnan(known.lr)) return d;
  if (!known.model.empty()) d.model = known.model;
  if (known.batch_size > 0) d.batch_size = known.batch_size;
  if (!std::isnan(known.lr)) d.lr = known.lr;
  d.label = configured_label(d, steps);
  return d;
}

const ClaimVerdict& RunClaims::find(const std::string& claim, Phase phase) const {
  for (const auto& c : claims) {
    if (c.claim == claim && c.phase == phase) return c;
  }
  throw std::out_of_range(fmt::format("RunClaims: no claim '{}' in the {} phase", claim, to_string(phase)));
}

bool RunClaims::shows_pattern() const {
  const bool late_parts = std::any_of(parts.begin(), parts.end(), [](const PartReading& p) { return p.phase == Phase::late; });
  return find("pattern", late_parts ? Phase::late : Phase::initial).verdict == Verdict::shown;
}

std::string claim_title(const std::string& claim) {
  static const std::map<std::string, std::string> kTitles = {
      {"short_superdiffusion", "Superdiffusion at short lags (MSD ~ tau^a, a > 1)"},
      {"long_subdiffusion", "Subdiffusion at long lags (a < 1)"},
      {"super_to_sub_crossover", "A crossover from super- to subdiffusion at tau0 (45-400 steps in the study)"},
      {"rough_path", "A rough landscape along the path (MSL ~ dr^2H, 0 < H < 1)"},
      {"pattern", "The whole pattern in one part (all three above)"},
      {"attenuation", "The short-lag superdiffusion attenuates with the waiting time and the loss"}};
  const auto it = kTitles.find(claim);
  return it == kTitles.end() ? claim : it->second;
}

RunClaims judge_run(const RunDescription& run, const std::vector<PartResult>& parts, const std::vector<double>& part_loss,
                    const VerdictThresholds& thresholds) {
  thresholds.validate();
  if (!part_loss.empty() && part_loss.size() != parts.size()) {
    throw std::invalid_argument(fmt::format("judge_run: expected one mean loss per part ({}), got {}", parts.size(),
                                            part_loss.size()));
  }
  RunClaims r;
  r.run = run;
  r.study = study_values(run.model, run.batch_size, run.lr);
  for (std::size_t i = 0; i < parts.size(); ++i) r.parts.push_back(read_part(parts[i], part_loss.empty() ? kNaN : part_loss[i]));
  using Test = bool (*)(const PartReading&);
  struct Rule {
    const char* claim;
    Test measured, shows;
  };
  static const Rule kRules[] = {
      {"short_superdiffusion", [](const PartReading& p) { return p.short_measured; },
       [](const PartReading& p) { return p.short_superdiffusive; }},
      {"long_subdiffusion", [](const PartReading& p) { return p.long_measured; },
       [](const PartReading& p) { return p.long_subdiffusive; }},
      {"super_to_sub_crossover", [](const PartReading& p) { return p.short_measured && p.long_measured; },
       [](const PartReading& p) { return p.super_to_sub; }},
      {"rough_path", [](const PartReading& p) { return std::isfinite(p.hurst); },
       [](const PartReading& p) { return p.rough; }},
      {"pattern", [](const PartReading& p) { return p.short_measured && p.long_measured; },
       [](const PartReading& p) { return p.pattern(); }}};
  for (const auto& rule : kRules) {
    for (Phase phase : {Phase::initial, Phase::late}) {
      ClaimVerdict c;
      c.claim = rule.claim;
      c.phase = phase;
      for (const auto& p : r.parts) {
        if (p.phase != phase || !rule.measured(p)) continue;
        ++c.of;
        c.yes += rule.shows(p);
      }
      c.verdict = verdict_of(c.yes, c.of, thresholds);
      r.claims.push_back(c);
    }
  }
  r.attenuation = attenuation_trend(r.parts);
  return r;
}

namespace {

// The finite values of `q` over the parts of `phase`, sorted.
std::vector<double> phase_values(const RunClaims& r, Phase phase, double PartReading::*q) {
  std::vector<double> v;
  for (const auto& p : r.parts) {
    if (p.phase == phase && std::isfinite(p.*q)) v.push_back(p.*q);
  }
  std::sort(v.begin(), v.end());
  return v;
}

// "1 part", "3 parts".
std::string parts_of(std::size_t n) { return fmt::format("{} part{}", n, n == 1 ? "" : "s"); }

std::string fixed(double v, int digits = 2) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "n/a"; }

// "median (range lo-hi)" of sorted values; "n/a" when empty.
std::string median_range(const std::vector<double>& v, int digits = 2) {
  if (v.empty()) return "n/a";
  const double med = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return v.size() == 1 ? fixed(med, digits)
                       : fmt::format("{} ({}-{})", fixed(med, digits), fixed(v.front(), digits), fixed(v.back(), digits));
}

std::string study_cell(const RunClaims& r, const std::string& claim) {
  if (!r.study) return "none reported for this configuration";
  const StudyValues& s = *r.study;
  if (claim == "short_superdiffusion") return fmt::format("early exponent {}", fixed(s.early, 3));
  if (claim == "long_subdiffusion") return fmt::format("late exponent {}", fixed(s.late, 3));
  if (claim == "super_to_sub_crossover") {
    return std::isfinite(s.tau0) ? fmt::format("tau0 {:.0f} steps", s.tau0) : std::string("tau0 not reported");
  }
  if (claim == "pattern") return "in every part of its Fig. 2";
  if (claim == "attenuation") return "\"initially superdiffusive, attenuating\" (abstract)";
  return "fractal-like, H < 1";
}

std::string value_cell(const RunClaims& r, const std::string& claim, Phase phase) {
  std::size_t parts = 0, found = 0, s2s = 0, in_range = 0;
  std::vector<double> tau0;
  for (const auto& p : r.parts) {
    if (p.phase != phase) continue;
    ++parts;
    found += p.crossover_found;
    if (p.super_to_sub) {
      ++s2s;
      tau0.push_back(p.tau0);
      in_range += p.tau0 >= 45 && p.tau0 <= 400;
    }
  }
  std::sort(tau0.begin(), tau0.end());
  if (claim == "short_superdiffusion") {
    return fmt::format("exponent {}; short-band beta {}", median_range(phase_values(r, phase, &PartReading::short_exponent)),
                       median_range(phase_values(r, phase, &PartReading::short_band)));
  }
  if (claim == "long_subdiffusion") {
    return fmt::format("exponent {}; long-band beta {}", median_range(phase_values(r, phase, &PartReading::long_exponent)),
                       median_range(phase_values(r, phase, &PartReading::long_band)));
  }
  if (claim == "super_to_sub_crossover") {
    return fmt::format("{} of {} with a crossover, {} of them super-to-sub{}", found, parts_of(parts), s2s,
                       s2s ? fmt::format(" (tau0 {}, {} in 45-400)", median_range(tau0, 0), in_range) : std::string());
  }
  if (claim == "rough_path") return "H " + median_range(phase_values(r, phase, &PartReading::hurst));
  return fmt::format("{} of {}", r.find(claim, phase).yes, parts_of(r.find(claim, phase).of));
}

std::string rule_cell(const std::string& claim) {
  if (claim == "short_superdiffusion") {
    return "exponent > 1 and short-band beta > 1";
  }
  if (claim == "long_subdiffusion") return "exponent < 1 and long-band beta < 1";
  if (claim == "super_to_sub_crossover") return "a crossover found with early > 1 > late; a sub-to-super one does not count";
  if (claim == "rough_path") return "0 < H < 1 by two standard errors";
  return "all three in the same part";
}

}  // namespace

TextTable claims_table(const RunClaims& r) {
  TextTable t;
  t.head = {"claim", "phase", "the study", "this run (median, range)", "verdict", "rule"};
  for (const auto& c : r.claims) {
    const auto n = std::count_if(r.parts.begin(), r.parts.end(), [&](const PartReading& p) { return p.phase == c.phase; });
    if (n == 0) continue;  // a phase without parts
    t.rows.push_back({claim_title(c.claim), to_string(c.phase) + (c.phase == Phase::initial ? " (part 0)" : " (" + parts_of(std::size_t(n)) + ")"),
                      study_cell(r, c.claim), value_cell(r, c.claim, c.phase),
                      c.of ? fmt::format("{} ({} of {})", to_string(c.verdict), c.yes, c.of) : to_string(c.verdict),
                      rule_cell(c.claim)});
  }
  constexpr const char* attenuation_rule =
      "beta falls with log t_w and rises with the loss, each beyond 2 standard errors (partly: one of the two)";
  const auto& a = r.attenuation;
  t.rows.push_back({claim_title("attenuation"), "all (" + parts_of(a.parts) + ")", study_cell(r, "attenuation"),
                    a.parts < 3 ? std::string("fewer than 3 parts")
                                : fmt::format("short-band beta {} (first part) to {} (last); slope {} +- {} per decade of "
                                              "t_w, {} +- {} per unit of training loss",
                                              fixed(a.first), fixed(a.last), fixed(a.slope_log_wait, 3),
                                              fixed(a.slope_log_wait_error, 3), fixed(a.slope_loss, 3),
                                              fixed(a.slope_loss_error, 3)),
                    to_string(a.verdict), std::string(attenuation_rule)});
  return t;
}

std::string claims_summary(const RunClaims& r) {
  const bool late = std::any_of(r.parts.begin(), r.parts.end(), [](const PartReading& p) { return p.phase == Phase::late; });
  const auto& whole = r.find("pattern", late ? Phase::late : Phase::initial);
  std::string s = fmt::format("{}: {} the study's pattern in its {} phase ({} of {}: {}).", r.run.label,
                              r.shows_pattern() ? "shows" : "does not show", late ? "late" : "initial", whole.yes,
                              parts_of(whole.of), to_string(whole.verdict));
  if (!r.run.chosen_on_outcome.empty()) s += " Chosen on the outcome: " + r.run.chosen_on_outcome + ".";
  return s;
}

std::string verdict_rules(const VerdictThresholds& t) {
  return fmt::format("Verdicts by the share of a phase's parts that show a claim: shown at {:.0f}% or more, partly "
                     "shown from {:.0f}%, weak below that, not shown in none, not measured where no part could be "
                     "measured. The initial phase is the first part (from initialisation), the late phase every later "
                     "part. A part's short- and long-lag exponents are its fit's early and late ones where a crossover "
                     "was found, its single power law where none was (docs/reproducing.md).",
                     100 * t.shown, 100 * t.partly);
}

}  // namespace anodiff
