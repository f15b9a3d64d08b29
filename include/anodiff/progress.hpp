#pragma once
/// \file progress.hpp  Progress lines with rate and ETA on stderr for long work.
#include <chrono>
#include <cstddef>
#include <string>

namespace anodiff {

/// Prints "<what>: done/total (pct%) <extra> elapsed Xs ETA Ys" on stderr, at most once per `interval` seconds.
class Progress {
 public:
  /// Starts the clock for `total` units of work.
  Progress(std::string what, std::size_t total, double interval = 1.0);
  /// Reports that `done` units are complete; `extra` is appended (e.g. "loss 2.1").
  void update(std::size_t done, const std::string& extra = {});
  /// Prints the final line unconditionally.
  void finish(const std::string& extra = {});
  /// Seconds since construction.
  double elapsed() const;

 private:
  void print(std::size_t done, const std::string& extra);
  std::string what_;
  std::size_t total_;
  double interval_;
  std::chrono::steady_clock::time_point start_, last_;
  std::size_t done_ = 0;
};

}  // namespace anodiff
