#include "anodiff/analysis/follow.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/base/run_config.hpp"

#if defined(__linux__)
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>
#endif

namespace anodiff {
namespace fs = std::filesystem;

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// run/trajectory/ -> run/trajectory, so that parent_path() is the run directory.
fs::path without_trailing_slash(fs::path p) {
  while (!p.empty() && p.filename().empty() && p.has_parent_path() && p.parent_path() != p) p = p.parent_path();
  return p;
}

// Whether the shards of a sharded directory are further apart than load() takes (a shard ahead of the others by
// more than its last chunk): writers at their own pace, to be waited for. False for anything else, or when a count
// cannot be read (the error is then load()'s to report).
bool shards_apart(const fs::path& dir) {
  try {
    const auto shards = WeightTrajectory::shard_directories(dir);
    if (shards.size() < 2) return false;
    std::vector<std::pair<std::size_t, std::size_t>> counts;  // snapshots, rows of the last chunk
    for (const auto& d : shards) {
      const auto files = WeightTrajectory::chunk_files(d);
      if (files.empty()) return true;  // a shard not begun
      counts.emplace_back(WeightTrajectory::load(d).size(), WeightTrajectory::load(files.back()).size());
    }
    std::size_t common = counts.front().first;
    for (const auto& c : counts) common = std::min(common, c.first);
    for (const auto& c : counts) {
      if (c.first != common && c.first - c.second != common) return true;
    }
  } catch (const std::exception&) {
  }
  return false;
}

// The epochs of metrics.csv (anodiff-train's run directory), empty if there is none or it cannot be read.
std::vector<double> metric_epochs(const fs::path& run) {
  std::error_code ec;
  const fs::path csv = run / "metrics.csv";
  if (!fs::exists(csv, ec)) return {};
  try {
    const StepTable t = StepTable::read_csv(csv);
    if (const auto* e = t.column("epoch")) return *e;
  } catch (const std::exception&) {
  }
  return {};
}

}  // namespace

const char* follow_end_name(FollowEnd end) {
  switch (end) {
    case FollowEnd::finished: return "finished";
    case FollowEnd::idle: return "idle";
    case FollowEnd::stopped: return "stopped";
  }
  return "?";
}

void FollowOptions::validate() const {
  const char* owner = "FollowOptions";
  require(std::isfinite(poll_seconds) && poll_seconds > 0, owner,
          fmt::format("poll_seconds must be positive, got {}", poll_seconds));
  require(std::isfinite(write_seconds) && write_seconds > 0, owner,
          fmt::format("write_seconds must be positive, got {}", write_seconds));
  require(std::isfinite(idle_seconds) && idle_seconds >= 0, owner,
          fmt::format("idle_seconds must be finite and >= 0, got {}", idle_seconds));
}

TrajectoryFollower::TrajectoryFollower(fs::path path, PostAnalysisOptions options, FollowOptions follow)
    : path_(without_trailing_slash(std::move(path))), options_(std::move(options)), follow_(follow) {
  if (options_.part_length == 0) {
    throw std::invalid_argument("TrajectoryFollower: a part length is needed (a part must end before the run does)");
  }
  follow_.validate();
  options_.validate(options_.part_length);
#if defined(__linux__)
  inotify_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);  // -1: polling only
#endif
}

TrajectoryFollower::~TrajectoryFollower() {
#if defined(__linux__)
  if (inotify_ >= 0) close(inotify_);
#endif
}

std::size_t TrajectoryFollower::chunk_count() const {
  std::error_code ec;
  if (!fs::is_directory(path_, ec)) return 0;
  std::size_t n = 0;
  std::vector<fs::path> dirs = {path_};
  for (const auto& e : fs::directory_iterator(path_, ec)) {
    const auto name = e.path().filename().string();
    if (name.size() == 9 && name.rfind("shard_", 0) == 0 && e.is_directory(ec)) dirs.push_back(e.path());
  }
  if (follow_.shards > 1 && dirs.size() < follow_.shards + 1) return 0;  // a shard not begun: nothing yet
  for (const auto& d : dirs) {
    try {
      n += WeightTrajectory::chunk_files(d).size();
    } catch (const fs::filesystem_error&) {  // a shard directory removed meanwhile: counted at the next look
    }
  }
  return n;
}

void TrajectoryFollower::watch() {
#if defined(__linux__)
  if (inotify_ < 0) return;
  std::error_code ec;
  std::vector<std::string> dirs;
  if (fs::is_directory(path_, ec)) {
    dirs.push_back(path_.string());
    for (const auto& e : fs::directory_iterator(path_, ec)) {
      if (e.is_directory(ec)) dirs.push_back(e.path().string());
    }
  } else {  // not there yet: its parent (or the nearest folder above), to wake when it is created
    fs::path up = path_.parent_path().empty() ? fs::path(".") : path_.parent_path();
    while (!fs::is_directory(up, ec) && up.has_parent_path() && up.parent_path() != up) up = up.parent_path();
    if (fs::is_directory(up, ec)) dirs.push_back(up.string());
  }
  for (const auto& d : dirs) {
    if (std::find(watched_.begin(), watched_.end(), d) != watched_.end()) continue;
    if (inotify_add_watch(inotify_, d.c_str(), IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE) >= 0) watched_.push_back(d);
  }
#endif
}

std::size_t TrajectoryFollower::look() { return look_until(std::numeric_limits<double>::infinity()); }

std::size_t TrajectoryFollower::look_until(double deadline) {
  if (!loaded_ && follow_.shards == 0) {  // anodiff-train's config.txt (written before any chunk) says its shards
    try {
      for (const auto& [key, value] : read_run_config(path_.parent_path())) {
        if (key == "record_shards") follow_.shards = std::stoul(value);
      }
    } catch (const std::exception&) {  // no run directory around it (yet)
    }
  }
  watch();  // before the listing: a chunk renamed in after it wakes the next wait()
  const std::size_t chunks = chunk_count();
  if (chunks == 0) return 0;  // nothing recorded yet
  if (!loaded_ || chunks != chunks_seen_ || failures_ > 0) {
    try {
      WeightTrajectory t = WeightTrajectory::load(path_);
      if (loaded_ && t.dimension() != trajectory_.dimension()) {
        throw InputError(fmt::format("{}: the snapshots changed dimension while followed ({} then {}): a shard "
                                     "began late (give the number of shards: --shards N)", path_.string(),
                                     trajectory_.dimension(), t.dimension()));
      }
      if (t.size() < parts_.size() * options_.part_length) {
        throw InputError(fmt::format("{}: {} snapshots in complete chunks, fewer than the {} already analysed (a "
                                     "writer that cut its trajectory back)", path_.string(), t.size(),
                                     parts_.size() * options_.part_length));
      }
      trajectory_ = std::move(t);
      loaded_ = true;
      chunks_seen_ = chunks;
      failures_ = 0;
    } catch (const InputError&) {
      // Shards apart (writers at their own pace): waited for, however long. Anything else (a file changed while it
      // was read): retried, thrown once it lasts.
      if (shards_apart(path_)) return 0;
      if (failures_++ == 0) failing_since_ = now_seconds();
      if (failures_ >= 5 && now_seconds() - failing_since_ >= 30) throw;
      return 0;
    } catch (const fs::filesystem_error&) {  // a file removed between the listing and its opening
      if (failures_++ == 0) failing_since_ = now_seconds();
      if (failures_ >= 5 && now_seconds() - failing_since_ >= 30) throw;
      return 0;
    }
  }
  std::size_t analysed = 0;
  const std::size_t P = options_.part_length;
  while ((parts_.size() + 1) * P <= trajectory_.size() && !stopping() &&
         (analysed == 0 || now_seconds() < deadline)) {
    if (!layout_checked_) {
      if (!options_.layout && follow_.find_layout) options_.layout = ParameterLayout::find(path_);
      layout_checked_ = true;
    }
    const Part part{parts_.size(), parts_.size() * P, P};
    parts_.push_back(analyse_part(trajectory_, part, options_));
    const auto& f = parts_.back().fit;
    log_line(options_.log, fmt::format("anodiff: follow: part {} (snapshots {}-{}) early {:.3f} late {:.3f} tau0 {}",
                                       part.index, part.start, part.start + P - 1, f.early_exponent, f.late_exponent,
                                       f.crossover_found ? fmt::format("{:.1f}", f.crossover) : std::string("none")));
    ++analysed;
  }
  return analysed;
}

bool TrajectoryFollower::finished() const {
  if (!loaded_) return false;
  const std::size_t T = trajectory_.size();
  if (follow_.until_snapshots > 0 && T >= follow_.until_snapshots) return true;
  if (follow_.until_epoch > 0) {
    const auto* epoch = trajectory_.steps().column("epoch");
    if (epoch == nullptr || epoch->empty()) return false;
    const double E = double(follow_.until_epoch), last = epoch->back();
    if (last > E) return true;
    if (last != E) return false;
    for (double e : metric_epochs(path_.parent_path())) {
      if (e == E) return true;
    }
    const auto of = [&](double x) { return std::count(epoch->begin(), epoch->end(), x); };
    return E == 1 ? false : of(E) >= of(1);
  }
  return false;
}

void TrajectoryFollower::wait() {
  const double seconds = follow_.poll_seconds;
#if defined(__linux__)
  watch();
  if (inotify_ >= 0) {
    pollfd p{inotify_, POLLIN, 0};
    const int ms = int(std::min(seconds * 1000.0, 2.0e9));
    if (::poll(&p, 1, ms) > 0) {  // drain the events: the next look reads the directory itself
      char buf[4096];
      while (read(inotify_, buf, sizeof buf) > 0) {
      }
    }
    return;
  }
#endif
  // Polling: in slices, so that a stop request is seen within 0.1 s.
  const double end = now_seconds() + seconds;
  while (!stopping() && now_seconds() < end) {
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(0.1, end - now_seconds())));
  }
}

FollowEnd TrajectoryFollower::run(const Writer& write) {
  std::size_t written = 0;  // parts given to `write`
  double last_write = now_seconds(), last_growth = now_seconds();
  std::size_t last_snapshots = 0;
  auto flush = [&] {
    if (parts_.size() == written || !loaded_) return;
    write(parts_, written, trajectory_);
    written = parts_.size();
    last_write = now_seconds();
    log_line(options_.log, fmt::format("anodiff: follow: {} parts written at unix time {:.3f}", written, unix_seconds()));
  };
  while (true) {
    if (stopping()) {
      flush();
      return FollowEnd::stopped;
    }
    look_until(last_write + follow_.write_seconds);  // a write at least every write_seconds while catching up
    if (snapshots() != last_snapshots) last_snapshots = snapshots(), last_growth = now_seconds();
    const bool caught_up = !loaded_ || (parts_.size() + 1) * options_.part_length > trajectory_.size();
    if (stopping()) {
      flush();
      return FollowEnd::stopped;
    }
    if (caught_up && finished()) {
      const std::size_t rest = trajectory_.size() - parts_.size() * options_.part_length;
      if (rest > 0) {
        log_line(options_.log, fmt::format("anodiff: the last {} snapshots (fewer than a part of {}) are not analysed",
                                           rest, options_.part_length));
      }
      if (parts_.empty()) {
        throw InputError(fmt::format("{}: the run finished with {} snapshots, fewer than a part of {}",
                                     path_.string(), snapshots(), options_.part_length));
      }
      write(parts_, written, trajectory_);
      log_line(options_.log, fmt::format("anodiff: follow: {} parts written at unix time {:.3f}", parts_.size(),
                                         unix_seconds()));
      return FollowEnd::finished;
    }
    if (caught_up || now_seconds() - last_write >= follow_.write_seconds) flush();
    if (!caught_up) continue;  // more parts are ready
    if (follow_.idle_seconds > 0 && now_seconds() - last_growth >= follow_.idle_seconds &&
        chunk_count() == chunks_seen_) {  // (a chunk that came during the analysis is looked at first)
      flush();
      return FollowEnd::idle;
    }
    wait();
  }
}

}  // namespace anodiff
