#pragma once
// Shared by the fuzz targets (fuzz/README in docs/robustness.md): a scratch folder of this process, input files
// written there, and the rule that hostile input may only ever raise anodiff::InputError.
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "anodiff/base/error.hpp"

namespace anodiff::fuzz {

/// A folder of this process's own (removed at exit): under /dev/shm where there is one (the durable writers' fsync
/// costs nothing in memory), else under ANODIFF_FUZZ_TMP or /tmp.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("ANODIFF_FUZZ_TMP");
    std::error_code ec;
    const bool shm = std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0;
    auto d = std::filesystem::path(shm ? "/dev/shm" : base ? base : "/tmp") /
             ("anodiff_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] { std::error_code ec; std::filesystem::remove_all(scratch(), ec); });
    return d;
  }();
  return dir;
}

/// Writes `size` bytes to `path`.
inline void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out.flush()) std::abort();
}

/// Runs `body`: an InputError (a message for the user) is the expected answer to bad input; any other exception
/// is a finding (libFuzzer reports the abort with the input that caused it).
template <typename Body>
void expect_input_errors_only(Body&& body) {
  try {
    body();
  } catch (const anodiff::InputError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: an exception other than InputError: %s\n", e.what());
    std::abort();
  }
}

/// Splits a fuzz input into `parts` pieces at the separator "\n##\n" (missing pieces are empty).
inline std::vector<std::string> split_input(const std::uint8_t* data, std::size_t size, std::size_t parts) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (out.size() + 1 < parts) {
    const auto sep = text.find("\n##\n", pos);
    if (sep == std::string::npos) break;
    out.push_back(text.substr(pos, sep - pos));
    pos = sep + 4;
  }
  out.push_back(pos <= text.size() ? text.substr(pos) : std::string());
  out.resize(parts);
  return out;
}

}  // namespace anodiff::fuzz
