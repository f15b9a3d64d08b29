// The study's claims judged per run and phase, written as claims.csv, claims_parts.csv, claims.md and attenuation.png.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "anodiff/io/csv.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/output/plot.hpp"
#include "detail/npy.hpp"

namespace anodiff {
namespace fs = std::filesystem;

void write_trajectory_analysis(const fs::path& path, const WeightTrajectory& trajectory,
                               const std::vector<PartResult>& parts, const fs::path& directory,
                               const OutputOptions& output, std::size_t first_new, const RunDescription& known) {
  write_post_analysis(parts, directory, output, first_new);
  const auto run = describe_run(path, trajectory.size() - 1, known);
  write_claims({judge_run(run, parts, part_losses(trajectory.loss(), parts))}, directory, output);
}

void write_claims(const std::vector<RunClaims>& runs, const fs::path& dir, const OutputOptions& output) {
  fs::create_directories(dir);
  CsvWriter csv(dir / "claims.csv",
                "run,model,batch_size,lr,claim,phase,yes,of,share,verdict,study_early,study_late,study_tau0");
  auto study = [](const RunClaims& r, double StudyValues::*field) { return r.study ? csv_number((*r.study).*field) : ""; };
  for (const auto& r : runs) {
    for (const auto& c : r.claims) {
      csv.row("\"{}\",{},{},{},{},{},{},{},{},{},{},{},{}", r.run.label, r.run.model, r.run.batch_size,
              csv_number(r.run.lr), c.claim, to_string(c.phase), c.yes, c.of,
              c.of ? csv_number(double(c.yes) / double(c.of)) : "", to_string(c.verdict),
              study(r, &StudyValues::early), study(r, &StudyValues::late), study(r, &StudyValues::tau0));
    }
    const auto& a = r.attenuation;
    csv.row("\"{}\",{},{},{},attenuation,all,,{},,{},{},{},{}", r.run.label, r.run.model, r.run.batch_size,
            csv_number(r.run.lr), a.parts, to_string(a.verdict), study(r, &StudyValues::early),
            study(r, &StudyValues::late), study(r, &StudyValues::tau0));
  }
  csv.flush();
  CsvWriter parts(dir / "claims_parts.csv",
                  "run_index,part,start,phase,short_exponent,long_exponent,short_band,long_band,crossover_found,super_to_sub,"
                  "tau0,hurst,loss,short_superdiffusive,long_subdiffusive,rough,pattern,run");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    for (const auto& p : r.parts) {
      parts.row("{},{},{},{},{},{},{},{},{:d},{:d},{},{},{},{:d},{:d},{:d},{:d},\"{}\"", i, p.index, p.start,
                to_string(p.phase), csv_number(p.short_exponent), csv_number(p.long_exponent), csv_number(p.short_band),
                csv_number(p.long_band), p.crossover_found, p.super_to_sub, csv_number(p.tau0), csv_number(p.hurst),
                csv_number(p.loss), p.short_superdiffusive, p.long_subdiffusive, p.rough, p.pattern(), r.run.label);
    }
  }
  parts.flush();
  std::string md = "# The study's claims, judged per run and phase\n\n";
  for (const auto& r : runs) {
    const auto table = claims_table(r);
    md += "## " + r.run.label + "\n\n| " + fmt::format("{}", fmt::join(table.head, " | ")) + " |\n|";
    for (std::size_t i = 0; i < table.head.size(); ++i) md += " --- |";
    md += "\n";
    for (const auto& row : table.rows) md += "| " + fmt::format("{}", fmt::join(row, " | ")) + " |\n";
    md += "\n" + claims_summary(r) + "\n\n";
  }
  md += verdict_rules() + "\n";
  detail::write_file_durably(dir / "claims.md", md, nullptr, 0);
  if (!output.plots) return;
  // The attenuation: the band exponents of every part against its waiting time, the training loss on the right axis.
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    const bool any_band = std::any_of(r.parts.begin(), r.parts.end(), [](const PartReading& p) {
      return std::isfinite(p.short_band) || std::isfinite(p.long_band);
    });
    if (r.parts.size() < 2 || !any_band) continue;
    const std::string only = fmt::format("($1 == {} ? ", i);
    const fs::path csv = dir / "claims_parts.csv";
    std::string label;  // '_' is a subscript in gnuplot's enhanced text: escaped
    for (char ch : r.run.label) label += ch == '_' ? std::string("\\_") : std::string(1, ch);
    Plot plot{fmt::format("{}: band exponents and training loss against the waiting time", label),
              "waiting time t_w = part start + 1 (steps)", "median local exponent {/Symbol b} over the band", true, false,
              {{csv, "($3+1):" + only + "$7 : 1/0)", "short band", "linespoints pt 7 ps 1.2 lw 2 lc rgb '#b40426'"},
               {csv, "($3+1):" + only + "$8 : 1/0)", "long band", "linespoints pt 5 ps 1.2 lw 2 lc rgb '#3b4cc0'"},
               {csv, "($3+1):" + only + "$13 : 1/0)", "training loss (right axis)",
                "linespoints pt 6 dt 2 lc rgb 'black' axes x1y2"}},
              "set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'gray40'\n"
              "set y2tics\nset y2label 'mean training loss over the part'\nset ytics nomirror\n"
              "set key below horizontal\n"
              "set autoscale xfix\nset offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05"};
    draw(plot, dir / (runs.size() == 1 ? std::string("attenuation.png") : fmt::format("attenuation_{}.png", i)), output.log);
  }
}


}  // namespace anodiff
