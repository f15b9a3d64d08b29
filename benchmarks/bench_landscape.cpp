// Loss-surface points per second (ResNet-20, 2,048 samples) against Li et al.'s per-point loop in Python on the same
// model size and data (benchmarks/reference/landscape_torch.py), same threads.
// Usage: bench_landscape [depth=20] [samples=2048] [batch=256] [points=8]
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <torch/torch.h>

#include "anodiff/torch/landscape_probe.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/torch/runtime.hpp"
#include "common.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

int main(int argc, char** argv) {
  const int depth = argc > 1 ? std::stoi(argv[1]) : 20;
  const std::int64_t samples = argc > 2 ? std::stoll(argv[2]) : 2048;
  const std::int64_t batch = argc > 3 ? std::stoll(argv[3]) : 256;
  const std::size_t points = argc > 4 ? std::stoul(argv[4]) : 8;
  use_all_cores();
  keep_freed_memory();
  auto model = make_model(fmt::format("resnet{}", depth));
  use_channels_last(*model);
  torch::manual_seed(0);
  Dataset data;
  data.images = torch::randint(0, 255, {samples, 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
  data.labels = torch::randint(0, 10, {samples}, torch::kInt64);
  data.mean = {0.49, 0.48, 0.45};
  data.std = {0.25, 0.24, 0.26};
  const auto d1 = random_direction(*model, 1), d2 = random_direction(*model, 2);
  std::printf("machine: %s", bench::run_command("lscpu | grep 'Model name' | sed 's/  */ /g'").c_str());
  double ours_batch = 0;
  for (std::int64_t b : {batch, std::int64_t(1000)}) {
    LandscapeOptions o;
    o.x = Axis{-1, 1, points};
    o.y = Axis{0.5, 0.5, 1};
    o.batch_size = b;
    const fs::path dir = fs::temp_directory_path() / "anodiff_bench_landscape";
    fs::remove_all(dir);
    evaluate_landscape(*model, d1, d2, data, LandscapeOptions{Axis{0, 0, 1}, Axis{0, 0, 1}, 0, b, 0, 0, 1, {}, {}},
                       dir / "warmup.csv");
    const double t0 = bench::now();
    evaluate_landscape(*model, d1, d2, data, o, dir / "surface.csv");
    const double rate = double(points) / (bench::now() - t0);
    if (b == batch) ours_batch = rate;
    std::printf("anodiff resnet%d, %lld samples, batch %lld, %d threads: %.3f points/s\n", depth, (long long)samples,
                (long long)b, torch::get_num_threads(), rate);
    fs::remove_all(dir);
  }
  const std::string out = bench::run_command(fmt::format("/usr/bin/python3 {}/landscape_torch.py {} {} {} {} {}",
                                                         ANODIFF_REFERENCE_DIR, depth, samples, batch, points,
                                                         torch::get_num_threads()));
  std::printf("%s", out.c_str());
  const double py = std::stod(out.substr(out.find("points_per_second=") + 18));
  std::printf("ratio anodiff / python points per second (same batch %lld) = %.2f (target >= 1.5)\n", (long long)batch,
              ours_batch / py);
  return 0;
}
