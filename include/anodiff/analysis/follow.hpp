#pragma once
/// \file follow.hpp  TrajectoryFollower: the post-analysis (post_analysis()) of a trajectory that is still being
/// recorded, each part analysed as soon as its snapshots are in complete chunks.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {

/// When and how often a TrajectoryFollower looks, and when it ends.
struct FollowOptions {
  double poll_seconds = 2;          ///< Longest wait between two looks at the directory; on Linux inotify wakes the
                                    ///< follower sooner, when a chunk is renamed into place.
  std::size_t until_snapshots = 0;  ///< Ends once this many snapshots are in complete chunks (0: no such end).
  std::int64_t until_epoch = 0;     ///< Ends once epoch E is recorded whole (0: no such end): a snapshot of a later
                                    ///< epoch is recorded, or the last recorded snapshot is of epoch E and either the
                                    ///< run's metrics.csv (anodiff-train's, beside the trajectory) has a row for epoch
                                    ///< E or E > 1 has as many snapshots as epoch 1 (steps.csv's epoch column).
  double idle_seconds = 0;          ///< Ends after this long without a new complete chunk (0: never).
  double write_seconds = 60;        ///< While catching up (parts waiting for analysis), the results are written
                                    ///< after this many seconds of analysis; always once caught up, when stopped and
                                    ///< at the end.
  std::size_t shards = 0;           ///< A sharded writer's number of shards: nothing is loaded until that many
                                    ///< shard_NNN folders exist (0: the run's config.txt record_shards, where
                                    ///< anodiff-train wrote one, else the shards found; anodiff.Recorder writers
                                    ///< started one by one need it).
  bool find_layout = true;          ///< Without PostAnalysisOptions::layout: take the trajectory's layout.csv
                                    ///< (ParameterLayout::find) when the first part is analysed, as a batch run does.
  const std::atomic<bool>* stop = nullptr;  ///< When set (a SIGINT handler), the follower ends after the part in
                                    ///< progress, its results written.
  /// Checks the values (poll_seconds and write_seconds positive, idle_seconds >= 0, all finite); throws
  /// std::invalid_argument naming the option and value.
  void validate() const;
};

/// Why TrajectoryFollower::run() returned.
enum class FollowEnd {
  finished,  ///< until_snapshots or until_epoch reached: every part of the finished run is analysed.
  idle,      ///< idle_seconds passed without a new chunk.
  stopped,   ///< FollowOptions::stop was set.
};

/// The name of a FollowEnd ("finished", "idle", "stopped").
[[nodiscard]] const char* follow_end_name(FollowEnd end);

/// Follows a trajectory directory (anodiff-train's or anodiff.Recorder's, sharded or not; docs/formats.md) while a
/// writer appends chunks: each look reloads the complete `chunk_NNNNNN.npy` files (a temporary file is never read)
/// and analyses with analyse_part() every part of options.part_length snapshots that they now hold whole. Results
/// are those of post_analysis() on the finished trajectory, bit for bit: a part's analysis reads only its own
/// snapshots and their steps.csv rows, which a writer never changes once their chunk is complete.
class TrajectoryFollower {
 public:
  /// What to do with the results: called with every part analysed so far (in order), the index of the first part
  /// not given to an earlier call (write_post_analysis's `first_new`: append those parts' rows) and the trajectory as
  /// last loaded, after new parts (see FollowOptions::write_seconds) and once at the end.
  using Writer = std::function<void(const std::vector<PartResult>& parts, std::size_t first_new,
                                    const WeightTrajectory& trajectory)>;

  /// Follows `path` (it need not exist yet). Throws std::invalid_argument if options.part_length is 0 (a part must
  /// end before the run does) or the options do not fit a part (PostAnalysisOptions::validate).
  TrajectoryFollower(std::filesystem::path path, PostAnalysisOptions options, FollowOptions follow = {});
  ~TrajectoryFollower();
  TrajectoryFollower(const TrajectoryFollower&) = delete;
  TrajectoryFollower& operator=(const TrajectoryFollower&) = delete;

  /// Looks once: reloads the complete chunks if their number changed and analyses every part they now hold whole
  /// (checking `stop` between parts). Returns the number of parts analysed. A trajectory that does not exist yet,
  /// or has no chunk yet, counts as empty; so do shards further apart than WeightTrajectory::load() reads (one shard
  /// ahead by more than its last chunk: writers at their own pace), until they are within a chunk again. Any other
  /// InputError while loading is retried at the next look and thrown once it has lasted 5 looks and 30 s.
  std::size_t look();
  /// Whether until_snapshots or until_epoch is reached by the snapshots loaded.
  [[nodiscard]] bool finished() const;
  /// Waits up to poll_seconds, less if a file is created or renamed in the trajectory directory (inotify) or a
  /// signal arrives.
  void wait();
  /// Looks, writes and waits until finished, idle or stopped; `write` gets the results (above; never called without
  /// a part). On finishing, every part of the complete chunks is analysed and written once more (the trajectory's
  /// final size, for the claims), and the snapshots past the last whole part are noted to options.log. Each write is
  /// logged with its wall-clock time ("N parts written at unix time T"), from which a lag can be measured. Throws
  /// InputError naming the directory when the run finished with fewer snapshots than one part.
  FollowEnd run(const Writer& write);

  /// The parts analysed so far, in order.
  [[nodiscard]] const std::vector<PartResult>& parts() const { return parts_; }
  /// The trajectory as last loaded (empty before the first chunk).
  [[nodiscard]] const WeightTrajectory& trajectory() const { return trajectory_; }
  /// Snapshots in complete chunks at the last look.
  [[nodiscard]] std::size_t snapshots() const { return loaded_ ? trajectory_.size() : 0; }

 private:
  [[nodiscard]] bool stopping() const { return follow_.stop && follow_.stop->load(); }
  std::size_t look_until(double deadline);  // look(), analysing no further part once `deadline` (steady s) passed
  [[nodiscard]] std::size_t chunk_count() const;
  void watch();

  std::filesystem::path path_;
  PostAnalysisOptions options_;
  FollowOptions follow_;
  WeightTrajectory trajectory_;
  bool loaded_ = false;
  bool layout_checked_ = false;
  std::size_t chunks_seen_ = 0;
  std::vector<PartResult> parts_;
  int failures_ = 0;
  double failing_since_ = 0;
  int inotify_ = -1;
  std::vector<std::string> watched_;
};

}  // namespace anodiff
