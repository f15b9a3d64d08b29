#pragma once
// Private: reading (memory-mapped) and writing numpy .npy files, format versions 1.0, 2.0 and 3.0.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace anodiff::detail {

enum class NpyType { float32, float64 };

/// Size in bytes of one element.
inline std::size_t npy_item_size(NpyType t) { return t == NpyType::float32 ? 4 : 8; }

/// A read-only memory mapping of a whole file; unmapped on destruction.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  [[nodiscard]] const std::byte* data() const { return data_; }
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

/// An .npy array opened by memory mapping: its shape, element type and a pointer to its data.
struct NpyArray {
  std::filesystem::path path;
  NpyType type = NpyType::float32;
  std::vector<std::size_t> shape;
  const std::byte* data = nullptr;
  std::shared_ptr<const MappedFile> mapping;  ///< Keeps `data` valid.
  [[nodiscard]] std::size_t elements() const;
};

/// The size in bytes of an array of `shape` with elements of `item_size` bytes, in `bytes`; false (`bytes`
/// meaningless) if the product overflows std::size_t. An empty shape is one element; a zero dimension makes 0 bytes.
bool checked_bytes(const std::vector<std::size_t>& shape, std::size_t item_size, std::size_t& bytes);

/// Opens an .npy file; throws InputError naming the file for a missing file, bad magic, an unsupported
/// version, dtype or order, a malformed or overflowing shape, or data shorter than the header promises: nothing
/// past the file's real size is ever read.
NpyArray npy_open(const std::filesystem::path& path);

/// npy_open() of a trajectory's rows: also throws InputError naming the file unless the array is 2-D (snapshots x
/// parameters).
NpyArray npy_open_rows(const std::filesystem::path& path);

/// Parses the header of an .npy file held in memory (used by npy_open; exposed for tests).
/// Returns the offset of the data; fills type and shape.
std::size_t npy_parse_header(const std::byte* bytes, std::size_t size, const std::filesystem::path& path,
                             NpyType& type, std::vector<std::size_t>& shape);

/// Builds the header (format 1.0, or 2.0 when it does not fit) for a C-order array.
std::string npy_header(NpyType type, const std::vector<std::size_t>& shape);

/// Writes an array durably: to `path`.PID.tmp, flushed to disk, then renamed over `path`.
void npy_write(const std::filesystem::path& path, NpyType type, const std::vector<std::size_t>& shape,
               const void* data);

/// Writes bytes to `path` durably (temporary name, fsync, rename, fsync of the directory).
void write_file_durably(const std::filesystem::path& path, const std::string& header, const void* data,
                        std::size_t bytes);

}  // namespace anodiff::detail
