#include "detail/npy.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "detail/printable.hpp"

namespace anodiff::detail {
namespace fs = std::filesystem;

MappedFile::MappedFile(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw InputError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(fmt::format("{}: expected a regular file", path.string()));
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw InputError(fmt::format("{}: cannot memory-map: {}", path.string(), std::strerror(err)));
    }
    data_ = static_cast<const std::byte*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

std::size_t NpyArray::elements() const {
  std::size_t n = 1;
  for (auto s : shape) n *= s;  // npy_open checked that the product neither overflows nor exceeds the file
  return n;
}

bool checked_bytes(const std::vector<std::size_t>& shape, std::size_t item_size, std::size_t& bytes) {
  std::size_t n = item_size;
  bool zero = false;
  bool overflow = false;
  for (auto s : shape) {
    if (s == 0) zero = true;
    if (!overflow && __builtin_mul_overflow(n, s, &n)) overflow = true;
  }
  bytes = zero ? 0 : n;
  return zero || !overflow;
}

namespace {

std::string value_of(const std::string& header, const std::string& key, const fs::path& path) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) {
    throw InputError(fmt::format("{}: .npy header has no '{}' entry (header: {})", path.string(), key,
                                 printable(header)));
  }
  auto colon = header.find(':', k);
  if (colon == std::string::npos) throw InputError(fmt::format("{}: malformed .npy header: {}", path.string(), printable(header)));
  ++colon;
  while (colon < header.size() && header[colon] == ' ') ++colon;
  if (colon >= header.size()) throw InputError(fmt::format("{}: malformed .npy header: {}", path.string(), printable(header)));
  if (header[colon] == '(') {
    const auto close = header.find(')', colon);
    if (close == std::string::npos) throw InputError(fmt::format("{}: malformed .npy shape: {}", path.string(), printable(header)));
    return header.substr(colon, close - colon + 1);
  }
  if (header[colon] == '\'' || header[colon] == '"') {
    const auto close = header.find(header[colon], colon + 1);
    if (close == std::string::npos) throw InputError(fmt::format("{}: malformed .npy header: {}", path.string(), printable(header)));
    return header.substr(colon + 1, close - colon - 1);
  }
  auto end = header.find_first_of(",}", colon);
  return header.substr(colon, end - colon);
}

}  // namespace

std::size_t npy_parse_header(const std::byte* bytes, std::size_t size, const fs::path& path, NpyType& type,
                             std::vector<std::size_t>& shape) {
  static const unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 10 || std::memcmp(bytes, kMagic, 6) != 0) {
    throw InputError(fmt::format("{}: not a numpy .npy file: expected the magic bytes \\x93NUMPY, found {}",
                                 path.string(), size < 6 ? "a file of " + std::to_string(size) + " bytes"
                                                         : "other bytes"));
  }
  const auto major = static_cast<unsigned>(bytes[6]);
  const auto minor = static_cast<unsigned>(bytes[7]);
  std::size_t header_len = 0;
  std::size_t prefix = 0;
  if (major == 1) {
    header_len = static_cast<std::size_t>(bytes[8]) | (static_cast<std::size_t>(bytes[9]) << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) throw InputError(fmt::format("{}: truncated .npy header", path.string()));
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<std::size_t>(bytes[8 + i]) << (8 * i);
    prefix = 12;
  } else {
    throw InputError(fmt::format("{}: unsupported .npy format version {}.{}: expected 1.0, 2.0 or 3.0",
                                 path.string(), major, minor));
  }
  if (minor != 0) {
    throw InputError(fmt::format("{}: unsupported .npy format version {}.{}: expected 1.0, 2.0 or 3.0",
                                 path.string(), major, minor));
  }
  if (prefix + header_len > size) {
    throw InputError(fmt::format("{}: truncated .npy header: expected {} header bytes, the file has {} bytes",
                                 path.string(), header_len, size));
  }
  const std::string header(reinterpret_cast<const char*>(bytes + prefix), header_len);
  const std::string descr = value_of(header, "descr", path);
  if (descr == "<f4" || descr == "=f4" || descr == "f4") {
    type = NpyType::float32;
  } else if (descr == "<f8" || descr == "=f8" || descr == "f8") {
    type = NpyType::float64;
  } else {
    throw InputError(fmt::format(
        "{}: unsupported .npy dtype '{}': expected little-endian float32 ('<f4') or float64 ('<f8')",
        path.string(), printable(descr)));
  }
  const std::string order = value_of(header, "fortran_order", path);
  if (order.find("False") == std::string::npos) {
    throw InputError(fmt::format("{}: .npy array is in Fortran order: expected C order (fortran_order False)",
                                 path.string()));
  }
  const std::string shape_text = value_of(header, "shape", path);
  // "(" [N {"," N}] [","] ")" with N a run of decimal digits that fits 64 bits: no sign, no exponent, no hex.
  auto malformed = [&](const std::string& why) {
    return InputError(fmt::format("{}: malformed .npy shape {}: {}", path.string(), printable(shape_text), why));
  };
  if (shape_text.empty() || shape_text[0] != '(') throw malformed("expected a tuple");
  shape.clear();
  std::size_t i = 1;
  bool need_comma = false;
  while (true) {
    while (i < shape_text.size() && shape_text[i] == ' ') ++i;
    if (i >= shape_text.size()) throw malformed("expected ')'");
    const char c = shape_text[i];
    if (c == ')') {
      if (i + 1 != shape_text.size()) throw malformed("text after ')'");
      break;
    }
    if (c == ',') {
      if (!need_comma) throw malformed("expected a dimension before ','");
      need_comma = false;
      ++i;
      continue;
    }
    if (c < '0' || c > '9') {
      throw malformed(fmt::format("expected non-negative whole numbers, found '{}'", printable(std::string(1, c))));
    }
    if (need_comma) throw malformed("expected ',' between dimensions");
    std::size_t v = 0;
    for (; i < shape_text.size() && shape_text[i] >= '0' && shape_text[i] <= '9'; ++i) {
      if (__builtin_mul_overflow(v, std::size_t(10), &v) ||
          __builtin_add_overflow(v, std::size_t(shape_text[i] - '0'), &v)) {
        throw malformed("a dimension exceeds 64 bits");
      }
    }
    shape.push_back(v);
    if (shape.size() > 32) throw malformed("more than 32 dimensions");
    need_comma = true;
  }
  return prefix + header_len;
}

NpyArray npy_open(const fs::path& path) {
  if (!fs::exists(path)) throw InputError(fmt::format("{}: no such file", path.string()));
  auto mapping = std::make_shared<const MappedFile>(path);
  NpyArray a;
  a.path = path;
  const std::size_t offset = npy_parse_header(mapping->data(), mapping->size(), path, a.type, a.shape);
  // The shape is checked against the file's size before anything is read: its product in bytes must neither
  // overflow nor exceed the bytes after the header (offset <= size: npy_parse_header checked it).
  std::size_t need = 0;
  const std::size_t have = mapping->size() - offset;
  if (!checked_bytes(a.shape, npy_item_size(a.type), need)) {
    throw InputError(fmt::format("{}: the .npy shape ({}) overflows 64 bits: the file holds {} bytes of data",
                                 path.string(), fmt::join(a.shape, ", "), have));
  }
  if (have < need) {
    throw InputError(fmt::format("{}: truncated data: the header promises {} bytes of data, the file holds {}",
                                 path.string(), need, have));
  }
  a.data = mapping->data() + offset;
  a.mapping = std::move(mapping);
  return a;
}

NpyArray npy_open_rows(const fs::path& path) {
  auto a = npy_open(path);
  if (a.shape.size() != 2) {
    throw InputError(fmt::format("{}: expected a 2-D array (snapshots x parameters), found {} dimensions",
                                 path.string(), a.shape.size()));
  }
  return a;
}

std::string npy_header(NpyType type, const std::vector<std::size_t>& shape) {
  std::string dims;
  for (std::size_t i = 0; i < shape.size(); ++i) dims += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                                 type == NpyType::float32 ? "<f4" : "<f8", dims);
  // Version 1.0 when the header fits 65535 bytes; the whole preamble is padded to a multiple of 64.
  const bool v1 = dict.size() + 1 + 10 < 65536;
  const std::size_t prefix = v1 ? 10 : 12;
  std::size_t total = prefix + dict.size() + 1;
  const std::size_t pad = (64 - total % 64) % 64;
  dict.append(pad, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(v1 ? 1 : 2);
  out += static_cast<char>(0);
  const std::size_t len = dict.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (!v1) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  return out + dict;
}

void write_file_durably(const fs::path& path, const std::string& header, const void* data, std::size_t bytes) {
  // A temporary name of this process's own: processes writing the same file at once (the shards of one landscape
  // grid, say) each rename a complete file into place instead of renaming away one another's.
  const fs::path tmp = fmt::format("{}.{}.tmp", path.string(), ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(fmt::format("{}: cannot create {}: {}", path.string(), tmp.string(), std::strerror(errno)));
  // A failure (a full disk, a file-size limit, a read-only or vanished folder) removes the temporary file, so that
  // the space it took is free again, and leaves `path` as it was: its last complete version, or none.
  auto fail = [&](const char* what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return IoError(fmt::format("{}: {} ({}): {}", path.string(), what, tmp.string(), std::strerror(err)));
  };
  auto write_all = [&](const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw fail("write failed", errno);
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  };
  write_all(header.data(), header.size());
  if (bytes > 0) write_all(static_cast<const char*>(data), bytes);
  if (::fsync(fd) != 0) throw fail("fsync failed", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(fmt::format("{}: close failed ({}): {}", path.string(), tmp.string(), std::strerror(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(fmt::format("{}: cannot rename {} to it: {}", path.string(), tmp.string(), std::strerror(err)));
  }
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void npy_write(const fs::path& path, NpyType type, const std::vector<std::size_t>& shape, const void* data) {
  std::size_t n = 1;
  for (auto s : shape) n *= s;
  write_file_durably(path, npy_header(type, shape), data, n * npy_item_size(type));
}

}  // namespace anodiff::detail
