// anodiff-simplified-model: the study's simplified model of SGD (paper section 6) on a fractal landscape and on
// its two controls, with the MSD analysis of the walkers.
#include <array>
#include <cstdio>
#include <iostream>
#include <string>
#include <tuple>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/output/output.hpp"
#include "anodiff/toy/simplified_model.hpp"
#include "cli.hpp"

namespace po = boost::program_options;
using namespace anodiff;

namespace {

// The value of `Enum` whose to_string is `text`, or a flag error naming --flag, the values and the text.
template <typename Enum, std::size_t N>
Enum parse_choice(const char* flag, const std::string& text, const std::array<Enum, N>& values) {
  std::string names;
  for (const auto v : values) {
    if (text == to_string(v)) return v;
    names += (names.empty() ? "" : ", ") + std::string(to_string(v));
  }
  throw po::error(fmt::format("--{} must be one of {}, got '{}'", flag, names, text));
}

}  // namespace

int main(int argc, char** argv) {
  return anodiff::cli::run("anodiff-simplified-model", [&] {
    std::string kind, out, start, boundary, draw, shuffle, r1_rule;
    SimplifiedModelOptions options;
    ToySgdOptions& o = options.sgd;
    WalkerAnalysisOptions& a = options.analysis;
    po::options_description desc(
        "anodiff-simplified-model: noisy gradient descent on a 2-D fractal landscape and its controls.\nUsage:\n"
        "  anodiff-simplified-model --landscape fractal|convex|random|all [--steps 1000 --repeats 100 --eta 0.02\n"
        "                           --sigma 0.01 --seed S] --out DIR\nOptions");
    desc.add_options()("help,h", "show this help")
        ("landscape", po::value(&kind)->default_value("all"), "fractal, convex, random or all")
        ("steps", po::value(&o.steps)->default_value(1000), "steps per walker")
        ("repeats", po::value(&o.repeats)->default_value(100), "walkers per landscape")
        ("boundary", po::value(&boundary)->default_value("skip"),
         "at the edge: skip (500 draws, then the walker stays where it is), redraw (until inside: the 2020 script "
         "behind the study's figure) or study_origin (the study's script: 501 draws, then the path records (0, 0))")
        ("landscapes", po::value(&draw)->default_value("pool"),
         "pool (each walker on a landscape drawn from a pool: the study's land_ind) or shared (one for all)")
        ("pool-size", po::value(&options.pool_size)->default_value(10), "fractal landscapes in the pool")
        ("shuffle", po::value(&shuffle)->default_value("study"),
         "the random control: study ((imgaussfilt(z,8)).^0.7 of the raw heights: 33 taps, replicate padding) or "
         "rescaled (4 sigma taps, rescaled to [0, 1], then ^0.7)")
        ("r1-rule", po::value(&r1_rule)->default_value("whole_path"),
         "end of the study's R1 segment: whole_path (plot_fig4.m: first x < -0.5 of the whole path, bb:aa) or "
         "after_start (first x < -0.5 after the segment's start)")
        ("band", po::value<std::string>()->default_value("1:20"), "lag band LO:HI of the per-walker exponents")
        ("trap-radius", po::value(&a.trap_radius)->default_value(0.05, "0.05"),
         "a walker is trapped once it stays this close to its final position")
        ("eta", po::value(&o.eta)->default_value(0.02, "0.02"), "learning rate")
        ("sigma", po::value(&o.sigma)->default_value(0.01, "0.01"), "noise standard deviation")
        ("seed", po::value(&o.seed)->default_value(0), "seed of the landscape and the walkers")
        ("start", po::value(&start), "fixed start X,Y in [-1, 1]^2 (default: uniform)")
        ("n", po::value(&options.n)->default_value(10), "diamond-square levels: (2^n + 1)^2 points")
        ("grid", po::value(&options.grid)->default_value(2001), "points per axis of the walker's grid over [-1, 1]^2")
        ("out", po::value(&out), "output directory")("no-plots", "write CSVs only");
    po::variables_map vm;
    if (!anodiff::cli::parse(argc, argv, desc, vm)) return 0;
    if (out.empty()) throw po::error("--out DIR is required");
    if (kind == "fractal") {
      options.landscapes = {LandscapeKind::fractal};
    } else if (kind == "convex") {
      options.landscapes = {LandscapeKind::convex};
    } else if (kind == "random") {
      options.landscapes = {LandscapeKind::random};
    } else if (kind != "all") {
      throw po::error(fmt::format("--landscape must be fractal, convex, random or all, got '{}'", kind));
    }
    o.boundary = parse_choice(
        "boundary", boundary,
        std::array{BoundaryRule::skip, BoundaryRule::redraw, BoundaryRule::study_origin});
    options.draw = parse_choice("landscapes", draw, std::array{LandscapeDraw::pool, LandscapeDraw::shared});
    options.shuffle = parse_choice("shuffle", shuffle, std::array{ShuffleRecipe::study, ShuffleRecipe::rescaled});
    a.r1_rule = parse_choice("r1-rule", r1_rule, std::array{R1Rule::whole_path, R1Rule::after_start});
    std::tie(a.band_lo, a.band_hi) = anodiff::cli::parse_band("band", vm["band"].as<std::string>());
    if (!(a.trap_radius > 0)) throw po::error(fmt::format("--trap-radius must be positive, got {}", a.trap_radius));
    if (!start.empty()) {
      char extra = 0;
      if (std::sscanf(start.c_str(), "%lf,%lf%c", &o.start_x, &o.start_y, &extra) != 2) {
        throw po::error(fmt::format("--start expects X,Y, got '{}'", start));
      }
      o.fixed_start = true;
    }
    options.log = anodiff::cli::stderr_log;
    options.validate();  // every value, before any work
    const auto result = run_simplified_model(options);
    write_simplified_model(result, out, anodiff::cli::output_options(vm));
    std::cout << simplified_model_table(result);
    std::fprintf(stderr, "anodiff-simplified-model: results in %s\n", out.c_str());
    return 0;
  });
}
