#pragma once
/// \file error.hpp  The exception anodiff throws for bad input files and data.
#include <stdexcept>
#include <string>

namespace anodiff {

/// A user's input is unusable: a missing or malformed file, a shape or dtype mismatch, NaN in a trajectory.
/// The message names the file (where there is one), what was expected and what was found.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace anodiff
