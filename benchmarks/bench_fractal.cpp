// Diamond-square at 1025^2, spectral synthesis at 4096^2 and the toy SGD walker against the numpy implementations
// of benchmarks/reference/fractal_numpy.py, run in the same invocation.
// Usage: bench_fractal [walkers=5] [steps=1000]
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "anodiff/toy/fractal_surface.hpp"
#include "anodiff/landscape/landscape_2d.hpp"
#include "anodiff/toy/toy_sgd.hpp"
#include "common.hpp"

using namespace anodiff;

namespace {
std::size_t parse_field(const std::string& text, const std::string& key) {
  const auto k = text.find(key + "=");
  return k == std::string::npos ? 0 : std::stoul(text.substr(k + key.size() + 1));
}
}  // namespace

int main(int argc, char** argv) {
  const std::size_t walkers = argc > 1 ? std::stoul(argv[1]) : 5;
  const std::size_t steps = argc > 2 ? std::stoul(argv[2]) : 1000;
  const std::string script = std::string(ANODIFF_REFERENCE_DIR) + "/fractal_numpy.py";

  double t0 = bench::now();
  const Surface ds = diamond_square(10, 3.0, 0);
  const double t_ds = bench::now() - t0;
  t0 = bench::now();
  const Surface sp = spectral_surface(4096, 0.8, 0);
  const double t_sp = bench::now() - t0;
  t0 = bench::now();
  const auto landscape = Landscape2D::from_heights(ds, 2001);
  const double t_regrid = bench::now() - t0;
  // Enough walkers for a stable timing: 200 times the reference's walker-steps.
  ToySgdOptions o;
  o.repeats = 200 * walkers;
  o.steps = steps;
  t0 = bench::now();
  const auto paths = run_toy_sgd(landscape, o);
  const double t_walk = bench::now() - t0;
  const double ours_rate = double(o.repeats * o.steps) / t_walk;
  std::printf("anodiff diamond_square %.4f s (1025^2), spectral %.3f s (4096^2), regrid %.3f s, toy SGD %.0f "
              "walker-steps/s (%zu walkers x %zu steps in %.3f s)\n",
              t_ds, t_sp, t_regrid, ours_rate, o.repeats, o.steps, t_walk);

  std::fprintf(stderr, "numpy reference (%s)...\n", script.c_str());
  const std::string out = bench::run_command(fmt::format("/usr/bin/python3 {} 10 {} {}", script, walkers, steps));
  std::printf("%s", out.c_str());
  const auto ref = bench::parse_timings(out);
  const double ref_rate = double(parse_field(out, "walker_steps_per_s"));
  std::printf("machine: %s", bench::run_command("lscpu | grep 'Model name' | sed 's/  */ /g'").c_str());
  std::printf("ratio diamond-square numpy / anodiff = %.1f (target >= 10)\n", ref.at("diamond_square") / t_ds);
  std::printf("ratio spectral numpy / anodiff = %.1f (target >= 3)\n", ref.at("spectral") / t_sp);
  std::printf("ratio toy SGD walker-steps/s anodiff / numpy = %.0f (target >= 100)\n", ours_rate / ref_rate);
  return 0;
}
