#pragma once
/// \file progress.hpp  Where the library's progress lines and notes go: a callback given in each options struct.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace anodiff {

/// Receives one line of progress or a note (no trailing newline). The library writes nothing to stdout or stderr
/// itself: an empty LogSink (the default in every options struct) keeps it silent; the programs pass one that prints.
using LogSink = std::function<void(const std::string& line)>;

/// Sends `line` to `log` if there is one.
inline void log_line(const LogSink& log, const std::string& line) {
  if (log) log(line);
}

/// Reports "<what>: done/total (pct%) <extra> elapsed Xs ETA Ys" to a LogSink, at most once per `interval` seconds.
class Progress {
 public:
  /// Starts the clock for `total` units of work; lines go to `log` (none if it is empty).
  Progress(LogSink log, std::string what, std::size_t total, double interval = 1.0);
  /// Reports that `done` units are complete; `extra` is appended (e.g. "loss 2.1").
  void update(std::size_t done, const std::string& extra = {});
  /// Reports the final line unconditionally.
  void finish(const std::string& extra = {});
  /// Seconds since construction.
  [[nodiscard]] double elapsed() const;

 private:
  void print(std::size_t done, const std::string& extra);
  LogSink log_;
  std::string what_;
  std::size_t total_;
  double interval_;
  std::chrono::steady_clock::time_point start_, last_;
  std::size_t done_ = 0;
};

}  // namespace anodiff
