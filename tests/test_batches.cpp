// Mini-batches assembled on the training device (DeviceBatches) against make_batch's per-image reference, the
// Trainer on both paths, and the snapshot queue's tasks (an epoch's commit on the recorder's worker).
#define CATCH_CONFIG_PREFIX_ALL  // glog (pulled in by LibTorch) redefines CHECK
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include <torch/torch.h>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/torch/trainer.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "torch/detail/snapshot_queue.hpp"
#include "test_helpers.hpp"

using namespace anodiff;
namespace fs = std::filesystem;

namespace {

// CIFAR-like uint8 images (every byte value occurs) or float32 values in [0, 1), with the data set's normalisation.
Dataset image_set(std::int64_t n, std::int64_t channels, bool float_images, std::uint64_t seed) {
  torch::manual_seed(seed);
  Dataset d;
  d.name = "test";
  d.images = float_images ? torch::rand({n, channels, 32, 32})
                          : torch::randint(0, 256, {n, channels, 32, 32}, torch::kInt64).to(torch::kUInt8);
  d.labels = torch::randint(0, 10, {n}, torch::kInt64);
  const std::vector<double> m = {125.3 / 255, 123.0 / 255, 113.9 / 255}, s = {63.0 / 255, 62.1 / 255, 66.7 / 255};
  d.mean.assign(m.begin(), m.begin() + channels);
  d.std.assign(s.begin(), s.begin() + channels);
  return d;
}

}  // namespace

CATCH_TEST_CASE("batches: DeviceBatches gives make_batch's batches bit for bit", "[data][batches]") {
  std::vector<torch::Device> devices = {torch::kCPU};
  if (torch::cuda::is_available()) devices.emplace_back(torch::kCUDA);  // the GPU check runs it there too
  for (const auto& on : devices) {
    for (const bool float_images : {false, true}) {
      for (const std::int64_t channels : {3, 1}) {
        const auto data = image_set(70, channels, float_images, 11 + std::uint64_t(channels));
        const DeviceBatches device(data, on);
        for (const bool augment : {false, true}) {
          for (const std::uint64_t seed : {0u, 1u, 42u}) {
            for (const std::int64_t batch : {1, 16, 32, 128}) {  // 70 = 2 x 32 + 6: a last partial batch
              CATCH_INFO("device " << on << " float " << float_images << " channels " << channels << " augment "
                                   << augment << " seed " << seed << " batch " << batch);
              const auto order = epoch_order(data.size(), seed, 1);
              std::mt19937_64 g1(seed), g2(seed);
              for (std::int64_t start = 0; start < data.size(); start += batch) {
                const std::vector<std::int64_t> idx(order.begin() + start,
                                                    order.begin() + std::min(data.size(), start + batch));
                const auto reference = make_batch(data, idx, augment, g1);
                const auto batched = device.images(idx, augment, g2).cpu();
                CATCH_REQUIRE(batched.scalar_type() == torch::kFloat32);
                CATCH_REQUIRE(batched.sizes() == reference.sizes());
                CATCH_REQUIRE(torch::equal(batched, reference));  // bitwise: equal floats, no tolerance
                const auto index = torch::tensor(idx, torch::kInt64);
                const auto labels = data.labels.index_select(0, index);
                CATCH_REQUIRE(torch::equal(device.labels(idx).cpu(), labels));
                CATCH_REQUIRE(g1 == g2);  // the same numbers drawn, in the same order
              }
            }
          }
        }
      }
    }
  }
}

CATCH_TEST_CASE("batches: augmentation crops the zero padding and flips, as make_batch", "[data][batches]") {
  // An image whose pixel (y, x) is y * 8 + x / 4 (0..251): the crop's offset and the flip can be read off it.
  Dataset d = image_set(4, 1, false, 0);
  d.images = (torch::arange(32).view({1, 1, 32, 1}) * 8 + torch::arange(32).view({1, 1, 1, 32}) / 4)
                 .expand({4, 1, 32, 32}).to(torch::kUInt8).contiguous();
  d.mean = {0.0};
  d.std = {1.0};
  std::mt19937_64 g(3), probe(3);
  const auto x = DeviceBatches(d, torch::kCPU).images({0, 1, 2, 3}, true, g);
  std::uniform_int_distribution<int> offset(0, 8), coin(0, 1);
  for (std::int64_t i = 0; i < 4; ++i) {
    const int dy = offset(probe), dx = offset(probe), flip = coin(probe);
    for (int y = 0; y < 32; y += 5) {
      for (int c = 0; c < 32; c += 3) {
        const int sy = y + dy - 4, sx = (flip ? 31 - c : c) + dx - 4;
        const float expected = (sy < 0 || sy > 31 || sx < 0 || sx > 31) ? 0.0f : float(sy * 8 + sx / 4) / 255.0f;
        CATCH_CHECK(x[i][0][y][c].item<float>() == Approx(expected).margin(1e-6));
      }
    }
  }
}

CATCH_TEST_CASE("batches: images other than uint8 or float32 (N, C, 32, 32) are refused", "[data][batches][errors]") {
  Dataset d = image_set(4, 3, false, 0);
  d.images = d.images.to(torch::kInt32);
  CATCH_CHECK_THROWS_WITH(DeviceBatches(d, torch::kCPU),
                          Catch::Contains("expected uint8 or float32") && Catch::Contains("Int") &&
                              Catch::Contains("(4, 3, 32, 32)"));
  d = image_set(4, 3, false, 0);
  d.mean = {0.5};
  CATCH_CHECK_THROWS_WITH(DeviceBatches(d, torch::kCPU), Catch::Contains("expected 3") && Catch::Contains("found 1"));
}

CATCH_TEST_CASE("trainer: batches on the device and per image give the same trajectory bit for bit",
                "[trainer][batches]") {
  test::TempDir dir;
  DataSplit data{image_set(56, 3, false, 5), image_set(16, 3, false, 6)};
  std::vector<WeightTrajectory> runs;
  std::vector<std::vector<EpochMetrics>> metrics;
  for (const bool device_batches : {true, false}) {
    TrainerOptions o;
    o.model = "resnet14";
    o.dataset = "test";
    o.out = dir / (device_batches ? "device" : "per_image");
    o.epochs = 2;
    o.batch_size = 24;  // 56 = 2 x 24 + 8: a last partial batch
    o.lr = 0.05;
    o.seed = 3;
    o.plots = false;
    o.device = "cpu";
    o.device_batches = device_batches;
    Trainer t(o, data);
    metrics.push_back(t.run());
    runs.push_back(WeightTrajectory::load(t.directory() / "trajectory"));
  }
  CATCH_REQUIRE(runs[0].size() == 1 + 2 * 3);
  CATCH_REQUIRE(runs[1].size() == runs[0].size());
  for (std::size_t t = 0; t < runs[0].size(); ++t) CATCH_CHECK(runs[0].snapshot(t) == runs[1].snapshot(t));
  for (std::size_t e = 1; e < metrics[0].size(); ++e) {
    CATCH_CHECK(metrics[0][e].train_loss == metrics[1][e].train_loss);
    CATCH_CHECK(metrics[0][e].test_loss == metrics[1][e].test_loss);
  }
}

CATCH_TEST_CASE("Trainer: the snapshot queue runs tasks in order, and stopped it finishes the queued commits",
                "[trainer][batches]") {
  torch::nn::Linear net(3, 2);
  std::vector<std::string> events;
  {
    anodiff::detail::SnapshotQueue queue([&](const float*, const std::vector<double>& row) {
      events.push_back("s" + std::to_string(int(row[0])));
    });
    queue.push(*net, {0.0});
    queue.post([&] { events.push_back("commit"); });
    queue.push(*net, {1.0});
    queue.drain();
  }
  CATCH_CHECK(events == std::vector<std::string>{"s0", "commit", "s1"});

  // Stopped while items wait (the worker held in its first snapshot): the snapshots up to the last task and the
  // task run, the snapshot after it is dropped, as when a run dies after an epoch's commit was queued.
  events.clear();
  std::atomic<bool> open{false};
  {
    anodiff::detail::SnapshotQueue queue([&](const float*, const std::vector<double>& row) {
      while (!open) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      events.push_back("s" + std::to_string(int(row[0])));
    });
    queue.push(*net, {0.0});
    queue.push(*net, {1.0});
    queue.post([&] { events.push_back("commit"); });
    queue.push(*net, {2.0});
    queue.on_stopping = [&] { open = true; };  // the worker is let go once the destructor has dropped s2
  }  // the destructor drops s2 at once, then waits for the worker
  CATCH_CHECK(events == std::vector<std::string>{"s0", "s1", "commit"});

  anodiff::detail::SnapshotQueue failing([](const float*, const std::vector<double>&) {});
  failing.post([] { throw std::runtime_error("checkpoint: disk full"); });
  CATCH_CHECK_THROWS_WITH(failing.drain(), "checkpoint: disk full");
}
