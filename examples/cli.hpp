#pragma once
// Shared by the example programs: one line on stderr and exit code 2 for a user's mistake.
#include <cstdio>
#include <exception>
#include <stdexcept>

#include <boost/program_options.hpp>

#include "anodiff/error.hpp"

namespace anodiff::cli {

/// Runs `body`; bad flags, bad input files and out-of-range values give one line on stderr and exit code 2,
/// any other failure exit code 1.
template <typename Body>
int run(const char* program, Body&& body) {
  try {
    return body();
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "%s: %s (see --help)\n", program, e.what());
    return 2;
  } catch (const anodiff::InputError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace anodiff::cli
