#pragma once
// Per-step weight recording off the training thread (internal to anodiff::anodiff).
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <torch/torch.h>

namespace anodiff::detail {

/// Snapshots of a module's parameters handed to a sink on a worker thread. push() takes the snapshot on the
/// parameters' device (one concatenation, no wait for the device) and returns; the worker copies it to the host and
/// calls the sink, in order. At most `capacity` snapshots wait; push() blocks while that many do.
class SnapshotQueue {
 public:
  /// Receives each snapshot as D host floats with its step-table row, on the worker thread.
  using Sink = std::function<void(const float*, const std::vector<double>&)>;
  /// Starts the worker.
  explicit SnapshotQueue(Sink sink, std::size_t capacity = 4);
  /// Stops the worker; snapshots still waiting are dropped (call drain() to keep them).
  ~SnapshotQueue();
  SnapshotQueue(const SnapshotQueue&) = delete;
  SnapshotQueue& operator=(const SnapshotQueue&) = delete;
  /// Queues the current parameters of `module` (float32, in module.parameters() order) with `row`.
  void push(const torch::nn::Module& module, std::vector<double> row);
  /// Waits until every queued snapshot has reached the sink; rethrows the sink's first error.
  void drain();

 private:
  struct Item {
    torch::Tensor flat;
    std::vector<double> row;
  };
  void run();
  void rethrow_locked();

  Sink sink_;
  std::size_t capacity_;
  std::deque<Item> items_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread worker_;
};

}  // namespace anodiff::detail
