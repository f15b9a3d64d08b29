#pragma once
// Private: the data sets' file formats (IDX, CIFAR-10 binary) parsed from bytes, without LibTorch (datasets.cpp
// makes tensors of them; fuzz/ fuzzes them). Every count a file declares is checked against its real size first.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace anodiff::detail {

/// The largest file read whole (after gzip decompression): far beyond MNIST's 47 MB or CIFAR-10's 31 MB per file,
/// and a bound on what a gzip bomb can make us allocate.
constexpr std::size_t kMaxDataFileBytes = std::size_t(1) << 32;

/// Images zero-padded to 32x32 (n x channels x 32 x 32 bytes) and their labels (0..9).
struct ImageSet {
  std::int64_t n = 0;
  std::int64_t channels = 1;
  std::vector<std::uint8_t> images;
  std::vector<std::int64_t> labels;
};

/// The bytes of `file`, gzip-decompressed if it is gzip (plain files are read as they are). Throws InputError
/// naming the file if it cannot be read, is corrupt gzip, or holds more than `limit` bytes.
std::vector<unsigned char> read_gzip_or_plain(const std::filesystem::path& file,
                                              std::size_t limit = kMaxDataFileBytes);

/// The bytes of a plain file; throws InputError naming the file if it is missing or larger than `limit`.
std::vector<unsigned char> read_plain(const std::filesystem::path& file, std::size_t limit = kMaxDataFileBytes);

/// An IDX image file (magic 0x00000803, n x rows x cols, rows and cols 1..32) with its IDX label file (magic
/// 0x00000801, n labels in 0..9); `images_name` and `labels_name` name them in messages. Throws InputError.
ImageSet parse_idx(const std::vector<unsigned char>& images, const std::vector<unsigned char>& labels,
                   const std::string& images_name, const std::string& labels_name);

/// CIFAR-10's binary records (1 label byte in 0..9, 3,072 pixel bytes), at least one. Throws InputError naming
/// `name`.
ImageSet parse_cifar10(const std::vector<unsigned char>& bytes, const std::string& name);

}  // namespace anodiff::detail
