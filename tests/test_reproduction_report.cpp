// The reproduction's report and sweep from hand-built results with known verdicts: each run judged on its own, the
// headline agreeing with the table, the sweep for every network name.
#define CATCH_CONFIG_PREFIX_ALL  // glog (pulled in by LibTorch) redefines CHECK
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <fmt/format.h>

#include "anodiff/torch/reproduction.hpp"
#include "test_helpers.hpp"

using namespace anodiff;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

PartResult part(std::size_t index, double early, double late, double tau0, double short_band, double long_band,
                double single = kNaN) {
  return test::hand_part(index, early, late, tau0, short_band, long_band, single, kNaN, 0.01, 100);
}

AnalysedRun run(const std::string& model, std::int64_t batch, double lr, std::vector<PartResult> parts) {
  AnalysedRun a;
  a.spec.model = model;
  a.spec.batch_size = batch;
  a.spec.lr = lr;
  a.label = fmt::format("{}, batch {}, lr {:g}, {} steps", model, batch, lr, parts.size() * 100);
  a.description = {a.label, model, batch, lr, {}};
  a.parts = std::move(parts);
  a.part_loss.assign(a.parts.size(), kNaN);
  return a;
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

CATCH_TEST_CASE("reproduction report: each run judged on its own, the headline from the table", "[report]") {
  const fs::path dir = fs::temp_directory_path() / fmt::format("anodiff_report_{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  ReproductionResult r;
  r.options = ReproductionOptions::named_preset("quick");
  // The long run (fc3): no late part shows the pattern (a sub-to-super crossover, one without a crossover, one
  // unmeasured); the main run (ResNet-14 at batch 1024): 3 of 4 late parts show it.
  r.runs.push_back(run("fc3", 128, 0.1,
                       {part(0, 1.2, 0.8, 90, 1.1, 0.9), part(1, 0.7, 1.4, 100, 0.6, 1.5),
                        part(2, 1.3, 0.6, kNaN, 0.7, 0.7, 0.7), part(3, kNaN, kNaN, kNaN, kNaN, kNaN)}));
  std::vector<PartResult> main = {part(0, 1.8, 1.7, kNaN, 1.9, 1.8, 1.8)};
  for (std::size_t i = 1; i <= 3; ++i) main.push_back(part(i, 1.2, 0.7, 70, 1.1, 0.8));
  main.push_back(part(4, 0.8, 1.2, 60, 0.8, 1.3));
  r.runs.push_back(run("resnet14", 1024, 0.1, main));

  const auto claims = judge_reproduction(r);
  CATCH_REQUIRE(claims.size() == 2);
  CATCH_CHECK_FALSE(claims[0].shows_pattern());
  CATCH_CHECK(claims[1].shows_pattern());
  CATCH_CHECK_FALSE(shows_study_pattern(r));  // every run must show it
  CATCH_CHECK_FALSE(claims[0].study);         // fc3: none reported
  CATCH_REQUIRE(claims[1].study);
  CATCH_CHECK(claims[1].study->tau0 == 70);
  CATCH_CHECK(claims[0].find("super_to_sub_crossover", Phase::late).yes == 0);  // the sub-to-super one does not count
  CATCH_CHECK(claims[0].find("super_to_sub_crossover", Phase::late).of == 2);
  CATCH_CHECK(claims[1].find("short_superdiffusion", Phase::initial).verdict == Verdict::shown);  // single 1.8
  CATCH_CHECK(claims[1].find("long_subdiffusion", Phase::initial).verdict == Verdict::not_shown);

  write_reproduction_report(r, dir);
  const std::string md = read(dir / "report.md");
  CATCH_CHECK(md.find("# anodiff: the study's claims on fashion-mnist, fc3 and resnet14 (preset quick)") == 0);
  CATCH_CHECK(count(md, "### fc3, batch 128, lr 0.1, 400 steps") == 1);
  CATCH_CHECK(count(md, "### resnet14, batch 1024, lr 0.1, 500 steps") == 1);
  CATCH_CHECK(md.find("fc3, batch 128, lr 0.1, 400 steps: does not show the study's pattern in its late phase (0 of 2 "
                      "parts: not shown)") != std::string::npos);
  CATCH_CHECK(md.find("resnet14, batch 1024, lr 0.1, 500 steps: shows the study's pattern in its late phase (3 of 4 "
                      "parts: shown)") != std::string::npos);
  CATCH_CHECK(md.find("| The whole pattern in one part (all three above) | late (4 parts) | in every part of its Fig. 2 "
                      "| 3 of 4 parts | shown (3 of 4) |") != std::string::npos);
  CATCH_CHECK(md.find("early exponent 1.215") != std::string::npos);  // the study's ResNet-14 value beside its run
  CATCH_CHECK(count(md, "none reported for this configuration") >= 5);  // fc3's rows
  CATCH_CHECK(md.find("no (crossover not super-to-sub)") != std::string::npos);
  const std::string html = read(dir / "report.html");
  CATCH_CHECK(html.find("<style>") != std::string::npos);
  CATCH_CHECK(html.find("border=1") == std::string::npos);
  // The claims files beside the report.
  const std::string csv = read(dir / "claims.csv");
  CATCH_CHECK(csv.find("resnet14,1024,0.1,pattern,late,3,4,0.75,shown,1.215,0.783,70") != std::string::npos);
  CATCH_CHECK(csv.find("fc3,128,0.1,pattern,late,0,2,0,not shown,,,") != std::string::npos);

  CATCH_SECTION("a run whose late parts all show the pattern, and the other fixed: the headline turns") {
    r.runs[0].parts[1] = part(1, 1.2, 0.7, 80, 1.1, 0.8);
    r.runs[0].parts[2] = part(2, 1.2, 0.7, 80, 1.1, 0.8);
    CATCH_CHECK(shows_study_pattern(r));
  }
  fs::remove_all(dir);
}

CATCH_TEST_CASE("reproduction sweep: every network name, the study's values where it has them", "[report]") {
  const std::vector<PartResult> parts = {part(0, 1.4, 0.7, 80, 1.2, 0.8), part(1, 1.2, 0.6, 60, 1.1, 0.7),
                                         part(2, 1.0, 0.5, kNaN, 0.9, 0.6, 0.8)};
  const auto row = sweep_row("depth", "resnet20", 1024, 0.1, parts);
  CATCH_CHECK(row.early == Approx(1.2));  // the mean of 1.4, 1.2, 1.0
  CATCH_CHECK(row.tau0 == Approx(70));    // the part without a crossover left out
  CATCH_CHECK(row.crossovers == 2);
  CATCH_CHECK(row.study_early == 1.360);
  CATCH_CHECK(row.study_tau0 == 45);
  const auto lr = sweep_row("lr", "resnet14", 128, 0.05, parts);
  CATCH_CHECK(lr.study_late == 0.68);
  CATCH_CHECK(std::isnan(sweep_row("batch", "resnet14", 512, 0.1, parts).study_early));
  const fs::path dir = fs::temp_directory_path() / fmt::format("anodiff_sweep_{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<SweepRow> rows;
  for (const char* model : {"resnet14", "resnet56_noshort", "fc3", "vgg9", "resnet110"}) {
    rows.push_back(sweep_row("depth", model, 1024, 0.1, parts));
  }
  CATCH_REQUIRE_NOTHROW(write_sweep(rows, dir));
  const std::string csv = read(dir / "sweep.csv");
  CATCH_CHECK(csv.find("depth,resnet56_noshort,1024,0.1,") != std::string::npos);
  CATCH_CHECK(csv.find(",56,0\n") != std::string::npos);   // depth 56, no shortcuts
  CATCH_CHECK(csv.find(",110,1\n") != std::string::npos);  // depth 110, shortcuts
  CATCH_CHECK(csv.find("depth,fc3,1024,0.1,") != std::string::npos);
  CATCH_CHECK(csv.find(",,1\n") != std::string::npos);     // fc3 and vgg9: no depth
  fs::remove_all(dir);
}

CATCH_TEST_CASE("reproduction options: one RunSpec per run, each field checked with its path", "[report]") {
  auto message = [](const ReproductionOptions& o) {
    try {
      o.validate();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  const auto quick = ReproductionOptions::named_preset("quick");
  CATCH_CHECK(message(quick) == "(accepted)");
  CATCH_REQUIRE(quick.long_run.has_value());
  // The study's fc3 run length on Fashion-MNIST's 60,000 images: 469 steps an epoch (the last batch short), 52 epochs.
  CATCH_CHECK(quick.long_run->steps(60000) == 24388);
  CATCH_CHECK(quick.long_run->samples(60000) == 60000);
  CATCH_CHECK(quick.long_run->label(60000) == "fc3, batch 128, lr 0.1, 24388 steps");
  CATCH_CHECK(quick.main_run.samples(60000) == 16384);
  CATCH_CHECK(quick.main_run.steps(60000) == 384);
  CATCH_CHECK_FALSE(ReproductionOptions::named_preset("paper").long_run.has_value());

  auto bad = quick;
  bad.main_run.lr = -1;
  CATCH_CHECK(message(bad) == "ReproductionOptions: main_run.lr must be positive, got -1");
  bad = quick;
  bad.main_run.lr = std::nan("");
  CATCH_CHECK(message(bad).find("main_run.lr must be positive") != std::string::npos);
  bad = quick;
  bad.long_run->epochs = 0;
  CATCH_CHECK(message(bad) == "ReproductionOptions: long_run.epochs must be at least 1, got 0");
  bad = quick;
  bad.long_run->part_length = 1;
  CATCH_CHECK(message(bad) == "ReproductionOptions: long_run.part_length must be at least 2, got 1");
  bad = quick;
  bad.long_run->model = "fc4";
  CATCH_CHECK(message(bad).rfind("ReproductionOptions: long_run.model: unknown model 'fc4'", 0) == 0);
  bad.long_run.reset();  // no long run: nothing of it is checked
  CATCH_CHECK(message(bad) == "(accepted)");
  bad = quick;
  bad.main_run.batch_size = 0;
  CATCH_CHECK(message(bad) == "ReproductionOptions: main_run.batch_size must be at least 1, got 0");
  bad = quick;
  bad.main_run.limit_train = -5;
  CATCH_CHECK(message(bad) == "ReproductionOptions: main_run.limit_train must be >= 0, got -5");
  bad = quick;
  bad.limit_test = -1;
  CATCH_CHECK(message(bad) == "ReproductionOptions: limit_test must be >= 0, got -1");
  bad = quick;
  bad.device = "tpu";
  CATCH_CHECK(message(bad) != "(accepted)");
}
