#pragma once
/// \file error.hpp  The exceptions anodiff throws: a user's unusable input, and a failure to read or write a file.
#include <stdexcept>
#include <string>

namespace anodiff {

/// A user's input is unusable: a missing or malformed file, a shape or dtype mismatch, NaN in a trajectory.
/// The message names the file (where there is one), what was expected and what was found.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The system failed to write (or flush, or rename) a file: a full disk, a read-only folder, an fsync error. Not the
/// user's input at fault; the message names the file and the system's reason.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The check of an options struct's validate(): throws std::invalid_argument("OWNER: MESSAGE") unless `condition`
/// (the message names the option and the value found, e.g. "eta must be >= 0, got -1").
inline void require(bool condition, const char* owner, const std::string& message) {
  if (!condition) throw std::invalid_argument(std::string(owner) + ": " + message);
}

}  // namespace anodiff
