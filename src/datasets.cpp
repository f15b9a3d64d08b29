#include "anodiff/datasets.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/error.hpp"

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

std::vector<unsigned char> read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: no such file (expected the data set here)", file.string()));
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<unsigned char> read_gzip_or_plain(const fs::path& file) {
  gzFile gz = gzopen(file.c_str(), "rb");  // reads plain files transparently
  if (gz == nullptr) throw InputError(fmt::format("{}: cannot open", file.string()));
  std::vector<unsigned char> out;
  unsigned char buf[1 << 16];
  int n;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  int err = 0;
  const char* msg = gzerror(gz, &err);
  const std::string error = err < 0 ? msg : "";
  gzclose(gz);
  if (n < 0 || !error.empty()) throw InputError(fmt::format("{}: corrupt gzip data: {}", file.string(), error));
  return out;
}

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

fs::path find_idx(const fs::path& dir, const std::string& stem) {
  for (const auto& name : {stem + ".gz", stem}) {
    if (fs::exists(dir / name)) return dir / name;
  }
  throw InputError(fmt::format("{}: no such file (nor {}.gz): expected the IDX files of MNIST/Fashion-MNIST in {}",
                               (dir / stem).string(), stem, dir.string()));
}

Dataset read_idx_pair(const fs::path& images_file, const fs::path& labels_file) {
  const auto img = read_gzip_or_plain(images_file);
  const auto lab = read_gzip_or_plain(labels_file);
  if (img.size() < 16 || big_endian(img.data()) != 0x00000803) {
    throw InputError(fmt::format("{}: expected an IDX image file (magic 0x00000803), found {}", images_file.string(),
                                 img.size() < 4 ? "a file of " + std::to_string(img.size()) + " bytes"
                                                : fmt::format("magic 0x{:08x}", big_endian(img.data()))));
  }
  if (lab.size() < 8 || big_endian(lab.data()) != 0x00000801) {
    throw InputError(fmt::format("{}: expected an IDX label file (magic 0x00000801)", labels_file.string()));
  }
  const std::int64_t n = big_endian(img.data() + 4), rows = big_endian(img.data() + 8), cols = big_endian(img.data() + 12);
  const std::int64_t nl = big_endian(lab.data() + 4);
  if (n != nl) {
    throw InputError(fmt::format("{}: {} labels for the {} images of {}", labels_file.string(), nl, n,
                                 images_file.string()));
  }
  if (rows > 32 || cols > 32) {
    throw InputError(fmt::format("{}: expected images of at most 32x32, found {}x{}", images_file.string(), rows, cols));
  }
  if (std::int64_t(img.size()) < 16 + n * rows * cols) {
    throw InputError(fmt::format("{}: truncated: {} images of {}x{} need {} bytes, the file holds {}",
                                 images_file.string(), n, rows, cols, 16 + n * rows * cols, img.size()));
  }
  if (std::int64_t(lab.size()) < 8 + n) {
    throw InputError(fmt::format("{}: truncated: {} labels need {} bytes, the file holds {}", labels_file.string(), n,
                                 8 + n, lab.size()));
  }
  Dataset d;
  d.images = torch::zeros({n, 1, 32, 32}, torch::kUInt8);
  auto* dst = d.images.data_ptr<std::uint8_t>();
  const std::int64_t top = (32 - rows) / 2, left = (32 - cols) / 2;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t r = 0; r < rows; ++r) {
      std::memcpy(dst + i * 1024 + (r + top) * 32 + left, img.data() + 16 + (i * rows + r) * cols, cols);
    }
  }
  d.labels = torch::empty({n}, torch::kInt64);
  auto* l = d.labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    l[i] = lab[8 + i];
    if (l[i] > 9) {
      throw InputError(fmt::format("{}: label {} of sample {} is outside 0..9", labels_file.string(), l[i], i));
    }
  }
  return d;
}

}  // namespace

Dataset read_cifar10_file(const fs::path& file) {
  const auto bytes = read_all(file);
  constexpr std::size_t kRecord = 1 + 3072;
  if (bytes.empty() || bytes.size() % kRecord != 0) {
    throw InputError(fmt::format("{}: expected whole CIFAR-10 records of {} bytes (1 label + 3,072 pixels), found {} "
                                 "bytes ({} records and {} bytes over)",
                                 file.string(), kRecord, bytes.size(), bytes.size() / kRecord, bytes.size() % kRecord));
  }
  const std::int64_t n = std::int64_t(bytes.size() / kRecord);
  Dataset d;
  d.name = "cifar10";
  d.images = torch::empty({n, 3, 32, 32}, torch::kUInt8);
  d.labels = torch::empty({n}, torch::kInt64);
  auto* img = d.images.data_ptr<std::uint8_t>();
  auto* lab = d.labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const unsigned char* rec = bytes.data() + i * kRecord;
    if (rec[0] > 9) {
      throw InputError(fmt::format("{}: record {}: expected a label in 0..9, found {}", file.string(), i, int(rec[0])));
    }
    lab[i] = rec[0];
    std::memcpy(img + i * 3072, rec + 1, 3072);
  }
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

std::vector<std::int64_t> epoch_order(std::int64_t n, std::uint64_t seed, std::int64_t epoch) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed * 1000003ull + static_cast<std::uint64_t>(epoch) + 1);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

}  // namespace anodiff
