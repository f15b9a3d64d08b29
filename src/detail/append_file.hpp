#pragma once
// Private: files that grow by whole lines (a landscape shard's surface.csv), written so that a write cut short (a
// full disk, a kill) loses at most the line being written and the next session appends after the last whole line.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"

namespace anodiff::detail {

/// Cuts a last line without its newline off `file` (nothing if the file is missing, empty or ends in a newline), so
/// that the next appended line starts on a line of its own. Throws IoError naming the file.
inline void drop_torn_line(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    throw IoError(fmt::format("{}: cannot open for appending: {}", file.string(), std::strerror(errno)));
  }
  struct stat st {};
  off_t keep = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    char buf[4096];
    for (off_t end = st.st_size; end > 0 && keep < 0;) {
      const off_t start = end > off_t(sizeof buf) ? end - off_t(sizeof buf) : 0;
      const ssize_t n = ::pread(fd, buf, std::size_t(end - start), start);
      if (n != end - start) break;
      if (end == st.st_size && buf[n - 1] == '\n') break;  // whole lines only: nothing to cut
      for (ssize_t i = n - 1; i >= 0; --i) {
        if (buf[i] == '\n') {
          keep = start + i + 1;
          break;
        }
      }
      end = start;
      if (end == 0 && keep < 0) keep = 0;
    }
  }
  const int err = keep >= 0 && ::ftruncate(fd, keep) != 0 ? errno : 0;
  ::close(fd);
  if (err != 0) throw IoError(fmt::format("{}: cannot cut its torn last line: {}", file.string(), std::strerror(err)));
}

}  // namespace anodiff::detail
