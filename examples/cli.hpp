#pragma once
// Shared by the example programs: one line on stderr and exit code 2 for a user's mistake.
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>

#include <boost/program_options.hpp>

#include "anodiff/error.hpp"

namespace anodiff::cli {

/// Parses the command line into `vm`; for --help prints `desc` and returns false.
inline bool parse(int argc, char** argv, const boost::program_options::options_description& desc,
                  boost::program_options::variables_map& vm) {
  boost::program_options::store(boost::program_options::parse_command_line(argc, argv, desc), vm);
  boost::program_options::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return false;
  }
  return true;
}

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
