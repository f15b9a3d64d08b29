// anodiff-reproduce: the study end to end (training with every step recorded, MSD analysis per part, Hessian
// spectrum, loss landscape and its roughness, the simplified model) and a report comparing with the study.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/csv.hpp"
#include "anodiff/error.hpp"
#include "anodiff/plot.hpp"
#include "anodiff/trainer.hpp"
#include "anodiff/weight_trajectory.hpp"
#include "cli.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace anodiff;

namespace {

// The study's values (paper-methods.md section 2): early exponent, late exponent, tau0, per network at batch 1024.
struct StudyValues {
  double early, late, tau0;
};
const std::map<std::string, StudyValues> kStudy = {
    {"resnet14", {1.215, 0.783, 70}},          {"resnet20", {1.360, 0.600, 45}},
    {"resnet56", {1.259, 0.733, 70}},          {"resnet14_noshort", {1.388, 0.690, 65}},
    {"resnet20_noshort", {1.314, 0.693, 100}}, {"resnet56_noshort", {1.033, 0.700, 133}}};
// Learning-rate sweep of ResNet-14 at batch 128: early / late.
const std::map<double, std::pair<double, double>> kStudyLr = {
    {0.001, {2.0, 2.0}}, {0.01, {1.83, 1.7}}, {0.05, {1.7, 0.68}}, {0.1, {1.39, 0.69}}, {0.5, {1.4, 0.73}}};

struct Settings {
  std::string preset = "quick", model = "resnet14", dataset = "fashion-mnist", data_dir, device = "auto";
  std::int64_t epochs = 30, batch = 1024, limit_train = 20480, limit_test = 1000;
  double lr = 0.1;
  bool augment = true;
  std::size_t part_length = 300, eigen_k = 5;
  std::string hessian_epochs;  // comma-separated; empty = every hessian_every
  std::int64_t hessian_every = 10, hessian_batch = 64;
  std::string landscape_epochs;
  std::size_t landscape_points = 11;
  std::int64_t landscape_samples = 256;
  std::size_t toy_steps = 1000, toy_repeats = 100;
  // An optional second, longer run of a cheap network that covers the study's run length (the quick preset: the
  // study's fully connected fc3); its MSD parts are judged with the main run's.
  std::string long_model;
  std::int64_t long_epochs = 0, long_batch = 128, long_limit_train = 0;
  double long_lr = 0.1;
  bool long_augment = false;
  std::size_t long_part_length = 1000;
};

// A trained and analysed run of the report.
struct AnalysedRun {
  std::string label;  // e.g. "fc3, 24,388 steps"
  std::string model;
  fs::path run, analysis;
  std::vector<std::map<std::string, std::string>> fits;  // analysis/fit.csv
};

std::string program_dir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  return fs::path(buf).parent_path().string();
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a sibling program; its stdout goes to `log`, stderr (progress) through. Throws if it fails.
double stage(const std::string& name, const std::string& args, const fs::path& log,
             std::vector<std::pair<std::string, double>>& times) {
  std::fprintf(stderr, "anodiff-reproduce: == %s ==\n", name.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  const std::string cmd = fmt::format("{}/{} >> {}", quote(program_dir()), args, quote(log.string()));
  const int rc = std::system(cmd.c_str());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  times.emplace_back(name, s);
  if (rc != 0) {
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 2) throw InputError(fmt::format("stage '{}' refused its input (see above)", name));
    throw std::runtime_error(fmt::format("stage '{}' failed ({}); its output is in {}", name, rc, log.string()));
  }
  return s;
}

std::vector<std::map<std::string, std::string>> read_rows(const fs::path& csv) {
  std::ifstream in(csv);
  std::vector<std::map<std::string, std::string>> rows;
  std::string line, cell;
  std::vector<std::string> names;
  if (!std::getline(in, line)) return rows;
  std::stringstream h(line);
  while (std::getline(h, cell, ',')) names.push_back(cell);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::map<std::string, std::string> r;
    std::stringstream ss(line);
    for (const auto& n : names) {
      if (!std::getline(ss, cell, ',')) cell.clear();
      r[n] = cell;
    }
    rows.push_back(r);
  }
  return rows;
}

double num(const std::map<std::string, std::string>& r, const std::string& k) {
  auto it = r.find(k);
  return it == r.end() || it->second.empty() ? NAN : std::stod(it->second);
}

std::string fixed(double v, int digits = 3) { return std::isnan(v) ? "n/a" : fmt::format("{:.{}f}", v, digits); }

// The report, as Markdown; the HTML version wraps the same content.
struct Report {
  std::string md, html;
  void heading(const std::string& t, int level = 2) {
    md += std::string(level, '#') + " " + t + "\n\n";
    html += fmt::format("<h{0}>{1}</h{0}>\n", level, t);
  }
  void para(const std::string& t) {
    md += t + "\n\n";
    html += "<p>" + t + "</p>\n";
  }
  void table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
    md += "| " + fmt::format("{}", fmt::join(head, " | ")) + " |\n|" ;
    for (std::size_t i = 0; i < head.size(); ++i) md += " --- |";
    md += "\n";
    html += "<table border=1 cellpadding=4 style='border-collapse:collapse'><tr>";
    for (const auto& h : head) html += "<th>" + h + "</th>";
    html += "</tr>\n";
    for (const auto& r : rows) {
      md += "| " + fmt::format("{}", fmt::join(r, " | ")) + " |\n";
      html += "<tr>";
      for (const auto& c : r) html += "<td>" + c + "</td>";
      html += "</tr>\n";
    }
    md += "\n";
    html += "</table>\n";
  }
  void image(const fs::path& root, const fs::path& png, const std::string& caption) {
    if (!fs::exists(png)) return;
    const std::string rel = fs::relative(png, root).string();
    md += fmt::format("![{}]({})\n\n", caption, rel);
    html += fmt::format("<figure><img src='{}' width='800'><figcaption>{}</figcaption></figure>\n", rel, caption);
  }
};

// The early and late exponents (sweep.csv columns 5, 7) and the study's (11, 12) of the rows that the gnuplot
// expression `x` selects; a `variant` set is drawn dashed with open symbols (the runs without shortcuts).
std::vector<PlotSeries> exponent_series(const fs::path& csv, const std::string& x, const std::string& variant = "") {
  const bool open = !variant.empty();
  const std::string suffix = open ? ", " + variant : "";
  return {{csv, x + ":5", "early" + suffix, open ? "linespoints pt 6 dt 2" : "linespoints pt 7 lw 2"},
          {csv, x + ":7", "late" + suffix, open ? "linespoints pt 4 dt 2" : "linespoints pt 5 lw 2"},
          {csv, x + ":11", "early" + suffix + " (study)", open ? "points pt 8 ps 2" : "points pt 9 ps 2"},
          {csv, x + ":12", "late" + suffix + " (study)", open ? "points pt 10 ps 2" : "points pt 11 ps 2"}};
}

// The study's grids: depth (with and without shortcuts) at batch 1024, learning rate at batch 128, batch size; one
// run each, trained and analysed, then a table and plots of the exponents beside the study's values.
int sweep(const Settings& s, const std::string& data_flags, const fs::path& dir) {
  struct Config {
    std::string group, model;
    std::int64_t batch;
    double lr;
  };
  std::vector<Config> configs;
  for (const char* m : {"resnet14", "resnet20", "resnet56", "resnet14_noshort", "resnet20_noshort", "resnet56_noshort"}) {
    configs.push_back({"depth", m, 1024, 0.1});
  }
  for (double lr : {0.001, 0.01, 0.05, 0.1, 0.15, 0.3, 0.5}) configs.push_back({"lr", "resnet14", 128, lr});
  for (std::int64_t b : {128, 512, 1024}) configs.push_back({"batch", "resnet14", b, 0.1});
  const fs::path log = dir / "stages.log";
  std::vector<std::pair<std::string, double>> times;
  CsvWriter table(dir / "sweep.csv", "group,model,batch_size,lr,early_exponent,early_spread,late_exponent,late_spread,"
                                     "tau0,tau0_spread,study_early,study_late,study_tau0,parts,depth,shortcuts");
  Report r;
  r.heading("anodiff: the study's sweeps", 1);
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : configs) {
    const std::string name = fmt::format("{}_bs{}_lr{:g}", c.model, c.batch, c.lr);
    const fs::path runs = dir / "runs";
    stage("train " + name, fmt::format("anodiff-train --model {} {} --epochs {} --batch_size {} --lr {} --device {} "
                                       "--no-plots --quiet --out {}",
                                       c.model, data_flags, s.epochs, c.batch, c.lr, s.device, quote(runs.string())),
          log, times);
    TrainerOptions o;
    o.model = c.model;
    o.batch_size = c.batch;
    o.lr = c.lr;
    const fs::path run = runs / Trainer::study_run_name(o);
    stage("analyse " + name, fmt::format("anodiff-post-analysis --trajectory {} --part-length {} --no-plots --out {}",
                                         quote((run / "trajectory").string()), s.part_length,
                                         quote((dir / "analysis" / name).string())),
          log, times);
    // Mean and spread of each quantity over the parts.
    std::map<std::string, std::vector<double>> q;
    for (const auto& f : read_rows(dir / "analysis" / name / "fit.csv")) {
      for (const char* k : {"early_exponent", "late_exponent", "tau0"}) {
        if (std::isfinite(num(f, k))) q[k].push_back(num(f, k));  // tau0 is empty where no crossover was found
      }
    }
    auto mean = [](const std::vector<double>& v) { double a = 0; for (double x : v) a += x; return v.empty() ? NAN : a / double(v.size()); };
    auto spread = [&](const std::vector<double>& v) { double m = mean(v), a = 0; for (double x : v) a += (x - m) * (x - m); return v.size() < 2 ? NAN : std::sqrt(a / double(v.size() - 1)); };
    StudyValues st{NAN, NAN, NAN};
    if (c.group != "lr" && c.batch == 1024 && kStudy.count(c.model)) st = kStudy.at(c.model);
    // The study's lr grid ran at batch 128, so its lr 0.1 point is also the batch grid's batch-128 value.
    if ((c.group == "lr" || (c.group == "batch" && c.batch == 128)) && kStudyLr.count(c.lr)) {
      st = {kStudyLr.at(c.lr).first, kStudyLr.at(c.lr).second, NAN};
    }
    const std::string digits = c.model.substr(6, c.model.find('_') == std::string::npos ? std::string::npos : c.model.find('_') - 6);
    table.row("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", c.group, c.model, c.batch, c.lr,
              csv_number(mean(q["early_exponent"])), csv_number(spread(q["early_exponent"])),
              csv_number(mean(q["late_exponent"])), csv_number(spread(q["late_exponent"])),
              csv_number(mean(q["tau0"])), csv_number(spread(q["tau0"])), csv_number(st.early), csv_number(st.late),
              csv_number(st.tau0), q["tau0"].size(), digits, c.model.find("noshort") == std::string::npos ? 1 : 0);
    rows.push_back({c.group, c.model, std::to_string(c.batch), fmt::format("{:g}", c.lr), fixed(mean(q["early_exponent"])),
                    fixed(mean(q["late_exponent"])), fixed(mean(q["tau0"]), 1), fixed(st.early), fixed(st.late),
                    fixed(st.tau0, 0)});
  }
  table.flush();
  r.table({"grid", "model", "batch", "lr", "early", "late", "tau0", "study: early", "study: late", "study: tau0"}, rows);
  const fs::path csv = dir / "sweep.csv";
  auto draw_into_report = [&](Plot plot, const std::string& png, const std::string& caption) {
    plot.extra = "set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05";  // points on the frame stay visible
    draw(plot, dir / png);
    r.image(dir, dir / png, caption);
  };
  Plot lr{"Exponents against the learning rate (ResNet-14, batch 128)", "learning rate", "exponent", true, false,
          exponent_series(csv, "(strcol(1) eq 'lr' ? $4 : 1/0)"), {}};
  draw_into_report(lr, "sweep_lr.png", "Exponents against the learning rate");
  Plot batch{"Exponents against the batch size (ResNet-14, lr 0.1)", "batch size", "exponent", true, false,
             exponent_series(csv, "(strcol(1) eq 'batch' ? $3 : 1/0)"), {}};
  draw_into_report(batch, "sweep_batch.png", "Exponents against the batch size");
  const std::string d = "(strcol(1) eq 'depth' && $16 == 1 ? $15 : 1/0)";
  const std::string dn = "(strcol(1) eq 'depth' && $16 == 0 ? $15 : 1/0)";
  Plot depth{"Exponents against depth (batch 1024; open: without shortcuts)", "depth", "exponent", false, false,
             exponent_series(csv, d), {}};
  for (auto& series : exponent_series(csv, dn, "no shortcuts")) depth.series.push_back(series);
  draw_into_report(depth, "sweep_depth.png", "Exponents against depth");
  // The crossover lag tau0 against the same three axes (the study reported it for the depth grid).
  Plot tau0{"Crossover lag tau0 against depth (batch 1024), learning rate (batch 128) and batch size (lr 0.1)",
            "depth / learning rate x 1000 / batch size", "tau0 (steps)", true, true, {}, {}};
  tau0.series = {{csv, d + ":9", "depth", "linespoints pt 7 lw 2"},
                 {csv, dn + ":9", "depth, no shortcuts", "linespoints pt 6 dt 2"},
                 {csv, d + ":13", "depth (study)", "points pt 9 ps 2"},
                 {csv, dn + ":13", "depth, no shortcuts (study)", "points pt 8 ps 2"},
                 {csv, "(strcol(1) eq 'lr' ? 1000 * $4 : 1/0):9", "learning rate x 1000", "linespoints pt 5 lw 2"},
                 {csv, "(strcol(1) eq 'batch' ? $3 : 1/0):9", "batch size", "linespoints pt 13 lw 2"}};
  draw_into_report(tau0, "sweep_tau0.png", "Crossover lag tau0 against depth, learning rate and batch size");
  std::ofstream(dir / "report.md") << r.md;
  std::ofstream(dir / "report.html") << "<!doctype html><html><head><meta charset='utf-8'><title>sweep</title></head><body>\n"
                                     << r.html << "</body></html>\n";
  std::printf("anodiff-reproduce: sweep of %zu runs; report: %s\n", configs.size(), (dir / "report.html").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return cli::run("anodiff-reproduce", [&] {
    Settings s;
    std::string out;
    po::options_description desc(
        "anodiff-reproduce: the study end to end, with a report (report.html, report.md). Usage:\n"
        "  anodiff-reproduce [--preset quick|paper|sweep] --out DIR\n"
        "quick (default): the study's fully connected fc3 on all of Fashion-MNIST for its run length (batch 128,\n"
        "  lr 0.3, 24,388 steps recorded, parts of 1,000), then ResNet-14 (a 16,384-sample subset, batch 128, 384 steps,\n"
        "  parts of 192) with its Hessian every epoch and an 11 x 11 landscape, and the simplified model.\n"
        "paper: the study's configuration on CIFAR-10 (--data-dir), 500 epochs, parts of 1,000 steps, Hessian every\n"
        "  5 epochs, 51 x 51 landscapes at epochs 300 and 500 (--model, default resnet14).\n"
        "sweep: the study's grids of models, learning rates and batch sizes (meant for a GPU).\nOptions");
    desc.add_options()("help,h", "show this help")
        ("preset", po::value(&s.preset)->default_value("quick"), "quick, paper or sweep")
        ("out", po::value(&out), "output directory")
        ("model", po::value<std::string>(), "network (paper: default resnet14)")
        ("dataset", po::value<std::string>(), "override the preset's data set")
        ("data-dir", po::value(&s.data_dir), "folder of the data set's files (CIFAR-10 for paper)")
        ("device", po::value(&s.device)->default_value("auto"), "cpu, cuda or auto")
        ("epochs", po::value<std::int64_t>(), "override the preset's epochs")
        ("batch_size", po::value<std::int64_t>(), "override the preset's batch size")
        ("lr", po::value<double>(), "override the preset's learning rate")
        ("augment", po::value<int>(), "override the preset's augmentation (1 or 0)")
        ("limit-train", po::value<std::int64_t>(), "override the number of training samples (of both runs)")
        ("part-length", po::value<std::size_t>(), "override the part length (of both runs)")
        ("landscape-points", po::value<std::size_t>(), "override the landscape's points per axis")
        ("landscape-samples", po::value<std::int64_t>(), "override the landscape's samples")
        ("eigenvalues", po::value<std::size_t>(), "override the number of Hessian eigenvalues")
        ("toy-steps", po::value<std::size_t>(), "override the simplified model's steps")
        ("long-epochs", po::value<std::int64_t>(), "override the long run's epochs (0: no long run)");
    po::variables_map vm;
    if (!anodiff::cli::parse(argc, argv, desc, vm)) return 0;
    if (out.empty()) throw po::error("--out DIR is required");
    if (s.preset == "paper") {
      s.dataset = "cifar10";
      s.epochs = 500;
      s.limit_train = 0;
      s.limit_test = 0;
      s.part_length = 1000;
      s.hessian_batch = 128;
      s.eigen_k = 20;
      s.hessian_every = 5;
      s.landscape_epochs = "300,500";
      s.landscape_points = 51;
      s.landscape_samples = 0;
    } else if (s.preset == "sweep") {
      s.epochs = 10;
    } else if (s.preset == "quick") {
      // Chosen by the search in docs/reproducing.md: the study's fc3 over its run length (24,388 steps, parts of
      // 1,000) and a short ResNet-14 stage (BatchNorm, Hessian, landscape), within 12 minutes on 2 AVX2 cores.
      s.model = "resnet14";
      s.batch = 128;
      s.lr = 0.1;
      s.augment = true;
      s.limit_train = 16384;
      s.epochs = 3;
      s.part_length = 192;
      s.hessian_every = 1;
      s.long_model = "fc3";
      s.long_epochs = 52;
      s.long_batch = 128;
      s.long_lr = 0.3;
      s.long_augment = false;
      s.long_part_length = 1000;
    } else {
      throw po::error(fmt::format("--preset must be quick, paper or sweep, got '{}'", s.preset));
    }
    if (vm.count("model")) s.model = vm["model"].as<std::string>();
    if (vm.count("dataset")) s.dataset = vm["dataset"].as<std::string>();
    if (vm.count("epochs")) s.epochs = vm["epochs"].as<std::int64_t>();
    if (vm.count("batch_size")) s.batch = vm["batch_size"].as<std::int64_t>();
    if (vm.count("lr")) s.lr = vm["lr"].as<double>();
    if (vm.count("augment")) s.augment = vm["augment"].as<int>() != 0;
    if (s.batch < 1) throw po::error("--batch_size must be at least 1");
    if (!(s.lr > 0)) throw po::error("--lr must be positive");
    if (vm.count("limit-train")) s.limit_train = vm["limit-train"].as<std::int64_t>();
    if (vm.count("part-length")) s.part_length = vm["part-length"].as<std::size_t>();
    if (vm.count("landscape-points")) s.landscape_points = vm["landscape-points"].as<std::size_t>();
    if (vm.count("landscape-samples")) s.landscape_samples = vm["landscape-samples"].as<std::int64_t>();
    if (vm.count("eigenvalues")) s.eigen_k = vm["eigenvalues"].as<std::size_t>();
    if (vm.count("toy-steps")) s.toy_steps = vm["toy-steps"].as<std::size_t>();
    if (vm.count("long-epochs")) s.long_epochs = vm["long-epochs"].as<std::int64_t>();
    if (vm.count("limit-train")) s.long_limit_train = s.limit_train;
    if (vm.count("part-length")) s.long_part_length = s.part_length;
    if (s.long_epochs < 0) throw po::error("--long-epochs must be at least 0");
    if (!s.long_model.empty()) make_model(s.long_model);
    if (s.epochs < 1) throw po::error("--epochs must be at least 1");
    if (s.part_length < 2) throw po::error("--part-length must be at least 2");
    // Fail on the data before any work (a missing CIFAR-10 folder, say).
    const auto data = load_dataset(s.dataset, s.data_dir);
    make_model(s.model);
    const fs::path dir(out);
    fs::create_directories(dir);
    const fs::path log = dir / "stages.log";
    std::vector<std::pair<std::string, double>> times;
    const std::int64_t n = s.limit_train > 0 ? std::min<std::int64_t>(s.limit_train, data.train.size()) : data.train.size();
    const std::int64_t steps_per_epoch = (n + s.batch - 1) / s.batch;
    const std::int64_t steps = steps_per_epoch * s.epochs;
    std::fprintf(stderr, "anodiff-reproduce: preset %s: %s on %s, %lld samples, batch %lld, %lld epochs = %lld steps\n",
                 s.preset.c_str(), s.model.c_str(), s.dataset.c_str(), (long long)n, (long long)s.batch,
                 (long long)s.epochs, (long long)steps);
    const std::string data_flags = fmt::format("--dataset {} {} --limit-train {} --limit-test {}", s.dataset,
                                               s.data_dir.empty() ? "" : "--data-dir " + quote(s.data_dir),
                                               s.limit_train, s.limit_test);
    if (s.preset == "sweep") return sweep(s, data_flags, dir);
    const fs::path runs = dir / "run";
    TrainerOptions name_options;
    name_options.model = s.model;
    name_options.lr = s.lr;
    name_options.batch_size = s.batch;
    const fs::path run = runs / Trainer::study_run_name(name_options);
    const std::string train_args = fmt::format("anodiff-train --model {} {} --batch_size {} --lr {} --device {} --out {}{}",
                                               s.model, data_flags, s.batch, s.lr, s.device, quote(runs.string()),
                                               s.augment ? "" : " --noaug");
    if (s.preset == "paper") {
      // A time estimate first, from the first epoch; the full run then resumes after it.
      stage("train (first epoch)", train_args + " --epochs 1", log, times);
      const auto m = read_rows(run / "metrics.csv");
      const double per_epoch = m.size() > 1 ? num(m.back(), "seconds") : NAN;
      std::fprintf(stderr, "anodiff-reproduce: %.3g s per epoch on this machine: %lld epochs take about %.2g hours, "
                   "the Hessian and the two 51 x 51 landscapes several more (docs/reproducing.md)\n",
                   per_epoch, (long long)s.epochs, per_epoch * double(s.epochs) / 3600);
    }
    std::vector<AnalysedRun> analysed;
    if (!s.long_model.empty() && s.long_epochs > 0) {
      TrainerOptions lo;
      lo.model = s.long_model;
      lo.lr = s.long_lr;
      lo.batch_size = s.long_batch;
      const fs::path long_run = dir / "long_run" / Trainer::study_run_name(lo);
      const std::int64_t ln = s.long_limit_train > 0 ? std::min<std::int64_t>(s.long_limit_train, data.train.size())
                                                     : data.train.size();
      const std::int64_t long_steps = (ln + s.long_batch - 1) / s.long_batch * s.long_epochs;
      stage(fmt::format("train (long run: {}, {} steps)", s.long_model, long_steps),
            fmt::format("anodiff-train --model {} --dataset {} {} --limit-train {} --limit-test {} --batch_size {} --lr {} "
                        "--device {} --epochs {} --no-plots --out {}{}",
                        s.long_model, s.dataset, s.data_dir.empty() ? "" : "--data-dir " + quote(s.data_dir),
                        s.long_limit_train, s.limit_test, s.long_batch, s.long_lr, s.device, s.long_epochs,
                        quote((dir / "long_run").string()), s.long_augment ? "" : " --noaug"),
            log, times);
      stage("post-analysis (long run)", fmt::format("anodiff-post-analysis --trajectory {} --part-length {} --out {}",
                                                    quote((long_run / "trajectory").string()), s.long_part_length,
                                                    quote((dir / "long_analysis").string())),
            log, times);
      analysed.push_back({fmt::format("{}, {} steps", s.long_model, long_steps), s.long_model, long_run,
                          dir / "long_analysis", read_rows(dir / "long_analysis" / "fit.csv")});
    }
    stage("train", train_args + fmt::format(" --epochs {}", s.epochs), log, times);
    stage("post-analysis", fmt::format("anodiff-post-analysis --trajectory {} --part-length {} --out {}",
                                       quote((run / "trajectory").string()), s.part_length,
                                       quote((dir / "analysis").string())),
          log, times);
    analysed.push_back({fmt::format("{}, {} steps", s.model, steps), s.model, run, dir / "analysis",
                        read_rows(dir / "analysis" / "fit.csv")});
    std::string hessian_epochs = s.hessian_epochs;
    if (hessian_epochs.empty()) {
      if (s.hessian_every > 0) {
        for (std::int64_t e = 0; e <= s.epochs; e += s.hessian_every) hessian_epochs += (hessian_epochs.empty() ? "" : ",") + std::to_string(e);
        if (s.epochs % s.hessian_every != 0) hessian_epochs += "," + std::to_string(s.epochs);  // always the last
      } else {
        hessian_epochs = fmt::format("0,{}", s.epochs);
      }
    }
    stage("hessian", fmt::format("anodiff-hessian --run {} --epochs {} --num_eigenthings {} --batch_size {} --device {} "
                                 "--out {}",
                                 quote(run.string()), hessian_epochs, s.eigen_k, s.hessian_batch, s.device,
                                 quote((dir / "hessian").string())),
          log, times);
    std::vector<std::int64_t> landscape_epochs;
    if (s.landscape_epochs.empty()) {
      landscape_epochs = {s.epochs};
    } else {
      std::stringstream ss(s.landscape_epochs);
      std::string e;
      while (std::getline(ss, e, ',')) {
        if (std::stoll(e) <= s.epochs) landscape_epochs.push_back(std::stoll(e));
      }
    }
    for (auto e : landscape_epochs) {
      stage(fmt::format("landscape (epoch {})", e),
            fmt::format("anodiff-landscape --run {} --epoch {} --x -1:1:{} --y -1:1:{} --samples {} --device {} --out {}",
                        quote(run.string()), e, s.landscape_points, s.landscape_points, s.landscape_samples, s.device,
                        quote((dir / fmt::format("landscape_epoch_{}", e)).string())),
            log, times);
    }
    stage("simplified model", fmt::format("anodiff-simplified-model --landscape all --steps {} --repeats {} --out {}",
                                          s.toy_steps, s.toy_repeats, quote((dir / "simplified_model").string())),
          log, times);

    // ------------------------------------------------------------------------------------------ the report
    Report r;
    const std::string title = fmt::format("anodiff: anomalous diffusion of SGD, {} on {} (preset {})", s.model, s.dataset, s.preset);
    r.heading(title, 1);
    r.para(fmt::format("Plain SGD, lr {}, batch {}, {} training samples, {} epochs = {} steps, every step recorded "
                       "(D = {} parameters). Reproduces G. Chen, C. K. Qu, P. Gong, <i>Anomalous diffusion dynamics of "
                       "learning in deep neural networks</i>, Neural Networks 149 (2022).",
                       s.lr, s.batch, n, s.epochs, steps, WeightTrajectory::load(run / "trajectory").dimension()));
    if (analysed.size() > 1) {
      r.para(fmt::format("Beside it, the long run: the study's fully connected {} (no BatchNorm), lr {}, batch {}, {}, "
                         "{} training samples, {} epochs, every one of its steps recorded (D = {}), analysed in parts of "
                         "{} steps, to cover the study's run length.",
                         s.long_model, s.long_lr, s.long_batch, s.long_augment ? "with augmentation" : "no augmentation",
                         s.long_limit_train > 0 ? s.long_limit_train : data.train.size(), s.long_epochs,
                         WeightTrajectory::load(analysed.front().run / "trajectory").dimension(), s.long_part_length));
    }
    // ---------------------------------------------------------------- the study's claims, judged on this run
    const auto& fits = analysed.back().fits;  // the main run
    if (fits.empty()) throw std::runtime_error(fmt::format("{}: no part was analysed", (dir / "analysis" / "fit.csv").string()));
    const auto study = kStudy.count(s.model) ? kStudy.at(s.model) : StudyValues{NAN, NAN, NAN};
    // Part 0 starts at initialisation: its transient is shown but not judged (unless it is a run's only part). Every
    // other part of every run is judged.
    std::vector<std::map<std::string, std::string>> judged;
    std::size_t all_parts = 0;
    for (const auto& a : analysed) {
      for (auto f : a.fits) {
        f["run"] = a.label;
        if (f.at("part") != "0" || a.fits.size() == 1) judged.push_back(f);
      }
      all_parts += a.fits.size();
    }
    auto values_of = [&](const std::string& key, const std::string& run = "") {
      std::vector<double> v;
      for (const auto& f : judged) {
        if (run.empty() || f.at("run") == run) v.push_back(num(f, key));
      }
      return v;
    };
    // The finite values, sorted; their (upper) median.
    auto finite_sorted = [](std::vector<double> v) {
      v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
      std::sort(v.begin(), v.end());
      return v;
    };
    auto median = [&](const std::vector<double>& v) {
      const auto f = finite_sorted(v);
      return f.empty() ? NAN : f[f.size() / 2];
    };
    auto range = [&](const std::vector<double>& v, int digits = 2) {
      const auto finite = finite_sorted(v);
      if (finite.empty()) return std::string("n/a");
      const double med = finite[finite.size() / 2];
      return finite.size() == 1 ? fixed(med, digits)
                                : fmt::format("{} (range {}-{})", fixed(med, digits), fixed(finite.front(), digits),
                                              fixed(finite.back(), digits));
    };
    auto verdict = [](std::size_t yes, std::size_t of) {
      return of == 0 ? std::string("not measured") : yes == of ? std::string("<b>shown</b>")
                     : yes == 0 ? std::string("<b>not shown</b>") : fmt::format("<b>partly shown</b> ({} of {} parts)", yes, of);
    };
    std::size_t super = 0, sub = 0, cross = 0, found = 0, pattern_parts = 0, rough = 0, rough_of = 0;
    std::size_t early_of = 0, late_of = 0, fitted = 0;
    for (const auto& f : judged) {
      const bool e = num(f, "early_exponent") > 1 && num(f, "short_band_median") > 1;
      const bool l = num(f, "late_exponent") < 1 && num(f, "long_band_median") < 1;
      const bool c = f.at("crossover_found") == "1";
      early_of += std::isfinite(num(f, "early_exponent")) && std::isfinite(num(f, "short_band_median"));
      late_of += std::isfinite(num(f, "late_exponent")) && std::isfinite(num(f, "long_band_median"));
      fitted += f.at("valid") == "1";
      super += e, sub += l, found += c;
      cross += c && num(f, "tau0") >= 45 && num(f, "tau0") <= 400;
      pattern_parts += e && l && c;
      const double h = num(f, "msl_hurst"), he = num(f, "msl_hurst_error");
      // Rough: 0 < H < 1 beyond two standard errors. H = 1 is a smooth landscape; H near 0 means the loss
      // differences do not grow with distance at all (the mini-batch noise of the recorded loss dominates).
      const double e2 = 2 * (std::isfinite(he) ? he : 0);
      if (std::isfinite(h)) ++rough_of, rough += h - e2 > 0 && h + e2 < 1;
    }
    const bool pattern = !judged.empty() && pattern_parts == judged.size();
    // "run: median (range)" for each run.
    auto per_run = [&](const std::string& key, int digits = 2) {
      std::string out;
      for (const auto& a : analysed) {
        out += (out.empty() ? "" : "; ") + (analysed.size() > 1 ? a.model + ": " : std::string()) +
               range(values_of(key, a.label), digits);
      }
      return out;
    };
    std::vector<std::vector<std::string>> claims;
    claims.push_back({"Superdiffusion at short lags (MSD ~ tau^a, a > 1)",
                      fmt::format("early exponent {} for {}; 1.0-1.42 across depths and batches", fixed(study.early), s.model),
                      "fit: " + per_run("early_exponent") + "; beta over lags " + fits.front().at("short_band_lo") +
                          "-" + fits.front().at("short_band_hi") + ": " + per_run("short_band_median"),
                      verdict(super, early_of),
                      "Both the two-regime fit's early exponent and the median local exponent of the short band must exceed 1."});
    claims.push_back({"Subdiffusion at long lags (a < 1)",
                      fmt::format("late exponent {}; 0.60-0.88", fixed(study.late)),
                      "fit: " + per_run("late_exponent") + "; beta over the long band: " + per_run("long_band_median"),
                      verdict(sub, late_of),
                      "Both the late exponent and the long band's median local exponent must stay below 1; above 1 the "
                      "motion is still directed (the loss is still falling)."});
    claims.push_back({"A crossover tau0 of 45-400 steps", fmt::format("{} steps for {}; 45-400", fixed(study.tau0, 0), s.model),
                      fmt::format("crossover found in {} of {} parts; tau0 {}", found, judged.size(), per_run("tau0", 0)),
                      verdict(cross, fitted),
                      "A breakpoint on the edge of the fitted lags, or slopes that differ by less than 0.1, is no crossover."});
    claims.push_back({"The landscape along the path is rough (MSL ~ dr^2H with H < 1)", "fractal-like, H < 1",
                      "H from the loss differences along the path: " + per_run("msl_hurst"),
                      verdict(rough, rough_of),
                      "H within (0, 1) by two standard errors: a smooth landscape gives H = 1; H near 0 means the "
                      "mini-batch noise of the recorded loss hides the landscape."});
    {
      const auto w = read_rows(dir / "simplified_model" / "walker_exponents.csv");
      std::map<std::string, std::map<std::string, std::string>> by;
      for (const auto& row : w) if (row.at("measure") == "before_trapping") by[row.at("landscape")] = row;
      if (by.count("fractal") && by.count("convex") && by.count("random")) {
        auto cell = [&](const char* k) {
          return fmt::format("{} {} [{}, {}], {:.0f}% above 1", k, fixed(num(by[k], "median"), 2), fixed(num(by[k], "q25"), 2),
                             fixed(num(by[k], "q75"), 2), 100 * num(by[k], "share_above_1"));
        };
        const bool measured = std::isfinite(num(by["fractal"], "median")) && std::isfinite(num(by["convex"], "median")) &&
                              std::isfinite(num(by["random"], "median"));
        const bool shown = num(by["fractal"], "median") > 1 && num(by["convex"], "median") <= 1 && num(by["random"], "median") <= 1;
        const bool ordered = num(by["fractal"], "median") > std::max(num(by["convex"], "median"), num(by["random"], "median"));
        claims.push_back({"Simplified model: superdiffusion on the fractal landscape, not on the cone or the shuffled one",
                          "one walker's segment (Fig. 4b)",
                          "per walker, before trapping, lags 1-20: " + cell("fractal") + "; " + cell("convex") + "; " + cell("random"),
                          !measured ? "not measured" : shown ? "<b>shown</b>" : ordered ? "<b>partly shown</b>" : "<b>not shown</b>",
                          !measured ? "Too few walkers had a path long enough before trapping."
                          : shown ? "The median walker is superdiffusive on the fractal landscape only."
                                : ordered ? "The fractal landscape's median walker moves fastest-growing but is not superdiffusive."
                                          : "The fractal landscape's walkers are not more superdiffusive than the controls'."});
      }
    }
    r.heading("The study's claims, measured on this run");
    r.table({"claim", "the study", "this run (median over the judged parts)", "verdict", "why"}, claims);
    r.para(fmt::format("Judged on {} of {} parts{}; every walker of the simplified model counts. {}", judged.size(), all_parts,
                       all_parts > analysed.size() ? " (each run's part 0 starts at initialisation: its transient is shown "
                                                     "below, not judged)" : "",
                       pattern ? "<b>This run shows the study's pattern</b> (early > 1, late < 1 and a crossover in every judged part)."
                               : "<b>This run does not show the study's pattern</b> in every judged part; the table says which claim fails."));
    for (const auto& a : analysed) {
      // Which regime each run is in, and why, from its judged parts and its training loss.
      const double early = median(values_of("early_exponent", a.label)), late = median(values_of("late_exponent", a.label));
      const double floor_share = median(values_of("floor_share", a.label));
      const double short_band = median(values_of("short_band_median", a.label));
      const auto metrics = read_rows(a.run / "metrics.csv");
      std::string regime = analysed.size() > 1 ? fmt::format("<i>{}</i>: ", a.label) : std::string();
      if (a.fits.size() > 1) {
        const auto& f0 = a.fits.front();
        regime += fmt::format("The first part (from initialisation, not judged) has early exponent {}, short-band beta {} "
                              "and late exponent {}. In the judged parts ",
                              fixed(num(f0, "early_exponent")), fixed(num(f0, "short_band_median"), 2),
                              fixed(num(f0, "late_exponent")));
      }
      if (early < 1) {
        regime += fmt::format("<b>short lags are subdiffusive</b> (early exponent {}, short-band beta {}; the jitter floor "
                              "is {:.0f}% of the MSD at the smallest fitted lag): the step-to-step motion does not persist - "
                              "over tens of steps the displacement grows more slowly than linearly. ",
                              fixed(early), fixed(short_band, 2), 100 * floor_share);
      } else if (std::isfinite(early)) {
        regime += fmt::format("<b>short lags are superdiffusive</b> (early exponent {}): the motion persists over "
                              "tens of steps. ", fixed(early));
      }
      if (late > 1 && metrics.size() > 2) {
        // Is the loss still falling? Its change over the last quarter of the epochs, relative to its value there.
        const std::size_t q = std::max<std::size_t>(1, (metrics.size() - 1) * 3 / 4);
        const double then = num(metrics[q], "train_loss"), last = num(metrics.back(), "train_loss");
        const bool falling = then > 0 && (then - last) / then > 0.05;
        regime += fmt::format("<b>Long lags are directed</b> (late exponent {}): the weights still travel one way; the "
                              "training loss went from {} (epoch 1) to {} (epoch {}) and {} over the last quarter of the "
                              "epochs ({} to {}){}.",
                              fixed(late), fixed(num(metrics[1], "train_loss"), 3), fixed(last, 3),
                              metrics.back().at("epoch"), falling ? "was still falling" : "no longer fell by more than 5%",
                              fixed(then, 3), fixed(last, 3),
                              falling ? " - the study's late subdiffusion is expected once it stops falling"
                                      : " - a drift without descent (e.g. weight norms growing on a memorised training set)");
      } else if (late <= 1) {
        regime += fmt::format("<b>Long lags are subdiffusive</b> (late exponent {}): the weights are confined, the study's "
                              "late regime.", fixed(late));
      }
      r.para(regime);
    }
    r.heading("Mean-squared displacement per part");
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : analysed) {
      for (const auto& f : a.fits) {
        const bool found_here = f.at("crossover_found") == "1";
        const double early = num(f, "early_exponent"), late = num(f, "late_exponent");
        const bool ok = early > 1 && late < 1 && found_here && num(f, "short_band_median") > 1 && num(f, "long_band_median") < 1;
        rows.push_back({a.model, f.at("part") + (f.at("part") == "0" && a.fits.size() > 1 ? " (transient)" : ""), f.at("start"),
                        fixed(early) + " ± " + fixed(num(f, "early_error")), fixed(late) + " ± " + fixed(num(f, "late_error")),
                        found_here ? fixed(num(f, "tau0"), 1) + " ± " + fixed(num(f, "tau0_error"), 1) : "none found",
                        fixed(num(f, "short_band_median"), 2) + " [" + fixed(num(f, "short_band_q25"), 2) + ", " + fixed(num(f, "short_band_q75"), 2) + "]",
                        fixed(num(f, "long_band_median"), 2) + " [" + fixed(num(f, "long_band_q25"), 2) + ", " + fixed(num(f, "long_band_q75"), 2) + "]",
                        fixed(num(f, "floor_share"), 2), ok ? "yes" : "no"});
      }
    }
    r.table({"run", "part", "start (step)", "early exponent", "late exponent", "tau0 (steps)", "beta, short band [IQR]",
             "beta, long band [IQR]", "noise floor / MSD(lag min)", "study's pattern"},
            rows);
    r.para(fmt::format("Fit: ln MSD = ln(floor + two power laws meeting at tau0) over lags {} to 0.9 of the part (docs/fits.md); "
                       "the floor absorbs the step-to-step jitter that flattens the first lags. The band exponents are the "
                       "median [quartiles] of the local exponent beta(tau) (window 20) over MSD lags {}-{} and 0.3-0.9 of "
                       "the part, no model. The study's values are for {} on CIFAR-10 at batch 1024 (parts of 1,000 "
                       "steps){}.",
                       fixed(num(fits.front(), "lag_min"), 0), fits.front().at("short_band_lo"), fits.front().at("short_band_hi"),
                       s.model, s.dataset != "cifar10" ? fmt::format("; this run trains on {}", s.dataset) : ""));
    for (const auto& a : analysed) {
      r.image(dir, a.analysis / "band_exponents.png",
              fmt::format("{}: band exponents and fitted exponents against the waiting time", a.label));
      if (a.analysis != dir / "analysis") {  // the long run's; the main run's follow
        r.image(dir, a.analysis / "msd.png", fmt::format("{}: time-averaged MSD per part", a.label));
        r.image(dir, a.analysis / "local_exponent.png", fmt::format("{}: local exponent beta(tau)", a.label));
      }
    }
    {
      std::vector<std::vector<std::string>> mrows;
      for (const auto& m : read_rows(dir / "analysis" / "motion_fit.csv")) {
        mrows.push_back({m.at("part"), m.at("component"), m.at("dimension"), fixed(num(m, "early_exponent")),
                         fixed(num(m, "late_exponent")), m.at("crossover_found") == "1" ? fixed(num(m, "tau0"), 1) : "none",
                         fixed(num(m, "short_band_median"), 2), fixed(num(m, "long_band_median"), 2)});
      }
      if (mrows.size() > fits.size()) {
        r.heading("Radial and angular motion of the scale-invariant weights", 3);
        r.para("BatchNorm makes each layer that feeds it scale-invariant: its norm can drift while the function does not "
               "change. <i>radial</i> is the MSD of the norms of those groups, <i>angular</i> of their directions w/|w| "
               "(docs/msd.md).");
        r.table({"part", "component", "coordinates", "early", "late", "tau0", "beta short", "beta long"}, mrows);
        r.image(dir, dir / "analysis" / "motion_msd.png", "MSD of the weights, their norms and their directions");
      }
    }
    r.image(dir, dir / "analysis" / "msd.png", "Time-averaged MSD per part");
    r.image(dir, dir / "analysis" / "local_exponent.png", "Local exponent beta(tau)");
    r.image(dir, dir / "analysis" / "msd_contour.png", "MSD against contour length");
    r.image(dir, dir / "analysis" / "msl.png", "Mean squared loss difference against distance");
    r.image(dir, dir / "analysis" / "displacement_histogram.png", "Displacement histograms");
    r.image(dir, dir / "analysis" / "aging_msd.png", "Aging MSD from the start of each part");
    r.heading("Training");
    r.image(dir, run / "metrics.png", "Loss and error per epoch");
    r.heading("Hessian spectrum along training");
    std::vector<std::vector<std::string>> hrows;
    for (const auto& h : read_rows(dir / "hessian" / "eigenvalues.csv")) {
      if (h.at("rank") != "1") continue;
      hrows.push_back({h.at("epoch"), fixed(num(h, "eigenvalue"), 4), fmt::format("{:.2g}", num(h, "relative_residual")),
                       h.at("converged") == "1" ? "yes" : "no", h.at("products"), h.at("warm_start") == "1" ? "yes" : "no"});
    }
    r.table({"epoch", "largest eigenvalue", "relative residual", "converged", "Hessian-vector products", "warm start"}, hrows);
    r.image(dir, dir / "hessian" / "eigenvalues.png", "Top Hessian eigenvalues against epoch");
    for (auto e : landscape_epochs) {
      const fs::path ld = dir / fmt::format("landscape_epoch_{}", e);
      r.heading(fmt::format("Loss landscape at epoch {}", e));
      std::vector<std::vector<std::string>> lrows;
      for (const auto& q : read_rows(ld / "roughness.csv")) {
        lrows.push_back({q.at("estimator"), fixed(num(q, "value")), fixed(num(q, "error")), q.at("fit_range"), q.at("reference")});
      }
      r.table({"estimator", "value", "error", "fit range", "study"}, lrows);
      if (s.landscape_points < 31) {
        r.para(fmt::format("A {0} x {0} grid is too small to estimate a Hurst exponent or a box-counting slope (their fit "
                           "ranges span 1-4 pixels); these numbers are shown for completeness, not judged. The paper preset "
                           "computes 51 x 51 grids.", s.landscape_points));
      }
      r.image(dir, ld / "contour.png", "Loss contours (filter-normalised random directions)");
      r.image(dir, ld / "surface_3d.png", "The surface");
    }
    r.heading("The simplified model on a fractal landscape");
    std::vector<std::vector<std::string>> trows;
    for (const auto& w : read_rows(dir / "simplified_model" / "walker_exponents.csv")) {
      trows.push_back({w.at("landscape"), w.at("measure"), w.at("walkers"), fixed(num(w, "median"), 2),
                       fixed(num(w, "q25"), 2) + " - " + fixed(num(w, "q75"), 2),
                       fmt::format("{:.0f}%", 100 * num(w, "share_above_1")), w.at("pinned_walkers"),
                       fmt::format("{:.1f}%", 100 * num(w, "skipped_share"))});
    }
    r.table({"landscape", "exponent of", "walkers", "median", "quartiles", "above 1", "pinned walkers", "skipped steps"}, trows);
    r.para("Each walker's time-averaged MSD over lags 1-20: on its whole path, on its path before trapping (it stays within "
           "0.05 of its final position from then on), from its start, and on the study's hand-cut R1 segment where a walker "
           "has one (docs/simplified_model.md).");
    r.image(dir, dir / "simplified_model" / "walker_exponents.png", "Per-walker exponents on the three landscapes");
    r.image(dir, dir / "simplified_model" / "msd_landscapes.png", "MSD of the walkers on the three landscapes");
    r.image(dir, dir / "simplified_model" / "fractal" / "landscape.png", "Walkers on the fractal landscape");
    r.heading("Wall time of each stage");
    std::vector<std::vector<std::string>> srows;
    double total = 0;
    for (const auto& [name, sec] : times) srows.push_back({name, fmt::format("{:.0f} s", sec)}), total += sec;
    srows.push_back({"total", fmt::format("{:.0f} s ({:.1f} min)", total, total / 60)});
    r.table({"stage", "wall time"}, srows);
    {
      std::ofstream md(dir / "report.md");
      md << r.md;
      std::ofstream html(dir / "report.html");
      html << "<!doctype html><html><head><meta charset='utf-8'><title>" << title << "</title></head><body>\n"
           << r.html << "</body></html>\n";
    }
    std::printf("anodiff-reproduce: %s the study's pattern (early > 1, late < 1); report: %s (also report.md); "
                "total %.1f min\n",
                pattern ? "this run shows" : "this run does not show", (dir / "report.html").c_str(), total / 60);
    return 0;
  });
}
