#include "torch/detail/dataset_files.hpp"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"

namespace anodiff::detail {
namespace fs = std::filesystem;

namespace {

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

}  // namespace

std::vector<unsigned char> read_plain(const fs::path& file, std::size_t limit) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(fmt::format("{}: no such file (expected the data set here)", file.string()));
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw InputError(fmt::format("{}: expected a regular file", file.string()));
  const auto end = in.tellg();
  if (end < 0) throw InputError(fmt::format("{}: cannot read (a regular file expected)", file.string()));
  if (static_cast<std::uint64_t>(end) > limit) {
    throw InputError(fmt::format("{}: {} bytes: larger than any data set file anodiff reads ({} bytes at most)",
                                 file.string(), static_cast<std::uint64_t>(end), limit));
  }
  std::vector<unsigned char> bytes(static_cast<std::size_t>(end));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
    throw InputError(fmt::format("{}: cannot read (a regular file expected)", file.string()));
  }
  return bytes;
}

std::vector<unsigned char> read_gzip_or_plain(const fs::path& file, std::size_t limit) {
  gzFile gz = gzopen(file.c_str(), "rb");  // reads plain files transparently
  if (gz == nullptr) throw InputError(fmt::format("{}: cannot open", file.string()));
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(gz, gzclose);
  std::vector<unsigned char> out;
  auto buf = std::make_unique<unsigned char[]>(1 << 16);
  int n;
  while ((n = gzread(gz, buf.get(), 1 << 16)) > 0) {
    if (out.size() + std::size_t(n) > limit) {
      throw InputError(fmt::format("{}: more than {} bytes (decompressed): larger than any data set file anodiff "
                                   "reads", file.string(), limit));
    }
    out.insert(out.end(), buf.get(), buf.get() + n);
  }
  int err = 0;
  const char* msg = gzerror(gz, &err);
  const std::string error = err < 0 && msg != nullptr ? msg : "";
  if (n < 0 || !error.empty()) throw InputError(fmt::format("{}: corrupt gzip data: {}", file.string(), error));
  return out;
}

ImageSet parse_idx(const std::vector<unsigned char>& img, const std::vector<unsigned char>& lab,
                   const std::string& images_name, const std::string& labels_name) {
  if (img.size() < 16 || big_endian(img.data()) != 0x00000803) {
    throw InputError(fmt::format("{}: expected an IDX image file (magic 0x00000803), found {}", images_name,
                                 img.size() < 4 ? "a file of " + std::to_string(img.size()) + " bytes"
                                                : fmt::format("magic 0x{:08x}", big_endian(img.data()))));
  }
  if (lab.size() < 8 || big_endian(lab.data()) != 0x00000801) {
    throw InputError(fmt::format("{}: expected an IDX label file (magic 0x00000801)", labels_name));
  }
  // Each count is at most 2^32 - 1 and checked before use: n rows cols <= 2^32 * 32 * 32 fits 64 bits.
  const std::uint64_t n = big_endian(img.data() + 4), rows = big_endian(img.data() + 8),
                      cols = big_endian(img.data() + 12);
  const std::uint64_t nl = big_endian(lab.data() + 4);
  if (n != nl) throw InputError(fmt::format("{}: {} labels for the {} images of {}", labels_name, nl, n, images_name));
  if (rows < 1 || cols < 1 || rows > 32 || cols > 32) {
    throw InputError(fmt::format("{}: expected images of 1x1 to 32x32, found {}x{}", images_name, rows, cols));
  }
  if (n == 0) throw InputError(fmt::format("{}: expected at least one image, found 0", images_name));
  if (img.size() - 16 < n * rows * cols) {
    throw InputError(fmt::format("{}: truncated: {} images of {}x{} need {} bytes, the file holds {}", images_name, n,
                                 rows, cols, 16 + n * rows * cols, img.size()));
  }
  if (lab.size() - 8 < n) {
    throw InputError(fmt::format("{}: truncated: {} labels need {} bytes, the file holds {}", labels_name, n, 8 + n,
                                 lab.size()));
  }
  ImageSet s;
  s.n = static_cast<std::int64_t>(n);
  s.channels = 1;
  s.images.assign(n * 1024, 0);
  s.labels.resize(n);
  const std::uint64_t top = (32 - rows) / 2, left = (32 - cols) / 2;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (lab[8 + i] > 9) {
      throw InputError(fmt::format("{}: label {} of sample {} is outside 0..9", labels_name, int(lab[8 + i]), i));
    }
    s.labels[i] = lab[8 + i];
    for (std::uint64_t r = 0; r < rows; ++r) {
      std::memcpy(s.images.data() + i * 1024 + (r + top) * 32 + left, img.data() + 16 + (i * rows + r) * cols, cols);
    }
  }
  return s;
}

ImageSet parse_cifar10(const std::vector<unsigned char>& bytes, const std::string& name) {
  constexpr std::size_t kRecord = 1 + 3072;
  if (bytes.empty() || bytes.size() % kRecord != 0) {
    throw InputError(fmt::format("{}: expected whole CIFAR-10 records of {} bytes (1 label + 3,072 pixels), found {} "
                                 "bytes ({} records and {} bytes over)",
                                 name, kRecord, bytes.size(), bytes.size() / kRecord, bytes.size() % kRecord));
  }
  ImageSet s;
  s.n = std::int64_t(bytes.size() / kRecord);
  s.channels = 3;
  s.images.resize(bytes.size() / kRecord * 3072);
  s.labels.resize(bytes.size() / kRecord);
  for (std::size_t i = 0; i < s.labels.size(); ++i) {
    const unsigned char* rec = bytes.data() + i * kRecord;
    if (rec[0] > 9) throw InputError(fmt::format("{}: record {}: expected a label in 0..9, found {}", name, i, int(rec[0])));
    s.labels[i] = rec[0];
    std::memcpy(s.images.data() + i * 3072, rec + 1, 3072);
  }
  return s;
}

}  // namespace anodiff::detail
