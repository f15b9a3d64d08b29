// The study's claims judged from hand-built part results with known answers: every rule, every phase, every verdict
// label, the attenuation trend, and the files.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include <unistd.h>

#include <fmt/format.h>

#include "anodiff/analysis/claims.hpp"
#include "anodiff/output/output.hpp"
#include "test_helpers.hpp"

using namespace anodiff;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

PartResult part(std::size_t index, double early, double late, double tau0, double short_band, double long_band,
                double single = kNaN, double hurst = kNaN, double hurst_error = 0.01) {
  return test::hand_part(index, early, late, tau0, short_band, long_band, single, hurst, hurst_error);
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("claims: the verdict labels follow the shares and thresholds", "[claims]") {
  CHECK(verdict_of(0, 0) == Verdict::not_measured);
  CHECK(verdict_of(0, 5) == Verdict::not_shown);
  CHECK(verdict_of(1, 5) == Verdict::weak);          // 20%
  CHECK(verdict_of(1, 4) == Verdict::partly_shown);  // 25%: the lower bound is partly
  CHECK(verdict_of(2, 4) == Verdict::partly_shown);
  CHECK(verdict_of(3, 4) == Verdict::shown);         // 75%: the lower bound is shown
  CHECK(verdict_of(5, 7) == Verdict::partly_shown);  // 71%
  CHECK(verdict_of(7, 7) == Verdict::shown);
  CHECK(verdict_of(1, 2, {0.5, 0.5}) == Verdict::shown);
  CHECK_THROWS_AS(verdict_of(3, 2), std::invalid_argument);
  CHECK_THROWS_AS(verdict_of(1, 2, {0.2, 0.5}), std::invalid_argument);  // partly above shown
  CHECK(to_string(Verdict::partly_shown) == "partly shown");
  CHECK(to_string(Verdict::not_measured) == "not measured");
}

TEST_CASE("claims: one part read against each rule", "[claims]") {
  SECTION("the study's pattern: super-to-sub with both bands agreeing") {
    const auto r = read_part(part(1, 1.3, 0.7, 120, 1.2, 0.8));
    CHECK(r.phase == Phase::late);
    CHECK(r.super_to_sub);
    CHECK(r.short_superdiffusive);
    CHECK(r.long_subdiffusive);
    CHECK(r.pattern());
    CHECK(r.tau0 == 120);
  }
  SECTION("a sub-to-super crossover is no super-to-sub crossover") {
    const auto r = read_part(part(2, 0.7, 1.6, 100, 0.6, 1.7));
    CHECK(r.crossover_found);
    CHECK_FALSE(r.super_to_sub);
    CHECK_FALSE(r.short_superdiffusive);
    CHECK_FALSE(r.long_subdiffusive);
    CHECK_FALSE(r.pattern());
  }
  SECTION("without a crossover the single exponent decides, not the two slopes") {
    // The two slopes of a breakpoint on the bound (1.4, 0.5) would say "pattern"; the single power law is 0.8.
    const auto r = read_part(part(3, 1.4, 0.5, kNaN, 1.1, 0.9, 0.8));
    CHECK(r.short_exponent == 0.8);
    CHECK(r.long_exponent == 0.8);
    CHECK_FALSE(r.short_superdiffusive);  // the band says > 1, the single exponent does not
    CHECK(r.long_subdiffusive);
    CHECK(std::isnan(r.tau0));
    CHECK_FALSE(r.pattern());
  }
  SECTION("a band that disagrees with the fit vetoes") {
    const auto r = read_part(part(1, 1.3, 0.7, 120, 0.95, 1.05));
    CHECK(r.super_to_sub);
    CHECK_FALSE(r.short_superdiffusive);
    CHECK_FALSE(r.long_subdiffusive);
    CHECK_FALSE(r.pattern());
  }
  SECTION("NaN exponents are not measured, not shown") {
    const auto r = read_part(part(1, kNaN, kNaN, kNaN, kNaN, kNaN));
    CHECK_FALSE(r.short_measured);
    CHECK_FALSE(r.long_measured);
    CHECK_FALSE(r.short_superdiffusive);
  }
  SECTION("roughness: 0 < H < 1 beyond two standard errors") {
    CHECK(read_part(part(1, 1, 1, kNaN, 1, 1, 1, 0.4, 0.1)).rough);
    CHECK_FALSE(read_part(part(1, 1, 1, kNaN, 1, 1, 1, 0.9, 0.1)).rough);   // 0.9 + 0.2 >= 1
    CHECK_FALSE(read_part(part(1, 1, 1, kNaN, 1, 1, 1, 0.05, 0.1)).rough);  // 0.05 - 0.2 <= 0
  }
  SECTION("part 0 is the initial phase") { CHECK(read_part(part(0, 1, 1, kNaN, 1, 1, 1)).phase == Phase::initial); }
}

TEST_CASE("claims: a run judged per phase, every cell", "[claims]") {
  // Part 0 (initial) shows the pattern; of the 4 late parts: 1 pattern, 1 sub-to-super, 1 without a crossover
  // (single 0.7: subdiffusive at long lags), 1 unmeasured (NaN).
  std::vector<PartResult> parts = {part(0, 1.8, 0.8, 60, 1.6, 0.9, kNaN, 0.5, 0.05),
                                   part(1, 1.2, 0.7, 80, 1.1, 0.8, kNaN, 0.4, 0.05),
                                   part(2, 0.7, 1.5, 100, 0.7, 1.6, kNaN, 1.0, 0.05),
                                   part(3, 1.2, 0.6, kNaN, 0.8, 0.7, 0.7, 0.3, 0.05),
                                   part(4, kNaN, kNaN, kNaN, kNaN, kNaN)};
  const RunDescription run{"resnet14, batch 1024, lr 0.1", "resnet14", 1024, 0.1, ""};
  const auto c = judge_run(run, parts, {2.0, 1.0, 0.6, 0.4, 0.3});
  REQUIRE(c.study);
  CHECK(c.study->early == 1.215);
  CHECK(c.study->tau0 == 70);
  auto cell = [&](const char* claim, Phase phase) {
    const auto& v = c.find(claim, phase);
    return std::tuple(v.yes, v.of, v.verdict);
  };
  CHECK(cell("short_superdiffusion", Phase::initial) == std::tuple(1u, 1u, Verdict::shown));
  CHECK(cell("short_superdiffusion", Phase::late) == std::tuple(1u, 3u, Verdict::partly_shown));
  CHECK(cell("long_subdiffusion", Phase::initial) == std::tuple(1u, 1u, Verdict::shown));
  CHECK(cell("long_subdiffusion", Phase::late) == std::tuple(2u, 3u, Verdict::partly_shown));
  CHECK(cell("super_to_sub_crossover", Phase::late) == std::tuple(1u, 3u, Verdict::partly_shown));
  CHECK(cell("rough_path", Phase::initial) == std::tuple(1u, 1u, Verdict::shown));
  CHECK(cell("rough_path", Phase::late) == std::tuple(2u, 3u, Verdict::partly_shown));  // H = 1 is smooth
  CHECK(cell("pattern", Phase::initial) == std::tuple(1u, 1u, Verdict::shown));
  CHECK(cell("pattern", Phase::late) == std::tuple(1u, 3u, Verdict::partly_shown));
  CHECK_FALSE(c.shows_pattern());  // judged on the late phase
  CHECK_THROWS_AS(c.find("no such claim", Phase::late), std::out_of_range);
  CHECK_THROWS_AS(judge_run(run, parts, {1.0, 2.0}), std::invalid_argument);

  SECTION("the pattern in 3 of 4 late parts is shown; in 2 of 4 it is not") {
    std::vector<PartResult> good = {part(0, 1.8, 0.8, 60, 1.6, 0.9)};
    for (std::size_t i = 1; i <= 3; ++i) good.push_back(part(i, 1.2, 0.7, 80, 1.1, 0.8));
    good.push_back(part(4, 0.7, 1.5, 100, 0.7, 1.6));
    CHECK(judge_run(run, good).shows_pattern());
    good[3] = part(3, 0.8, 0.7, kNaN, 0.8, 0.7, 0.75);
    CHECK_FALSE(judge_run(run, good).shows_pattern());
  }
  SECTION("a run of one part is judged on its initial phase") {
    CHECK(judge_run(run, {parts[0]}).shows_pattern());
    CHECK(judge_run(run, {parts[0]}).find("pattern", Phase::late).verdict == Verdict::not_measured);
  }
  SECTION("the study's values: the configuration must match") {
    CHECK_FALSE(study_values("fc3", 128, 0.1));
    CHECK_FALSE(study_values("resnet14", 512, 0.1));
    CHECK_FALSE(study_values("resnet14", 1024, 0.3));
    CHECK(study_values("resnet14", 128, 0.05)->late == 0.68);
    CHECK(study_values("resnet56_noshort", 1024, 0.1)->tau0 == 133);
  }
}

TEST_CASE("claims: the attenuation trend", "[claims]") {
  // beta = 1.8 - 0.2 log10 t_w exactly, the loss falling with it (loss = beta + 0.5): shown, slopes exact.
  std::vector<PartReading> falling;
  for (std::size_t k = 0; k < 6; ++k) {
    PartReading p;
    p.start = k == 0 ? 0 : k * 1000 - 1;  // t_w = 1, 1000, 2000, ...
    p.short_band = 1.8 - 0.2 * std::log10(double(p.start) + 1);
    p.loss = p.short_band + 0.5;  // the loss falls with beta
    falling.push_back(p);
  }
  auto t = attenuation_trend(falling);
  CHECK(t.parts == 6);
  CHECK(t.slope_log_wait == Approx(-0.2).epsilon(1e-12));
  CHECK(t.slope_log_wait_error == Approx(0).margin(1e-12));
  CHECK(t.slope_loss == Approx(1).epsilon(1e-12));
  CHECK(t.first == Approx(1.8));
  CHECK(t.verdict == Verdict::shown);
  SECTION("rising with the waiting time: not shown") {
    for (auto& p : falling) p.short_band = 2.6 - p.short_band;  // the loss still falls
    CHECK(attenuation_trend(falling).verdict == Verdict::not_shown);
  }
  SECTION("falling with the waiting time while the loss rises: partly") {
    for (auto& p : falling) p.loss = 4 - p.loss;
    CHECK(attenuation_trend(falling).verdict == Verdict::partly_shown);
  }
  SECTION("no loss known: the waiting time alone") {
    for (auto& p : falling) p.loss = kNaN;
    CHECK(attenuation_trend(falling).verdict == Verdict::shown);
  }
  SECTION("fewer than 3 parts: not measured") {
    falling.resize(2);
    CHECK(attenuation_trend(falling).verdict == Verdict::not_measured);
  }
}

TEST_CASE("claims: part losses average each part's steps", "[claims]") {
  std::vector<PartResult> parts(2);
  parts[0].part = {0, 0, 3};
  parts[1].part = {1, 3, 3};
  const auto l = part_losses({kNaN, 1, 3, 5, 7, kNaN}, parts);
  CHECK(l[0] == 2);  // steps 1, 2
  CHECK(l[1] == 7);  // steps 4, 5 (5 is NaN)
  CHECK(std::isnan(part_losses({}, parts)[0]));
}

TEST_CASE("claims: the files", "[claims]") {
  const fs::path dir = fs::temp_directory_path() / fmt::format("anodiff_claims_{}", ::getpid());
  fs::remove_all(dir);
  std::vector<PartResult> parts = {part(0, 1.8, 0.8, 60, 1.6, 0.9), part(1, 1.2, 0.7, 80, 1.1, 0.8),
                                   part(2, 0.7, 1.5, 100, 0.7, 1.6)};
  const RunDescription run{"fc3, batch 128, lr 0.1", "fc3", 128, 0.1, "lr 0.3 was chosen on the outcome"};
  write_claims({judge_run(run, parts)}, dir, {false, {}});
  const std::string csv = read(dir / "claims.csv");
  CHECK(csv.find("\"fc3, batch 128, lr 0.1\",fc3,128,0.1,pattern,late,1,2,0.5,partly shown,,,") != std::string::npos);
  CHECK(csv.find("attenuation,all,,3,,not measured") == std::string::npos);  // 3 parts: measured
  const std::string md = read(dir / "claims.md");
  CHECK(md.find("none reported for this configuration") != std::string::npos);
  CHECK(md.find("Chosen on the outcome: lr 0.3 was chosen on the outcome.") != std::string::npos);
  CHECK(md.find("does not show the study's pattern in its late phase (1 of 2 parts: partly shown)") != std::string::npos);
  const std::string rows = read(dir / "claims_parts.csv");
  CHECK(rows.find("0,2,2000,late,0.7,1.5,0.7,1.6,1,0,100,,,0,0,0,0,\"fc3, batch 128, lr 0.1\"") != std::string::npos);
  fs::remove_all(dir);
}
