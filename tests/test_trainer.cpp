#define CATCH_CONFIG_PREFIX_ALL  // glog (pulled in by LibTorch) redefines CHECK
#include <catch2/catch.hpp>

#include <algorithm>

#include <fstream>

#include <caffe2/serialize/inline_container.h>
#include <zlib.h>

#include <torch/torch.h>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/base/error.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/torch/parameters.hpp"
#include "anodiff/analysis/random_projection.hpp"
#include "anodiff/torch/trainer.hpp"
#include "torch/detail/dataset_files.hpp"
#include "torch/detail/snapshot_queue.hpp"
#include "torch/detail/state_dict_reader.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "test_helpers.hpp"

using namespace anodiff;
namespace fs = std::filesystem;

namespace {

// A learnable toy set: the label sets the brightness of a 3x32x32 image, plus noise.
DataSplit toy_data(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  DataSplit s;
  for (auto* d : {&s.train, &s.test}) {
    d->name = "toy";
    d->labels = torch::randint(0, 10, {n}, torch::kInt64);
    auto level = d->labels.to(torch::kFloat32).view({n, 1, 1, 1}) * 20.0 + 30.0;
    d->images = (level + torch::randn({n, 3, 32, 32}) * 10.0).clamp(0, 255).to(torch::kUInt8);
    d->mean = {0.5, 0.5, 0.5};
    d->std = {0.25, 0.25, 0.25};
  }
  return s;
}

TrainerOptions tiny_options(const fs::path& out) {
  TrainerOptions o;
  o.model = "resnet14";
  o.dataset = "toy";
  o.out = out;
  o.epochs = 2;
  o.batch_size = 32;
  o.lr = 0.05;
  o.plots = false;
  return o;
}

std::string cifar_records(const std::vector<int>& labels) {
  std::string bytes;
  for (int l : labels) {
    bytes += static_cast<char>(l);
    bytes += std::string(3072, static_cast<char>(l * 10));
  }
  return bytes;
}

}  // namespace

CATCH_TEST_CASE("models: the study's parameter counts pin the architectures", "[models]") {
  const std::vector<std::pair<std::string, std::size_t>> expected = {
      {"resnet14", 175258}, {"resnet14_noshort", 172506}, {"resnet20", 272474},
      {"resnet56", 855770}, {"resnet110", 1730714},       {"vgg9", 2789706}};
  for (const auto& [name, count] : expected) {
    CATCH_INFO(name);
    CATCH_CHECK(parameter_count(*make_model(name)) == count);
  }
  auto net = make_model("resnet20", 1);  // a 1-channel first convolution for (Fashion-)MNIST
  CATCH_CHECK(net->forward(torch::zeros({2, 1, 32, 32})).sizes() == std::vector<std::int64_t>{2, 10});
  CATCH_CHECK(make_model("vgg9")->forward(torch::zeros({2, 3, 32, 32})).size(1) == 10);
  CATCH_CHECK_THROWS_WITH(make_model("resnet18"), Catch::Contains("unknown model 'resnet18'") &&
                                                      Catch::Contains("resnet14"));
  // The study's initialisation, seeded.
  std::vector<float> a, b, c;
  flatten_parameters(*make_model("resnet14", 3, 10, 0), a);
  flatten_parameters(*make_model("resnet14", 3, 10, 0), b);
  flatten_parameters(*make_model("resnet14", 3, 10, 1), c);
  CATCH_CHECK(a == b);
  CATCH_CHECK(a != c);
  const auto linear = torch::from_blob(a.data() + a.size() - 650, {640}).clone();
  CATCH_CHECK(linear.std().item<double>() == Approx(1e-3).epsilon(0.15));
}

CATCH_TEST_CASE("models: the parameter layout names every tensor and the scale-invariant groups", "[models]") {
  // ResNet-14: 13 convolutions + 2 shortcut convolutions, each followed by BN, each its own group.
  const auto resnet = make_model("resnet14");
  const auto r = parameter_layout(*resnet);
  CATCH_CHECK(r.dimension() == parameter_count(*resnet));
  CATCH_CHECK(r.groups() == 15);
  for (const auto& t : r.tensors) CATCH_CHECK((t.group >= 0) == (t.shape.size() == 4));
  // VGG-9: 7 convolutions (weight and bias together) and fc.0; the classifier and BN are not scale-invariant.
  const auto vgg = parameter_layout(*make_model("vgg9"));
  CATCH_CHECK(vgg.groups() == 8);
  for (const auto& t : vgg.tensors) {
    CATCH_INFO(t.name);
    const bool conv = t.name.rfind("features.", 0) == 0 && (t.shape.size() == 4 ||
                      std::any_of(vgg.tensors.begin(), vgg.tensors.end(), [&](const auto& u) {
                        return u.shape.size() == 4 && u.name.substr(0, u.name.rfind('.')) == t.name.substr(0, t.name.rfind('.'));
                      }));
    CATCH_CHECK((t.group >= 0) == (conv || t.name.rfind("fc.0.", 0) == 0));
  }
  // The study's fully connected networks: no BatchNorm, no group; fc3 is 1024-100-100-10 on 1-channel images.
  const auto fc = make_model("fc3", 1);
  CATCH_CHECK(parameter_count(*fc) == 1024 * 100 + 100 * 100 + 100 * 10);
  CATCH_CHECK(parameter_layout(*fc).groups() == 0);
  CATCH_CHECK(parameter_count(*make_model("fc20")) == 3072 * 100 + 18 * 100 * 100 + 100 * 10);
  CATCH_CHECK(fc->forward(torch::zeros({2, 1, 32, 32})).sizes() == std::vector<std::int64_t>{2, 10});
  // Written and read back.
  const test::TempDir tmp;  // unique per process: two builds' tests may run at once
  const auto path = tmp.path / "layout.csv";
  r.write_csv(path);
  const auto back = ParameterLayout::read_csv(path);
  CATCH_REQUIRE(back.tensors.size() == r.tensors.size());
  for (std::size_t i = 0; i < r.tensors.size(); ++i) {
    CATCH_CHECK(back.tensors[i].name == r.tensors[i].name);
    CATCH_CHECK(back.tensors[i].shape == r.tensors[i].shape);
    CATCH_CHECK(back.tensors[i].offset == r.tensors[i].offset);
    CATCH_CHECK(back.tensors[i].group == r.tensors[i].group);
  }
  std::filesystem::remove(path);
}

CATCH_TEST_CASE("CIFAR-10 reader: records, sizes and labels are checked", "[data]") {
  test::TempDir dir;
  test::write_bytes(dir / "ok.bin", cifar_records({3, 9, 0}));
  const auto d = read_cifar10_file(dir / "ok.bin");
  CATCH_REQUIRE(d.size() == 3);
  CATCH_CHECK(d.labels[1].item<std::int64_t>() == 9);
  CATCH_CHECK(d.images[0][2][31][31].item<std::uint8_t>() == 30);
  test::write_bytes(dir / "short.bin", cifar_records({1, 2}).substr(0, 5000));
  CATCH_CHECK_THROWS_WITH(read_cifar10_file(dir / "short.bin"),
                          Catch::Contains("short.bin") && Catch::Contains("3073") && Catch::Contains("5000"));
  test::write_bytes(dir / "label.bin", cifar_records({1, 12}));
  CATCH_CHECK_THROWS_WITH(read_cifar10_file(dir / "label.bin"),
                          Catch::Contains("label.bin") && Catch::Contains("record 1") && Catch::Contains("found 12"));
  // A directory in the layout of the binary version, but with files of the wrong record count.
  for (int b = 1; b <= 5; ++b) test::write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar_records({1}));
  test::write_bytes(dir / "test_batch.bin", cifar_records({1}));
  CATCH_CHECK_THROWS_WITH(load_cifar10(dir.path), Catch::Contains("data_batch_1.bin") &&
                                                      Catch::Contains("expected 10,000 records, found 1"));
  CATCH_CHECK_THROWS_AS(load_cifar10(dir / "missing"), InputError);
  CATCH_CHECK_THROWS_WITH(load_dataset("imagenet"), Catch::Contains("unknown data set 'imagenet'"));
}

CATCH_TEST_CASE("Fashion-MNIST: Debian's files load, padded to 32x32", "[data]") {
  // A dependency of the test command (scripts/install-deps.sh): missing, the test fails.
  CATCH_REQUIRE(fs::exists(kFashionMnistDir));
  const auto s = load_dataset("fashion-mnist");
  CATCH_CHECK(s.train.size() == 60000);
  CATCH_CHECK(s.test.size() == 10000);
  CATCH_CHECK(s.train.images.sizes() == std::vector<std::int64_t>{60000, 1, 32, 32});
  CATCH_CHECK(s.train.images.slice(2, 0, 2).max().item<int>() == 0);  // the padding is zero
  std::mt19937_64 gen(0);
  const auto batch = make_batch(s.train, {0, 1, 2, 3}, true, gen);
  CATCH_CHECK(batch.sizes() == std::vector<std::int64_t>{4, 1, 32, 32});
}

CATCH_TEST_CASE("augmentation: seeded crops and flips of the zero-padded image", "[data]") {
  const auto d = toy_data(8, 1).train;
  std::mt19937_64 g1(5), g2(5), g3(6);
  const std::vector<std::int64_t> idx = {0, 1, 2, 3, 4, 5, 6, 7};
  CATCH_CHECK(torch::equal(make_batch(d, idx, true, g1), make_batch(d, idx, true, g2)));
  CATCH_CHECK_FALSE(torch::equal(make_batch(d, idx, true, g1), make_batch(d, idx, true, g3)));
  std::mt19937_64 g4(0);
  const auto plain = make_batch(d, idx, false, g4);
  CATCH_CHECK(plain.mean().item<double>() == Approx(((d.images.to(torch::kFloat32) / 255 - 0.5) / 0.25).mean().item<double>()));
}

CATCH_TEST_CASE("trainer: training lowers the loss and records theta after every step", "[trainer]") {
  test::TempDir dir;
  auto o = tiny_options(dir.path);
  o.epochs = 3;
  Trainer trainer(o, toy_data(256, 2));
  const auto metrics = trainer.run();
  CATCH_REQUIRE(metrics.size() == 4);  // epoch 0 (initial model) and three epochs
  CATCH_CHECK(metrics[3].train_loss < metrics[1].train_loss);
  CATCH_CHECK(metrics[3].train_loss < 2.2);
  const auto traj = WeightTrajectory::load(trainer.directory() / "trajectory");
  CATCH_REQUIRE(traj.size() == 1 + 3 * 8);
  // Snapshot 0 is the seed's initialisation; the last one the trained model.
  std::vector<float> init, now;
  flatten_parameters(*make_model("resnet14", 3, 10, 0), init);
  flatten_parameters(*trainer.model(), now);
  const auto first = traj.snapshot(0), last = traj.snapshot(traj.size() - 1);
  for (std::size_t j = 0; j < init.size(); j += 997) {
    CATCH_CHECK(first[j] == init[j]);
    CATCH_CHECK(last[j] == now[j]);
  }
  // Snapshot 8 is the model after the first epoch's 8 steps: the checkpoint of epoch 1.
  auto m1 = make_model("resnet14");
  torch::serialize::InputArchive a;
  a.load_from(checkpoint_path(trainer.directory(), 1).string());
  m1->load(a);
  std::vector<float> e1;
  flatten_parameters(*m1, e1);
  const auto s8 = traj.snapshot(8);
  for (std::size_t j = 0; j < e1.size(); j += 101) CATCH_CHECK(s8[j] == e1[j]);
  const auto loss = traj.loss();
  CATCH_CHECK(std::isnan(loss[0]));
  CATCH_CHECK(loss[1] > 0);
  CATCH_CHECK(fs::exists(trainer.directory() / "metrics.csv"));
  CATCH_CHECK(trainer.directory().filename() == "resnet14_sgd_lr=0.05_bs=32_wd=0_mom=0_save_epoch=1");
  // The layout beside the chunks covers every coordinate, tensor by tensor, in the order of the snapshots.
  const auto layout = ParameterLayout::read_csv(trainer.directory() / "trajectory" / "layout.csv");
  CATCH_CHECK(layout.dimension() == traj.dimension());
  CATCH_CHECK(layout.tensors.front().name == "conv1.weight");
  CATCH_CHECK(layout.groups() == 15);
  const auto linear = std::find_if(layout.tensors.begin(), layout.tensors.end(),
                                   [](const auto& t) { return t.name == "linear.weight"; });
  CATCH_REQUIRE(linear != layout.tensors.end());
  for (const auto& t : {*linear}) {
    CATCH_CHECK(first[t.offset] == init[t.offset]);
    CATCH_CHECK(t.offset + t.size + 10 == traj.dimension());  // linear.bias (10 classes) comes last
  }
}

CATCH_TEST_CASE("trainer: a run killed and restarted equals one never interrupted", "[trainer][resume]") {
  test::TempDir dir;
  const auto data = toy_data(96, 3);
  auto o = tiny_options(dir / "straight");
  o.momentum = 0.9;  // the optimizer state must survive the restart too
  o.save_gradients = true;
  Trainer straight(o, data);
  straight.run();

  auto r = o;
  r.out = dir / "resumed";
  const fs::path run = dir / "resumed" / Trainer::study_run_name(r);
  // Killed at a step the test chooses: step 5 of 3 per epoch (96 samples, batches of 32), mid epoch 2, its snapshot
  // handed to the recorder. The exception stands for SIGKILL (tests/cli_train.sh sends a real one): nothing after it
  // is written, and what was queued is dropped.
  struct Killed {};
  r.after_step = [](std::int64_t step) {
    if (step == 5) throw Killed{};
  };
  CATCH_CHECK_THROWS_AS(Trainer(r, data).run(), Killed);
  CATCH_CHECK(fs::exists(checkpoint_path(run, 1)));
  CATCH_CHECK_FALSE(fs::exists(checkpoint_path(run, 2)));
  CATCH_CHECK(WeightTrajectory::load(run / "trajectory").size() == 1 + 3);
  r.after_step = nullptr;
  r.epochs = 2;
  Trainer(r, data).run();
  // Killed after the second epoch's chunk was written but before its checkpoint: simulated by deleting the
  // checkpoint of epoch 2.
  fs::remove(checkpoint_path(run, 2));
  Trainer again(r, data);
  again.run();

  const auto a = WeightTrajectory::load(straight.directory() / "trajectory");
  const auto b = WeightTrajectory::load(run / "trajectory");
  CATCH_REQUIRE(a.size() == b.size());
  for (std::size_t t = 0; t < a.size(); ++t) CATCH_CHECK(a.snapshot(t) == b.snapshot(t));
  CATCH_CHECK(a.loss().back() == b.loss().back());
  const auto ga = WeightTrajectory::load(straight.directory() / "gradients");
  const auto gb = WeightTrajectory::load(run / "gradients");
  CATCH_CHECK(ga.size() == gb.size());
  CATCH_CHECK(ga.snapshot(ga.size() - 1) == gb.snapshot(gb.size() - 1));
  const auto ma = StepTable::read_csv(straight.directory() / "metrics.csv");
  const auto mb = StepTable::read_csv(run / "metrics.csv");
  CATCH_CHECK(*ma.column("test_loss") == *mb.column("test_loss"));
  const auto& la = *ma.column("train_loss");
  const auto& lb = *mb.column("train_loss");
  CATCH_REQUIRE(la.size() == 3);
  CATCH_CHECK(std::vector<double>(la.begin() + 1, la.end()) == std::vector<double>(lb.begin() + 1, lb.end()));
  const auto noise = StepTable::read_csv(run / "gradients" / "noise.csv");
  CATCH_CHECK(noise.rows() == 2 * 3);
  // Another configuration in the same directory is refused.
  auto other = r;
  other.lr = 0.05;
  other.run_name = Trainer::study_run_name(r);
  other.seed = 5;
  CATCH_CHECK_THROWS_WITH(Trainer(other, data), Catch::Contains("seed = 0") && Catch::Contains("ask for 5"));
}

CATCH_TEST_CASE("trainer: a projection of theta is recorded beside it", "[trainer]") {
  test::TempDir dir;
  auto o = tiny_options(dir.path);
  o.epochs = 1;
  o.projection = 64;
  o.record_weights = false;
  Trainer t(o, toy_data(64, 4));
  t.run();
  CATCH_CHECK_FALSE(fs::exists(t.directory() / "trajectory"));
  const auto p = WeightTrajectory::load(t.directory() / "projection");
  CATCH_REQUIRE(p.size() == 3);
  CATCH_REQUIRE(p.dimension() == 64);
  // Each row is the count sketch (random_projection.hpp, seeded by the run's seed) of that step's weights: rows 0 and
  // 2 (two steps an epoch) against the weights of the checkpoints of epochs 0 and 1, flattened and sketched here.
  // The sketch itself is checked against its definition in test_msd.cpp.
  const RandomProjection sketch(parameter_count(*t.model()), 64, o.seed);
  for (const auto& [row, epoch] : {std::pair<std::size_t, std::int64_t>{0, 0}, {2, 1}}) {
    CATCH_INFO("snapshot " << row << ", checkpoint of epoch " << epoch);
    auto m = make_model(o.model, 3, 10, 99);
    load_checkpoint(*m, t.directory(), epoch, torch::kCPU);
    std::vector<float> w, s(64);
    flatten_parameters(*m, w);
    sketch.apply(w.data(), s.data());
    const auto got = p.snapshot(row);
    double worst = 0, size = 0;
    for (std::size_t k = 0; k < 64; ++k) worst = std::max(worst, std::fabs(got[k] - s[k])), size = std::max(size, double(std::fabs(s[k])));
    CATCH_CHECK(worst <= 1e-6 * size);
  }
}

CATCH_TEST_CASE("state_dict: written and read back by name, wrong architectures refused", "[models]") {
  test::TempDir dir;
  auto a = make_model("resnet14", 3, 10, 1);
  save_state_dict(*a, (dir / "a.pt").string());
  auto b = make_model("resnet14", 3, 10, 2);
  load_state_dict(*b, (dir / "a.pt").string());
  std::vector<float> fa, fb;
  flatten_parameters(*a, fa);
  flatten_parameters(*b, fb);
  CATCH_CHECK(fa == fb);
  auto c = make_model("resnet20");
  CATCH_CHECK_THROWS_WITH(load_state_dict(*c, (dir / "a.pt").string()),
                          Catch::Contains("a.pt") && Catch::Contains("layer1.2.conv1.weight"));
  test::write_bytes(dir / "junk.pt", "not a pickle");
  CATCH_CHECK_THROWS_AS(load_state_dict(*c, (dir / "junk.pt").string()), InputError);
}

CATCH_TEST_CASE("Trainer: the snapshot queue keeps order, isolates snapshots and reports the sink's errors", "[trainer]") {
  torch::nn::Linear net(3, 2);
  std::vector<std::vector<float>> seen;
  std::vector<double> steps;
  {
    anodiff::detail::SnapshotQueue queue(
        [&](const float* w, const std::vector<double>& row) {
          seen.emplace_back(w, w + 8);
          steps.push_back(row[0]);
        },
        2);
    for (int i = 0; i < 20; ++i) {
      queue.push(*net, {double(i)});
      torch::NoGradGuard guard;
      net->weight.add_(1.0);  // after the push: must not reach snapshot i
    }
    queue.drain();
  }
  CATCH_REQUIRE(seen.size() == 20);
  for (int i = 0; i < 20; ++i) {
    CATCH_CHECK(steps[std::size_t(i)] == double(i));
    if (i > 0) CATCH_CHECK(seen[std::size_t(i)][0] == Approx(seen[std::size_t(i - 1)][0] + 1.0f));
  }
  anodiff::detail::SnapshotQueue failing([](const float*, const std::vector<double>&) { throw std::runtime_error("disk full"); });
  failing.push(*net, {0.0});
  CATCH_CHECK_THROWS_WITH(failing.drain(), "disk full");
}

// ------------------------------------------------------------------------------------------------ hostile input
// Regression tests of issue 15's overflow-proof readers: counts a file declares are checked against its real size
// before anything is allocated.
namespace {

std::string big_endian32(std::uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, std::size_t pixels) {
  return big_endian32(0x803) + big_endian32(n) + big_endian32(rows) + big_endian32(cols) + std::string(pixels, '\x7f');
}

std::string idx_labels(std::uint32_t n, std::size_t labels) {
  return big_endian32(0x801) + big_endian32(n) + std::string(labels, '\x03');
}

std::string idx_message(const std::string& images, const std::string& labels) {
  try {
    (void)anodiff::detail::parse_idx({images.begin(), images.end()}, {labels.begin(), labels.end()}, "img", "lab");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// A state_dict archive as torch.save writes it, with data.pkl and data/0 as given.
void write_archive(const fs::path& file, const std::string& pickle, const std::string& storage) {
  caffe2::serialize::PyTorchStreamWriter writer(file.string());
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  writer.writeRecord("data/0", storage.data(), storage.size());
  writer.writeEndOfFile();
}

// The pickle of {'w': FloatStorage '0' of `numel` elements viewed with `size`, `stride`, `offset`} (protocol 2).
std::string state_pickle(const std::string& numel, const std::string& size, const std::string& stride,
                         const std::string& offset = std::string("K\0", 2)) {
  auto text = [](const std::string& s) {
    return "X" + std::string{char(s.size()), 0, 0, 0} + s;
  };
  return "\x80\x02}(" + text("w") + "ctorch._utils\n_rebuild_tensor_v2\n(" + "(" + text("storage") +
         "ctorch\nFloatStorage\n" + text("0") + text("cpu") + numel + "tQ" + offset + size + stride + "\x89tRu.";
}

std::string state_dict_message(const fs::path& file) {
  try {
    (void)anodiff::detail::read_state_dict(file.string());
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

CATCH_TEST_CASE("IDX reader: counts and sizes are checked against the file before allocating", "[data][errors]") {
  CATCH_CHECK(idx_message(idx_images(2, 28, 28, 2 * 784), idx_labels(2, 2)) == "no error");
  // 2^32 - 1 images of 0x0 pixels: "fitted" any file and allocated 4 TB of padded images.
  CATCH_CHECK_THAT(idx_message(idx_images(0xffffffff, 0, 0, 0), idx_labels(0xffffffff, 4)),
                   Catch::Contains("img") && Catch::Contains("1x1 to 32x32, found 0x0"));
  CATCH_CHECK_THAT(idx_message(idx_images(0xffffffff, 28, 28, 784), idx_labels(0xffffffff, 4)),
                   Catch::Contains("img: truncated") && Catch::Contains("holds 800"));
  CATCH_CHECK_THAT(idx_message(idx_images(3, 28, 28, 3 * 784), idx_labels(3, 2)),
                   Catch::Contains("lab: truncated: 3 labels need 11 bytes"));
  CATCH_CHECK_THAT(idx_message(idx_images(0, 28, 28, 0), idx_labels(0, 0)), Catch::Contains("at least one image"));
  CATCH_CHECK_THAT(idx_message(idx_images(1, 33, 28, 33 * 28), idx_labels(1, 1)), Catch::Contains("found 33x28"));
  auto twelve = idx_labels(1, 0) + std::string(1, char(12));
  CATCH_CHECK_THAT(idx_message(idx_images(1, 2, 2, 4), twelve), Catch::Contains("label 12 of sample 0"));
  // A gzip file that expands past the limit (a gzip bomb) is refused while decompressing, not after.
  test::TempDir dir;
  {
    gzFile gz = gzopen((dir / "bomb.gz").c_str(), "wb9");
    CATCH_REQUIRE(gz != nullptr);
    const std::string zeros(1 << 20, '\0');
    for (int i = 0; i < 4; ++i) gzwrite(gz, zeros.data(), unsigned(zeros.size()));
    gzclose(gz);
  }
  CATCH_CHECK_THROWS_WITH(anodiff::detail::read_gzip_or_plain(dir / "bomb.gz", 1 << 20),
                          Catch::Contains("bomb.gz") && Catch::Contains("more than 1048576 bytes"));
  CATCH_CHECK(anodiff::detail::read_gzip_or_plain(dir / "bomb.gz").size() == 4u << 20);
  CATCH_CHECK_THROWS_WITH(anodiff::detail::read_plain(dir.path), Catch::Contains("expected a regular file"));
}

CATCH_TEST_CASE("state_dict reader: hostile pickles and archives are refused with the file named", "[models][errors]") {
  test::TempDir dir;
  const auto f = dir / "s.pt";
  const std::string four = test::bytes_of(std::vector<float>{1, 2, 3, 4});
  write_archive(f, state_pickle("K\x04", "K\x02K\x02\x86", "K\x02K\x01\x86"), four);
  const auto ok = anodiff::detail::read_state_dict(f.string());
  CATCH_REQUIRE(ok.count("w") == 1);
  CATCH_CHECK(ok.at("w")[1][1].item<float>() == 4.f);
  // A storage of 2^31 - 1 elements over a record of 16 bytes: refused before allocating 8 GB.
  write_archive(f, state_pickle("J\xff\xff\xff\x7f", "K\x02\x85", "K\x01\x85"), four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("s.pt") && Catch::Contains("shorter than its 2147483647"));
  write_archive(f, state_pickle("J\xff\xff\xff\xff", "K\x02\x85", "K\x01\x85"), four);  // -1 elements
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("has -1 elements"));
  // Stride 0 makes a view of 2^31 - 1 elements over 4: clone() would allocate them.
  write_archive(f, state_pickle("K\x04", "J\xff\xff\xff\x7f\x85", std::string("K\0\x85", 3)), four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("malformed tensor"));
  // A view past its storage (LibTorch's own check, as an InputError), a negative stride, a negative offset.
  write_archive(f, state_pickle("K\x04", "K\x05\x85", "K\x01\x85"), four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("s.pt"));
  write_archive(f, state_pickle("K\x04", "K\x02\x85", "J\xff\xff\xff\xff\x85"), four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("s.pt"));
  write_archive(f, state_pickle("K\x04", "K\x02\x85", "K\x01\x85", "J\xff\xff\xff\xff"), four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("malformed tensor"));
  // Opcodes on an empty stack (undefined behaviour before), a memo never stored, a length past the end.
  write_archive(f, std::string("\x80\x02q\0.", 5), four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("stack underflow"));
  write_archive(f, "\x80\x02" "a.", four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("stack underflow"));
  write_archive(f, "\x80\x02h\x05.", four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("memo 5 was never stored"));
  write_archive(f, "\x80\x02X\xff\xff\xff\xff" "abc", four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("truncated data.pkl"));
  write_archive(f, "\x80\x02" "ctorch\nNoSuchStorage\n)R.", four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("data.pkl calls torch.NoSuchStorage"));
  // A million items after a mark: popping them was quadratic (minutes); a list holding itself (a cycle, freed).
  write_archive(f, "\x80\x02(" + std::string(1000000, 'N') + "t.", four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("expected a dict of tensors"));
  write_archive(f, std::string("\x80\x02]q\0h\0a.", 9), four);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("expected a dict of tensors"));
  // A zip entry whose declared size exceeds the file (patched in the central directory): refused before miniz
  // allocates by it.
  write_archive(f, state_pickle("K\x04", "K\x02K\x02\x86", "K\x02K\x01\x86"), four);
  std::string zip;
  {
    std::ifstream in(f, std::ios::binary);
    zip.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto cd = zip.rfind("PK\x01\x02");
  CATCH_REQUIRE(cd != std::string::npos);
  zip.replace(cd + 20, 8, "\xff\xff\xff\x7f\xff\xff\xff\x7f");  // compressed and uncompressed sizes: 2 GB
  test::write_bytes(f, zip);
  CATCH_CHECK_THAT(state_dict_message(f), Catch::Contains("s.pt: corrupt zip archive") && Catch::Contains("2147483647"));
}

CATCH_TEST_CASE("trainer: a checkpoint past a file-size limit fails naming it, and the run resumes", "[trainer][faults]") {
  test::TempDir dir;
  const auto data = toy_data(64, 6);
  auto o = tiny_options(dir / "straight");
  o.record_weights = false;  // a small projection instead: the checkpoints (700 KB) are the big files
  o.projection = 16;
  o.momentum = 0.5;
  Trainer straight(o, data);
  straight.run();
  auto r = o;
  r.out = dir / "limited";
  std::string msg;
  try {
    test::FileSizeLimit limit(200 * 1024);
    Trainer(r, data).run();
  } catch (const IoError& e) {
    msg = e.what();
  }
  CATCH_CHECK_THAT(msg, Catch::Contains("model_epoch_0.pt") && Catch::Contains("File too large"));
  Trainer again(r, data);  // the same options, space back
  again.run();
  const auto a = WeightTrajectory::load(straight.directory() / "projection");
  const auto b = WeightTrajectory::load(again.directory() / "projection");
  CATCH_REQUIRE(a.size() == b.size());
  for (std::size_t t = 0; t < a.size(); ++t) CATCH_CHECK(a.snapshot(t) == b.snapshot(t));
  CATCH_CHECK(fs::exists(checkpoint_path(again.directory(), 2)));
}

CATCH_TEST_CASE("trainer: record_shards writes a sharded trajectory equal to the unsharded one, and resumes",
                "[trainer][resume][shards]") {
  test::TempDir dir;
  const auto data = toy_data(64, 5);
  auto o = tiny_options(dir / "whole");
  o.momentum = 0.9;
  Trainer whole(o, data);
  whole.run();

  auto s = o;
  s.out = dir / "sharded";
  s.record_shards = 3;
  const fs::path run = dir / "sharded" / Trainer::study_run_name(s);
  struct Killed {};
  s.after_step = [](std::int64_t step) {
    if (step == 3) throw Killed{};  // mid epoch 2 (2 steps an epoch)
  };
  CATCH_CHECK_THROWS_AS(Trainer(s, data).run(), Killed);
  s.after_step = nullptr;
  // A kill between the shards' chunks of an epoch: shard 2 lacks epoch 1's chunk; the readers stop at the common
  // count, and the resume truncates every shard to the checkpoint.
  fs::remove(run / "trajectory" / "shard_002" / "chunk_000001.npy");
  CATCH_CHECK(WeightTrajectory::load(run / "trajectory").size() == 1);
  fs::remove(checkpoint_path(run, 1));
  Trainer(s, data).run();

  const auto shards = WeightTrajectory::shard_directories(run / "trajectory");
  CATCH_REQUIRE(shards.size() == 3);
  const auto a = WeightTrajectory::load(whole.directory() / "trajectory");
  const auto b = WeightTrajectory::load(run / "trajectory");
  CATCH_REQUIRE(a.size() == b.size());
  CATCH_REQUIRE(a.dimension() == b.dimension());
  for (std::size_t t = 0; t < a.size(); ++t) CATCH_CHECK(a.snapshot(t) == b.snapshot(t));
  CATCH_CHECK(a.loss().back() == b.loss().back());
  const auto la = ParameterLayout::read_csv(whole.directory() / "trajectory" / "layout.csv");
  const auto lb = ParameterLayout::read_sharded(run / "trajectory");
  CATCH_REQUIRE(la.tensors.size() == lb.tensors.size());
  for (std::size_t i = 0; i < la.tensors.size(); ++i) {
    CATCH_CHECK(la.tensors[i].name == lb.tensors[i].name);
    CATCH_CHECK(la.tensors[i].offset == lb.tensors[i].offset);
    CATCH_CHECK(la.tensors[i].group == lb.tensors[i].group);
  }
  // The shards are of about equal size: none above half of the whole.
  for (const auto& d : shards) CATCH_CHECK(WeightTrajectory::load(d).dimension() * 2 < a.dimension());
  // An unsharded rerun in the sharded run's directory is refused.
  auto unsharded = s;
  unsharded.record_shards = 1;
  CATCH_CHECK_THROWS_WITH(Trainer(unsharded, data), Catch::Contains("record_shards = 3"));
  auto too_many = o;
  too_many.out = dir / "many";
  too_many.record_shards = 10000;
  CATCH_CHECK_THROWS_AS(Trainer(too_many, data), std::invalid_argument);
}
