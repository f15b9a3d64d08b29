// anodiff-simplified-model: the study's simplified model of SGD (paper section 6) on a fractal landscape and on
// its two controls, with the MSD analysis of the walkers.
#include <cstdio>
#include <iostream>
#include <string>
#include <tuple>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "anodiff/output.hpp"
#include "anodiff/simplified_model.hpp"
#include "cli.hpp"

namespace po = boost::program_options;
using namespace anodiff;

int main(int argc, char** argv) {
  return anodiff::cli::run("anodiff-simplified-model", [&] {
    std::string kind, out, start, boundary = "skip";
    SimplifiedModelOptions options;
    ToySgdOptions& o = options.sgd;
    WalkerAnalysisOptions& a = options.analysis;
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
    if (boundary != "skip" && boundary != "redraw") {
      throw po::error(fmt::format("--boundary must be skip or redraw, got '{}'", boundary));
    }
    o.boundary = boundary == "redraw" ? BoundaryRule::redraw : BoundaryRule::skip;
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
    write_simplified_model(result, out, {vm.count("no-plots") == 0, anodiff::cli::stderr_log});
    std::cout << simplified_model_table(result);
    std::fprintf(stderr, "anodiff-simplified-model: results in %s\n", out.c_str());
    return 0;
  });
}
