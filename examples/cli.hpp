#pragma once
// Shared by the example programs: one line on stderr and exit code 2 for a user's mistake.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>

#include <boost/program_options.hpp>

#include "anodiff/base/error.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/output/output.hpp"

namespace anodiff::cli {

/// The programs' LogSink: each line of progress or note on stderr.
inline const anodiff::LogSink stderr_log = [](const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
};

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

/// How the programs write their results: the PNGs unless --no-plots was given, notes on stderr.
inline anodiff::OutputOptions output_options(const boost::program_options::variables_map& vm) {
  return {vm.count("no-plots") == 0, stderr_log};
}

/// A flag set by the first SIGINT or SIGTERM (a second one ends the program at once), for work that ends cleanly
/// when asked: waits are cut short (no SA_RESTART).
inline std::atomic<bool>& stop_on_signals() {
  static std::atomic<bool> requested{false};
  struct sigaction action {};
  action.sa_handler = [](int) { requested = true; };
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return requested;
}

/// Parses the band "LO:HI" given to --`flag`; throws a flag error unless 1 <= LO < HI.
inline std::pair<double, double> parse_band(const std::string& flag, const std::string& text) {
  double lo = 0, hi = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%lf:%lf%c", &lo, &hi, &extra) != 2 || !(lo >= 1) || !(hi > lo)) {
    throw boost::program_options::error("--" + flag + " expects LO:HI with 1 <= LO < HI, got '" + text + "'");
  }
  return {lo, hi};
}

/// Runs `body`; bad flags, bad input files and out-of-range values give one line on stderr and exit code 2; a file
/// or folder that cannot be written (a full disk, a file-size limit, a read-only folder) "I/O error" and exit code 1;
/// any other failure exit code 1.
template <typename Body>
int run(const char* program, Body&& body) {
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, reported as an I/O error naming the file,
  // instead of SIGXFSZ killing the program without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return body();
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "%s: %s (see --help)\n", program, e.what());
    return 2;
  } catch (const anodiff::InputError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  } catch (const anodiff::IoError& e) {
    std::fprintf(stderr, "%s: I/O error: %s\n", program, e.what());
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {  // e.g. create_directories under a read-only folder
    std::fprintf(stderr, "%s: I/O error: %s\n", program, e.what());
    return 1;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace anodiff::cli
