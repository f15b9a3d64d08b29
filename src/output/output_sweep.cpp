// The sweep's table, plots and report (write_sweep) and its rows (sweep_row).
#include "anodiff/output/sweep.hpp"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "anodiff/analysis/claims.hpp"
#include "anodiff/io/csv.hpp"
#include "anodiff/output/plot.hpp"
#include "anodiff/output/report.hpp"

namespace anodiff {
namespace fs = std::filesystem;

SweepRow sweep_row(const std::string& group, const std::string& model, std::int64_t batch, double lr,
                   const std::vector<PartResult>& parts) {
  std::map<std::string, std::vector<double>> q;
  for (const auto& p : parts) {
    for (const auto& [k, v] : {std::pair<std::string, double>{"early", p.fit.early_exponent}, {"late", p.fit.late_exponent},
                               {"tau0", p.fit.crossover}}) {
      if (std::isfinite(v)) q[k].push_back(v);  // tau0 is NaN where no crossover was found
    }
  }
  auto mean = [](const std::vector<double>& v) { double a = 0; for (double x : v) a += x; return v.empty() ? NAN : a / double(v.size()); };
  auto spread = [&](const std::vector<double>& v) { double m = mean(v), a = 0; for (double x : v) a += (x - m) * (x - m); return v.size() < 2 ? NAN : std::sqrt(a / double(v.size() - 1)); };
  // The study's lr grid ran at batch 128, so its lr 0.1 point is also the batch grid's batch-128 value.
  const StudyValues st = study_values(model, batch, lr).value_or(StudyValues{});
  return {group, model, batch, lr, mean(q["early"]), spread(q["early"]), mean(q["late"]), spread(q["late"]),
          mean(q["tau0"]), spread(q["tau0"]), st.early, st.late, st.tau0, q["tau0"].size()};
}

void write_sweep(const std::vector<SweepRow>& rows, const fs::path& dir) {
  const fs::path csv = dir / "sweep.csv";
  {
    CsvWriter table(csv, "group,model,batch_size,lr,early_exponent,early_spread,late_exponent,late_spread,"
                         "tau0,tau0_spread,study_early,study_late,study_tau0,parts,depth,shortcuts");
    for (const auto& c : rows) {
      // The depth of a ResNet (resnet56_noshort: 56); empty for another network (fc3, vgg9).
      std::string digits;
      if (c.model.rfind("resnet", 0) == 0) {
        const auto cut = c.model.find('_');
        digits = c.model.substr(6, cut == std::string::npos ? std::string::npos : cut - 6);
      }
      table.row("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", c.group, c.model, c.batch_size, c.lr,
                csv_number(c.early), csv_number(c.early_spread), csv_number(c.late), csv_number(c.late_spread),
                csv_number(c.tau0), csv_number(c.tau0_spread), csv_number(c.study_early), csv_number(c.study_late),
                csv_number(c.study_tau0), c.crossovers, digits, c.model.find("noshort") == std::string::npos ? 1 : 0);
    }
    table.flush();
  }
  Report r;
  r.heading("anodiff: the study's sweeps", 1);
  std::vector<std::vector<std::string>> cells;
  for (const auto& c : rows) {
    cells.push_back({c.group, c.model, std::to_string(c.batch_size), fmt::format("{:g}", c.lr), report_number(c.early),
                     report_number(c.late), report_number(c.tau0, 1), report_number(c.study_early), report_number(c.study_late), report_number(c.study_tau0, 0)});
  }
  r.table({"grid", "model", "batch", "lr", "early", "late", "tau0", "study: early", "study: late", "study: tau0"}, cells);
  // The early and late exponents and the study's of the rows that the gnuplot expression `x` selects; a `variant` set
  // is drawn dashed with open symbols (the runs without shortcuts).
  auto exponent_series = [&](const std::string& x, const std::string& variant = "") {
    const bool open = !variant.empty();
    const std::string suffix = open ? ", " + variant : "";
    return std::vector<PlotSeries>{
        {csv, x + ":'early_exponent'", "early" + suffix, open ? "linespoints pt 6 dt 2" : "linespoints pt 7 lw 2"},
        {csv, x + ":'late_exponent'", "late" + suffix, open ? "linespoints pt 4 dt 2" : "linespoints pt 5 lw 2"},
        {csv, x + ":'study_early'", "early" + suffix + " (study)", open ? "points pt 8 ps 2" : "points pt 9 ps 2"},
        {csv, x + ":'study_late'", "late" + suffix + " (study)", open ? "points pt 10 ps 2" : "points pt 11 ps 2"}};
  };
  auto draw_into_report = [&](Plot plot, const std::string& png, const std::string& caption) {
    plot.extra = "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05";  // points on the frame stay visible
    draw(plot, dir / png);
    r.image(dir, dir / png, caption);
  };
  draw_into_report({"Exponents against the learning rate (ResNet-14, batch 128)", "learning rate", "exponent", true, false,
                    exponent_series("(strcol('group') eq 'lr' ? column('lr') : 1/0)"), {}},
                   "sweep_lr.png", "Exponents against the learning rate");
  draw_into_report({"Exponents against the batch size (ResNet-14, lr 0.1)", "batch size", "exponent", true, false,
                    exponent_series("(strcol('group') eq 'batch' ? column('batch_size') : 1/0)"), {}},
                   "sweep_batch.png", "Exponents against the batch size");
  const std::string d = "(strcol('group') eq 'depth' && column('shortcuts') == 1 ? column('depth') : 1/0)";
  const std::string dn = "(strcol('group') eq 'depth' && column('shortcuts') == 0 ? column('depth') : 1/0)";
  Plot depth{"Exponents against depth (batch 1024; open: without shortcuts)", "depth", "exponent", false, false,
             exponent_series(d), {}};
  for (auto& series : exponent_series(dn, "no shortcuts")) depth.series.push_back(series);
  draw_into_report(depth, "sweep_depth.png", "Exponents against depth");
  // The crossover lag tau0 against the same three axes (the study reported it for the depth grid).
  Plot tau0{"Crossover lag tau0 against depth (batch 1024), learning rate (batch 128) and batch size (lr 0.1)",
            "depth / learning rate x 1000 / batch size", "tau0 (steps)", true, true, {}, {}};
  tau0.series = {{csv, d + ":'tau0'", "depth", "linespoints pt 7 lw 2"},
                 {csv, dn + ":'tau0'", "depth, no shortcuts", "linespoints pt 6 dt 2"},
                 {csv, d + ":'study_tau0'", "depth (study)", "points pt 9 ps 2"},
                 {csv, dn + ":'study_tau0'", "depth, no shortcuts (study)", "points pt 8 ps 2"},
                 {csv, "(strcol('group') eq 'lr' ? 1000 * column('lr') : 1/0):'tau0'", "learning rate x 1000", "linespoints pt 5 lw 2"},
                 {csv, "(strcol('group') eq 'batch' ? column('batch_size') : 1/0):'tau0'", "batch size", "linespoints pt 13 lw 2"}};
  draw_into_report(tau0, "sweep_tau0.png", "Crossover lag tau0 against depth, learning rate and batch size");
  r.write(dir, "sweep");
}

}  // namespace anodiff
