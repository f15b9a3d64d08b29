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
/// calls the sink, in order. post() queues a task (an epoch's commit) that the worker runs in the same order, after
/// the snapshots queued before it. At most `capacity` items wait; push() and post() block while that many do.
class SnapshotQueue {
 public:
  /// Receives each snapshot as D host floats with its step-table row, on the worker thread.
  using Sink = std::function<void(const float*, const std::vector<double>&)>;
  /// Starts the worker.
  explicit SnapshotQueue(Sink sink, std::size_t capacity = 4);
  /// Stops the worker: the tasks still waiting are run, with the snapshots queued before the last of them (an epoch
  /// whose commit was queued is committed, as if the commit had run on the caller's thread); the snapshots after it
  /// are dropped (call drain() to keep them). Errors at this point are dropped.
  ~SnapshotQueue();
  SnapshotQueue(const SnapshotQueue&) = delete;
  SnapshotQueue& operator=(const SnapshotQueue&) = delete;
  /// Queues the current parameters of `module` (float32, in module.parameters() order) with `row`.
  void push(const torch::nn::Module& module, std::vector<double> row);
  /// Queues `task` to run on the worker after everything queued before it. An exception from it is reported as a
  /// sink's error (by the next push, post or drain) and drops what waits.
  void post(std::function<void()> task);
  /// Waits until every queued snapshot has reached the sink and every task has run; rethrows the first error.
  void drain();
  /// Test seam: called by the destructor once the snapshots after the last task are dropped, before it waits for
  /// the worker.
  std::function<void()> on_stopping;

 private:
  struct Item {
    torch::Tensor flat;
    std::vector<double> row;
    std::function<void()> task;  // set: a task, not a snapshot
  };
  void run();
  void rethrow_locked();
  void enqueue(Item item);

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
