// A Trainer run with per-step recording to disk against the bare training step (bench_train_step's loop: the same
// model, batch, threads and layout, one fixed batch, no recording), in one invocation, on CIFAR-like uint8 synthetic
// data with augmentation; and against the study's Python loop with its per-step weight copies and per-epoch save
// (benchmarks/reference/study_loop_torch.py). Also the batch assembly alone: make_batch's per-image path against
// DeviceBatches.
// Usage: bench_trainer_run [model=resnet20] [batch=128] [epochs=3] [device=auto] [train=5120] [python=1 (0: skip it)]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/torch/trainer.hpp"
#include "common.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

namespace {

// CIFAR-10-like data: uint8 images, labels 0..9, CIFAR-10's normalisation.
Dataset cifar_like(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  Dataset d;
  d.name = "synthetic";
  d.images = torch::randint(0, 256, {n, 3, 32, 32}, torch::kInt64).to(torch::kUInt8);
  d.labels = torch::randint(0, 10, {n}, torch::kInt64);
  d.mean = {125.3 / 255, 123.0 / 255, 113.9 / 255};
  d.std = {63.0 / 255, 62.1 / 255, 66.7 / 255};
  return d;
}

// Seconds per batch of assembling `batches` augmented batches, per image (make_batch, then to the device) or
// batched on the device.
double assembly_seconds(const Dataset& data, std::int64_t batch, int batches, bool device_batches,
                        torch::Device device) {
  const DeviceBatches on_device(data, device);
  const auto order = epoch_order(data.size(), 0, 1);
  std::mt19937_64 gen(0);
  double total = 0;
  for (int b = 0; b < batches + 1; ++b) {
    const std::int64_t start = (std::int64_t(b) * batch) % std::max<std::int64_t>(1, data.size() - batch + 1);
    const std::vector<std::int64_t> idx(order.begin() + start, order.begin() + std::min(data.size(), start + batch));
    const double t0 = bench::now();
    auto x = device_batches ? on_device.images(idx, true, gen) : make_batch(data, idx, true, gen).to(device);
    if (device.is_cpu()) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    (void)x.sum().item<double>();  // waits for the device
    if (b > 0) total += bench::now() - t0;  // the first one warms up
  }
  return total / double(batches);
}

// Mean seconds per step of bench_train_step's bare loop: one fixed batch, no recording, as the Trainer's layout.
double bare_step_seconds(const std::string& model, std::int64_t batch, int steps, torch::Device device) {
  auto net = make_model(model);
  net->to(device);
  auto x = torch::randn({batch, 3, 32, 32}).to(device);
  auto y = torch::randint(0, 10, {batch}).to(device);
  if (device.is_cpu()) {
    use_channels_last(*net);
    x = x.contiguous(at::MemoryFormat::ChannelsLast);
  }
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1));
  net->train();
  double t0 = 0;
  for (int i = 0; i < steps + 2; ++i) {
    if (i == 2) t0 = bench::now();  // two warm-up steps
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
    (void)loss.item<double>();
  }
  return (bench::now() - t0) / double(steps);
}

}  // namespace

int main(int argc, char** argv) {
  TrainerOptions o;
  o.model = argc > 1 ? argv[1] : "resnet20";
  o.batch_size = argc > 2 ? std::stoll(argv[2]) : 128;
  o.epochs = argc > 3 ? std::stoll(argv[3]) : 3;
  o.device = argc > 4 ? argv[4] : "auto";
  const std::int64_t n = argc > 5 ? std::stoll(argv[5]) : 5120;
  const bool python = argc > 6 ? std::string(argv[6]) != "0" : true;
  o.dataset = "synthetic";
  o.plots = false;
  o.out = fs::temp_directory_path() / "anodiff_bench_trainer";
  fs::remove_all(o.out);
  use_all_cores();  // as anodiff-train does
  keep_freed_memory();
  const int threads = torch::get_num_threads();
  const torch::Device device = choose_device(o.device);
  std::printf("machine: %s", bench::run_command("lscpu | grep 'Model name' | sed 's/  */ /g'").c_str());
  DataSplit data{cifar_like(n, 1), cifar_like(256, 2)};

  // The batch assembly alone, augmented.
  const int reps = 20;
  const double per_image = assembly_seconds(data.train, o.batch_size, reps, false, device);
  const double batched = assembly_seconds(data.train, o.batch_size, reps, true, device);
  std::printf("batch assembly (batch %lld, augmented, uint8 3x32x32, %s): per image (make_batch) %.2f ms, on the "
              "device (DeviceBatches) %.2f ms: %.1fx\n",
              (long long)o.batch_size, device.str().c_str(), per_image * 1e3, batched * 1e3, per_image / batched);

  // The bare step before and after the Trainer (the machine's load drifts), as many steps as an epoch has.
  const int steps = int((n + o.batch_size - 1) / o.batch_size);
  const double bare_before = double(o.batch_size) / bare_step_seconds(o.model, o.batch_size, steps, device);

  // The Trainer: every step's weights recorded to disk, a checkpoint and a test evaluation (256 images) per epoch.
  const double t0 = bench::now();
  Trainer trainer(o, data);
  const auto metrics = trainer.run();
  const double wall = bench::now() - t0;
  double steps_seconds = 0, later_seconds = 0;
  for (const auto& m : metrics) {
    if (m.epoch == 0) continue;
    std::printf("  trainer epoch %lld: %.1f images/s (%.2f s of steps)\n", (long long)m.epoch, m.images_per_second,
                m.seconds);
    steps_seconds += m.seconds;
    if (m.epoch > 1) later_seconds += m.seconds;
  }
  const std::int64_t epochs = o.epochs;
  const double trainer_steps = double(n * epochs) / steps_seconds;
  const double trainer_later = epochs > 1 ? double(n * (epochs - 1)) / later_seconds : trainer_steps;
  const double trainer_wall = double(n * epochs) / wall;
  fs::remove_all(o.out);

  const double bare_after = double(o.batch_size) / bare_step_seconds(o.model, o.batch_size, steps, device);
  const double bare = (bare_before + bare_after) / 2;
  std::printf("%s on %s, batch %lld, %d threads, %lld samples x %lld epochs:\n", o.model.c_str(),
              device.str().c_str(), (long long)o.batch_size, threads, (long long)n, (long long)epochs);
  std::printf("  bare training step (fixed batch, no recording, mean of %d steps, before and after the Trainer): "
              "%.1f images/s (%.1f before, %.1f after)\n",
              steps, bare, bare_before, bare_after);
  std::printf("  Trainer with per-step recording: %.1f images/s over the epochs' steps (epochs 2..%lld: %.1f), "
              "%.1f images/s over the whole run() (%.2f s: epoch 0, test evaluations, checkpoints included)\n",
              trainer_steps, (long long)epochs, trainer_later, trainer_wall, wall);
  std::printf("  ratio Trainer / bare step: %.3f over the steps (epochs 2..: %.3f), %.3f over the whole run (target "
              ">= 0.95)\n",
              trainer_steps / bare, trainer_later / bare, trainer_wall / bare);

  if (python) {
    const char* py = std::getenv("ANODIFF_PYTHON") ? std::getenv("ANODIFF_PYTHON") : "/usr/bin/python3";
    std::string out;
    try {
      out = bench::run_command(fmt::format("{} {}/study_loop_torch.py {} {} {} {} {} {}", py, ANODIFF_REFERENCE_DIR,
                                           o.model, o.batch_size, n, epochs, threads, device.is_cuda() ? "cuda" : "cpu"));
    } catch (const std::exception& e) {
      std::printf("  the study's Python loop did not run: %s\n", e.what());
      return 0;
    }
    auto field = [&](const std::string& key) { return std::stod(out.substr(out.find(key + "=") + key.size() + 1)); };
    const double py_steps = field("images_per_second"), py_wall = field("run_images_per_second");
    std::printf("  the study's Python loop (per-step weight copies, per-epoch save; no augmentation): %.1f images/s "
                "over the steps, %.1f over the whole run: Trainer / Python %.2f (steps), %.2f (whole run)\n",
                py_steps, py_wall, trainer_steps / py_steps, trainer_wall / py_wall);
  }
  return 0;
}
