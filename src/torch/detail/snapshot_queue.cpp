#include "torch/detail/snapshot_queue.hpp"

#include <utility>

#include "anodiff/torch/parameters.hpp"

namespace anodiff::detail {

SnapshotQueue::SnapshotQueue(Sink sink, std::size_t capacity)
    : sink_(std::move(sink)), capacity_(capacity < 1 ? 1 : capacity), worker_([this] { run(); }) {}

SnapshotQueue::~SnapshotQueue() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Keep everything up to the last task (an epoch's queued commit), drop the snapshots after it.
    auto last = items_.end();
    for (auto it = items_.begin(); it != items_.end(); ++it) {
      if (it->task) last = it;
    }
    items_.erase(last == items_.end() ? items_.begin() : last + 1, items_.end());
    stop_ = true;
  }
  if (on_stopping) on_stopping();
  changed_.notify_all();
  worker_.join();
}

void SnapshotQueue::rethrow_locked() {
  if (error_) {
    auto e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void SnapshotQueue::push(const torch::nn::Module& module, std::vector<double> row) {
  enqueue(Item{parameter_snapshot(module), std::move(row), {}});
}

void SnapshotQueue::post(std::function<void()> task) {
  enqueue(Item{{}, {}, std::move(task)});
}

void SnapshotQueue::enqueue(Item item) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return items_.size() < capacity_ || error_; });
  rethrow_locked();
  items_.push_back(std::move(item));
  changed_.notify_all();
}

void SnapshotQueue::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return (items_.empty() && !busy_) || error_; });
  rethrow_locked();
}

void SnapshotQueue::run() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || !items_.empty(); });
      if (items_.empty()) return;  // stopped, nothing left to run
      item = std::move(items_.front());
      items_.pop_front();
      busy_ = true;
    }
    std::exception_ptr error;
    try {
      if (item.task) {
        item.task();
      } else {
        torch::NoGradGuard no_grad;
        const auto host = item.flat.to(torch::kCPU).contiguous();
        sink_(host.data_ptr<float>(), item.row);
      }
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
      if (error && !error_) error_ = error;
      if (error) items_.clear();
    }
    changed_.notify_all();
  }
}

}  // namespace anodiff::detail
