// Training step throughput (images/s) of a CIFAR ResNet against the study's Python step on Debian's python3-torch
// (benchmarks/reference/train_step_torch.py) with the same model, batch and threads, and the cost of per-step
// recording (to disk as the Trainer does it, on a worker thread; and the StreamingPostAnalysis).
// Usage: bench_train_step [model=resnet20] [batches=128,1024] [steps=8] [device=cpu|cuda]
#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#include "anodiff/torch/models.hpp"
#include "anodiff/analysis/streaming_post_analysis.hpp"
#include "anodiff/torch/parameters.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/trajectory/trajectory_writer.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "common.hpp"
#include "torch/detail/snapshot_queue.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

namespace {
enum class Recording { none, disk, stream };

double median_step(const std::string& model, std::int64_t batch, int steps, Recording recording, const fs::path& dir,
                   double* record_seconds, torch::Device device) {
  auto net = make_model(model);
  net->to(device);
  auto x = torch::randn({batch, 3, 32, 32}).to(device);
  auto y = torch::randint(0, 10, {batch}).to(device);
  if (device.is_cpu()) {  // as the Trainer does on a CPU
    use_channels_last(*net);
    x = x.contiguous(at::MemoryFormat::ChannelsLast);
  }
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1));
  net->train();
  const std::size_t D = parameter_count(*net);
  fs::remove_all(dir);
  TrajectoryWriter writer(dir, D);
  // Recording to disk as the Trainer does it: a snapshot queued, copied and appended on a worker thread.
  std::optional<anodiff::detail::SnapshotQueue> snapshots;
  if (recording == Recording::disk) {
    snapshots.emplace([&](const float* w, const std::vector<double>& row) { writer.append(w, row); });
  }
  PostAnalysisOptions po;
  po.part_length = 1000;
  StreamingPostAnalysis stream(D, po);
  std::vector<float> w;
  std::vector<double> times, rec;
  for (int i = 0; i < steps + 2; ++i) {
    const double t0 = bench::now();
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
    const double loss_value = loss.item<double>();  // waits for the device, as the Trainer's per-step numbers do
    const double t1 = bench::now();
    if (recording == Recording::disk) {
      snapshots->push(*net, {double(i), 0.0, loss_value});
    } else if (recording == Recording::stream) {
      flatten_parameters(*net, w);
      stream.add(w.data(), loss_value);
    }
    const double t2 = bench::now();
    times.push_back(t2 - t0);
    rec.push_back(t2 - t1);
  }
  times.erase(times.begin(), times.begin() + 2);
  rec.erase(rec.begin(), rec.begin() + 2);
  std::sort(times.begin(), times.end());
  // record_seconds: on disk, the epoch-end commit per step (the rest shows in the median step); streamed, the
  // buffering per step.
  if (record_seconds) {
    if (recording == Recording::disk) {
      // The epoch's end: wait for the worker and commit the chunk; spread over the steps.
      const double t0 = bench::now();
      snapshots->drain();
      writer.commit();
      *record_seconds = (bench::now() - t0) / double(steps);
    } else {
      double total = 0;
      for (double r : rec) total += r;
      *record_seconds = total / double(rec.size());
    }
  }
  return times[times.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : "resnet20";
  std::vector<std::int64_t> batches = {128, 1024};
  if (argc > 2) {
    batches.clear();
    std::stringstream ss(argv[2]);
    std::string item;
    while (std::getline(ss, item, ',')) batches.push_back(std::stoll(item));
  }
  const int steps = argc > 3 ? std::stoi(argv[3]) : 8;
  const std::string device_name = argc > 4 ? argv[4] : "cpu";
  const torch::Device device = anodiff::choose_device(device_name);
  use_all_cores();
  keep_freed_memory();  // as the Trainer does
  const int threads = torch::get_num_threads();
  const fs::path dir = fs::temp_directory_path() / "anodiff_bench_train";
  const std::size_t D = parameter_count(*make_model(model));
  std::printf("machine: %s", bench::run_command("lscpu | grep 'Model name' | sed 's/  */ /g'").c_str());
  for (auto batch : batches) {
    double commit_per_step = 0, rec_stream = 0;
    const double plain = median_step(model, batch, steps, Recording::none, dir, nullptr, device);
    // Recording's cost: the median step with it against the one without, plus the epoch-end commit per step.
    const double with_disk = median_step(model, batch, steps, Recording::disk, dir, &commit_per_step, device);
    const double in_steps = std::max(0.0, with_disk - plain);
    const double rec_disk = in_steps + commit_per_step;
    median_step(model, batch, steps, Recording::stream, dir, &rec_stream, device);
    const char* python = std::getenv("ANODIFF_PYTHON") ? std::getenv("ANODIFF_PYTHON") : "/usr/bin/python3";
    const std::string out = bench::run_command(fmt::format("{} {}/train_step_torch.py {} {} {} {} {}", python,
                                                           ANODIFF_REFERENCE_DIR, model, batch, steps, threads,
                                                           device_name));
    const double py = std::stod(out.substr(out.find("images_per_second=") + 18));
    std::printf("%s on %s, batch %lld, %d threads: anodiff %.1f images/s (median of %d steps), python %.1f images/s: "
                "ratio %.2f (target >= 1.0)\n",
                model.c_str(), device_name.c_str(), (long long)batch, threads, double(batch) / plain, steps, py,
                double(batch) / plain / py);
    std::printf("  per-step recording to disk: %.2f ms = %.2f%% of a step (target <= 5%%); streaming StreamingPostAnalysis "
                "(buffering; the part's analysis every 1,000 steps is not in this window): %.2f ms = %.2f%%\n",
                rec_disk * 1e3, 100 * rec_disk / plain, rec_stream * 1e3, 100 * rec_stream / plain);
    std::printf("  of the recording: %.2f ms a step in the steps themselves, %.2f ms a step for the epoch-end write "
                "and fsync of the chunk (%d steps of %.2f MB)\n",
                in_steps * 1e3, commit_per_step * 1e3, steps, double(D) * 4e-6);
  }
  fs::remove_all(dir);
  return 0;
}
