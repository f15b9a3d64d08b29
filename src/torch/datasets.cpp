#include "anodiff/torch/datasets.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "torch/detail/dataset_files.hpp"

namespace anodiff {
namespace fs = std::filesystem;

Dataset Dataset::first(std::int64_t n) const {
  if (n <= 0 || n >= size()) return *this;
  Dataset d = *this;
  d.images = images.slice(0, 0, n).clone();
  d.labels = labels.slice(0, 0, n).clone();
  return d;
}

namespace {

// The tensors of an ImageSet (uint8 images (n, C, 32, 32), int64 labels), copied.
Dataset to_dataset(detail::ImageSet&& s) {
  Dataset d;
  d.images = torch::from_blob(s.images.data(), {s.n, s.channels, 32, 32}, torch::kUInt8).clone();
  d.labels = torch::from_blob(s.labels.data(), {s.n}, torch::kInt64).clone();
  return d;
}

fs::path find_idx(const fs::path& dir, const std::string& stem) {
  for (const auto& name : {stem + ".gz", stem}) {
    if (fs::exists(dir / name)) return dir / name;
  }
  throw InputError(fmt::format("{}: no such file (nor {}.gz): expected the IDX files of MNIST/Fashion-MNIST in {}",
                               (dir / stem).string(), stem, dir.string()));
}

Dataset read_idx_pair(const fs::path& images_file, const fs::path& labels_file) {
  return to_dataset(detail::parse_idx(detail::read_gzip_or_plain(images_file), detail::read_gzip_or_plain(labels_file),
                                      images_file.string(), labels_file.string()));
}

}  // namespace

Dataset read_cifar10_file(const fs::path& file) {
  Dataset d = to_dataset(detail::parse_cifar10(detail::read_plain(file), file.string()));
  d.name = "cifar10";
  d.mean = {125.3 / 255, 123.0 / 255, 113.9 / 255};
  d.std = {63.0 / 255, 62.1 / 255, 66.7 / 255};
  return d;
}

DataSplit load_cifar10(const fs::path& dir) {
  if (dir.empty() || !fs::is_directory(dir)) {
    throw InputError(fmt::format("{}: no such directory: expected CIFAR-10's binary files (data_batch_1.bin .. "
                                 "data_batch_5.bin, test_batch.bin) there",
                                 dir.empty() ? std::string("(no data folder given)") : dir.string()));
  }
  auto check = [](const Dataset& d, const fs::path& f) {
    if (d.size() != 10000) {
      throw InputError(fmt::format("{}: expected 10,000 records, found {}", f.string(), d.size()));
    }
  };
  std::vector<torch::Tensor> images, labels;
  for (int b = 1; b <= 5; ++b) {
    const fs::path f = dir / fmt::format("data_batch_{}.bin", b);
    const auto d = read_cifar10_file(f);
    check(d, f);
    images.push_back(d.images);
    labels.push_back(d.labels);
  }
  DataSplit s;
  s.test = read_cifar10_file(dir / "test_batch.bin");
  check(s.test, dir / "test_batch.bin");
  s.train = s.test;
  s.train.images = torch::cat(images);
  s.train.labels = torch::cat(labels);
  return s;
}

DataSplit load_idx_dataset(const fs::path& dir, bool fashion) {
  if (dir.empty() || !fs::is_directory(dir)) {
    throw InputError(fmt::format("{}: no such directory: expected the IDX files of {} there", dir.string(),
                                 fashion ? "Fashion-MNIST" : "MNIST"));
  }
  DataSplit s;
  s.train = read_idx_pair(find_idx(dir, "train-images-idx3-ubyte"), find_idx(dir, "train-labels-idx1-ubyte"));
  s.test = read_idx_pair(find_idx(dir, "t10k-images-idx3-ubyte"), find_idx(dir, "t10k-labels-idx1-ubyte"));
  for (auto* d : {&s.train, &s.test}) {
    d->name = fashion ? "fashion-mnist" : "mnist";
    d->mean = {fashion ? 0.2860 : 0.1307};
    d->std = {fashion ? 0.3530 : 0.3081};
  }
  return s;
}

DataSplit make_gauss_dataset(std::int64_t train, std::int64_t test, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  DataSplit s;
  for (auto [d, n] : {std::pair{&s.train, train}, std::pair{&s.test, test}}) {
    d->name = "gauss";
    d->images = torch::rand({n, 3, 32, 32}, gen, torch::kFloat32);
    d->labels = torch::randint(0, 9, {n}, gen, torch::kInt64);
    d->mean = {0.1307, 0.1307, 0.1307};
    d->std = {0.3081, 0.3081, 0.3081};
    d->classes = 10;
  }
  return s;
}

DataSplit load_dataset(const std::string& name, const fs::path& dir) {
  if (name == "cifar10") return load_cifar10(dir);
  if (name == "mnist") return load_idx_dataset(dir, false);
  if (name == "fashion-mnist") return load_idx_dataset(dir.empty() ? fs::path(kFashionMnistDir) : dir, true);
  if (name == "gauss") return make_gauss_dataset();
  throw std::invalid_argument(
      fmt::format("unknown data set '{}': expected cifar10, mnist, fashion-mnist or gauss", name));
}

torch::Tensor make_batch(const Dataset& data, const std::vector<std::int64_t>& indices, bool augment,
                         std::mt19937_64& generator) {
  const std::int64_t B = std::int64_t(indices.size()), C = data.channels();
  auto index = torch::from_blob(const_cast<std::int64_t*>(indices.data()), {B}, torch::kInt64);
  torch::Tensor x = data.images.index_select(0, index).to(torch::kFloat32);
  if (data.images.scalar_type() == torch::kUInt8) x.div_(255.0);
  if (augment) {
    // Zero padding of 4 pixels, a random 32x32 crop and a random horizontal flip, per image (before normalising,
    // so padded pixels are black, as torchvision's RandomCrop on the PIL image).
    auto padded = torch::constant_pad_nd(x, {4, 4, 4, 4}, 0.0);
    std::uniform_int_distribution<int> offset(0, 8), coin(0, 1);
    auto out = torch::empty_like(x);
    for (std::int64_t i = 0; i < B; ++i) {
      const int dy = offset(generator), dx = offset(generator);
      auto crop = padded[i].slice(1, dy, dy + 32).slice(2, dx, dx + 32);
      out[i].copy_(coin(generator) ? crop.flip({2}) : crop);
    }
    x = out;
  }
  auto mean = torch::tensor(data.mean, torch::kFloat32).view({1, C, 1, 1});
  auto stdv = torch::tensor(data.std, torch::kFloat32).view({1, C, 1, 1});
  return (x - mean) / stdv;
}

DeviceBatches::DeviceBatches(const Dataset& data, torch::Device device) : device_(device) {
  const auto& im = data.images;
  const bool u8 = im.defined() && im.scalar_type() == torch::kUInt8;
  if (!im.defined() || im.dim() != 4 || im.size(2) != 32 || im.size(3) != 32 ||
      !(u8 || im.scalar_type() == torch::kFloat32)) {
    throw std::invalid_argument(fmt::format(
        "DeviceBatches: expected uint8 or float32 images of shape (N, C, 32, 32), found {} of shape {}",
        im.defined() ? std::string(c10::toString(im.scalar_type())) : std::string("none"),
        im.defined() ? fmt::format("({})", fmt::join(im.sizes(), ", ")) : std::string("()")));
  }
  const std::int64_t C = im.size(1);
  if (std::int64_t(data.mean.size()) != C || std::int64_t(data.std.size()) != C) {
    throw std::invalid_argument(fmt::format("DeviceBatches: expected {} per-channel means and stds, found {} and {}", C,
                                            data.mean.size(), data.std.size()));
  }
  images_ = im.to(device_);
  labels_ = data.labels.to(device_);
  // The normalisation as make_batch computes it, on the CPU (the same float operations on the same values), so the
  // device only looks values up: bit-identical whatever the device does for a division by a scalar.
  auto mean = torch::tensor(data.mean, torch::kFloat32).view({1, C, 1, 1});
  auto stdv = torch::tensor(data.std, torch::kFloat32).view({1, C, 1, 1});
  if (u8) {
    auto v = torch::arange(256, torch::kFloat32).div_(255.0).view({1, 1, 1, 256});
    table_ = ((v - mean) / stdv).reshape({C * 256}).to(device_);
    channel_base_ = (torch::arange(C, torch::kInt64) * 256).view({1, C, 1, 1}).to(device_);
  } else {
    mean_ = mean.to(device_);
    std_ = stdv.to(device_);
  }
}

torch::Tensor DeviceBatches::index_on_device(const std::vector<std::int64_t>& indices) const {
  const std::int64_t n = std::int64_t(indices.size());
  auto index = torch::from_blob(const_cast<std::int64_t*>(indices.data()), {n}, torch::kInt64);
  return device_.is_cpu() ? index : index.to(device_);
}

torch::Tensor DeviceBatches::images(const std::vector<std::int64_t>& indices, bool augment,
                                    std::mt19937_64& generator) const {
  const std::int64_t B = std::int64_t(indices.size()), C = images_.size(1);
  torch::Tensor x = images_.index_select(0, index_on_device(indices));
  if (augment) {
    // make_batch's draws, in its order: dy, dx, flip of image 0, then of image 1, ...
    std::uniform_int_distribution<int> offset(0, 8), coin(0, 1);
    auto draws = torch::empty({3, B}, torch::kInt64);
    auto* d = draws.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < B; ++i) {
      d[i] = offset(generator);
      d[B + i] = offset(generator);
      d[2 * B + i] = coin(generator);
    }
    if (!device_.is_cpu()) draws = draws.to(device_);
    // Output pixel (y, x) of image i is padded pixel (y + dy, x' + dx) of the 40x40 zero padding, x' = 31 - x when
    // flipped: one gather over the flattened padded images.
    const auto r = torch::arange(32, torch::TensorOptions().dtype(torch::kInt64).device(device_)).view({1, 32});
    const auto rows = r + draws[0].view({B, 1});
    const auto cols = torch::where(draws[2].view({B, 1}).to(torch::kBool), 31 - r, r) + draws[1].view({B, 1});
    const auto where = (rows.unsqueeze(2) * 40 + cols.unsqueeze(1)).view({B, 1, 1024}).expand({B, C, 1024});
    x = torch::constant_pad_nd(x, {4, 4, 4, 4}, 0).view({B, C, 1600}).gather(2, where).view({B, C, 32, 32});
  }
  if (table_.defined()) {
    // Padded pixels are byte 0, whose normalised value is make_batch's for its zero padding.
    return table_.index_select(0, (x.to(torch::kInt64) + channel_base_).view({-1})).view({B, C, 32, 32});
  }
  return (x - mean_) / std_;
}

torch::Tensor DeviceBatches::labels(const std::vector<std::int64_t>& indices) const {
  return labels_.index_select(0, index_on_device(indices));
}

std::vector<std::int64_t> epoch_order(std::int64_t n, std::uint64_t seed, std::int64_t epoch) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed * 1000003ull + static_cast<std::uint64_t>(epoch) + 1);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

}  // namespace anodiff
