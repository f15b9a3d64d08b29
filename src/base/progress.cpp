#include "anodiff/base/progress.hpp"

#include <fmt/format.h>

namespace anodiff {

Progress::Progress(LogSink log, std::string what, std::size_t total, double interval)
    : log_(std::move(log)), what_(std::move(what)), total_(total), interval_(interval),
      start_(std::chrono::steady_clock::now()), last_(start_ - std::chrono::hours(1)) {}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::size_t done, const std::string& extra) {
  done_ = done;
  if (!log_) return;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_).count() < interval_) return;
  last_ = now;
  print(done, extra);
}

void Progress::finish(const std::string& extra) { print(done_ = total_, extra); }

void Progress::print(std::size_t done, const std::string& extra) {
  if (!log_) return;
  const double t = elapsed();
  const double pct = total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
  std::string eta = "?";
  if (done > 0 && done <= total_) {
    eta = fmt::format("{:.0f}s", t * static_cast<double>(total_ - done) / static_cast<double>(done));
  }
  log_(fmt::format("{}: {}/{} ({:.0f}%){}{} elapsed {:.0f}s ETA {}", what_, done, total_, pct, extra.empty() ? "" : " ",
                   extra, t, eta));
}

}  // namespace anodiff
