#include "anodiff/torch/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/output/output.hpp"
#include "anodiff/torch/parameters.hpp"
#include "anodiff/output/plot.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/analysis/random_projection.hpp"
#include "anodiff/trajectory/trajectory_writer.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "detail/npy.hpp"
#include "torch/detail/snapshot_queue.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::vector<std::string> kStepColumns = {"step", "epoch", "loss", "grad_norm"};
const std::vector<std::string> kMetricColumns = {"epoch",      "train_loss", "train_error",      "test_loss",
                                                 "test_error", "seconds",    "images_per_second"};

std::vector<std::pair<std::string, std::string>> config_of(const TrainerOptions& o) {
  std::vector<std::pair<std::string, std::string>> config = {{"model", o.model},
          {"dataset", o.dataset},
          {"data_dir", o.data_dir.string()},
          {"batch_size", std::to_string(o.batch_size)},
          {"lr", fmt::format("{:.17g}", o.lr)},
          {"momentum", fmt::format("{:.17g}", o.momentum)},
          {"weight_decay", fmt::format("{:.17g}", o.weight_decay)},
          {"seed", std::to_string(o.seed)},
          {"augment", o.augment ? "1" : "0"},
          {"limit_train", std::to_string(o.limit_train)},
          {"limit_test", std::to_string(o.limit_test)},
          {"record_weights", o.record_weights ? "1" : "0"},
          {"projection", std::to_string(o.projection)},
          {"save_gradients", o.save_gradients ? "1" : "0"},
          {"init_from", o.init_from.string()}};
  if (o.record_shards > 1) config.emplace_back("record_shards", std::to_string(o.record_shards));
  return config;
}

// The shards of a layout for record_shards = n: consecutive ranges [first, end) of whole tensors, a scale-invariant
// group never cut, each range ending at the first allowed cut at or past k D / n. Throws InputError if the model has
// fewer places to cut than n - 1.
std::vector<std::pair<std::size_t, std::size_t>> layout_shards(const ParameterLayout& layout, std::size_t n) {
  const auto& t = layout.tensors;
  const std::size_t D = layout.dimension();
  std::vector<std::pair<std::size_t, std::size_t>> shards;  // tensor index ranges
  // cuts_from[i]: the places after tensor i or later where a cut is allowed (not inside a scale-invariant group).
  auto may_cut = [&t](std::size_t i) { return t[i].group < 0 || t[i + 1].group != t[i].group; };
  std::vector<std::size_t> cuts_from(t.size() + 1, 0);
  for (std::size_t i = t.size(); i-- > 1;) cuts_from[i - 1] = cuts_from[i] + (may_cut(i - 1) ? 1 : 0);
  std::size_t first = 0;
  for (std::size_t i = 0; i + 1 < t.size() && shards.size() + 1 < n; ++i) {
    const std::size_t end = t[i].offset + t[i].size;
    // Cut once this shard reaches its share, or when the remaining cuts are all needed for the remaining shards.
    const bool share = end * n >= (shards.size() + 1) * D;
    if (may_cut(i) && (share || cuts_from[i] <= n - 1 - shards.size())) {
      shards.emplace_back(first, i + 1);
      first = i + 1;
    }
  }
  shards.emplace_back(first, t.size());
  if (shards.size() != n) {
    throw InputError(fmt::format("record_shards: expected {} shards of whole tensors (a scale-invariant group kept "
                                 "whole), found only {} possible", n, shards.size()));
  }
  return shards;
}

// Shard [first, end) of a layout, offsets from 0 and scale-invariant groups numbered from 0 in order.
ParameterLayout layout_part(const ParameterLayout& layout, std::size_t first, std::size_t end) {
  ParameterLayout part;
  std::vector<int> seen;
  const std::size_t base = layout.tensors[first].offset;
  for (std::size_t i = first; i < end; ++i) {
    ParameterTensor tensor = layout.tensors[i];
    tensor.offset -= base;
    if (tensor.group >= 0) {
      auto it = std::find(seen.begin(), seen.end(), tensor.group);
      if (it == seen.end()) it = seen.insert(seen.end(), tensor.group);
      tensor.group = static_cast<int>(it - seen.begin());
    }
    part.tensors.push_back(std::move(tensor));
  }
  return part;
}

void write_text_durably(const fs::path& path, const std::string& text) {
  detail::write_file_durably(path, text, nullptr, 0);
}

// An archive's bytes; checkpoints are written durably from them (detail::write_file_durably: a temporary name of this
// process's own, fsync, rename, as the trajectory's chunks), so a run killed at any moment never leaves a torn one.
std::string archive_bytes(torch::serialize::OutputArchive& archive) {
  std::string bytes;
  archive.save_to([&](const void* data, std::size_t n) {
    bytes.append(static_cast<const char*>(data), n);
    return n;
  });
  return bytes;
}

// A module's checkpoint as bytes: the weights as they are now (the archive only refers to the tensors until then).
std::string module_bytes(const torch::nn::Module& m) {
  torch::serialize::OutputArchive archive;
  m.save(archive);
  return archive_bytes(archive);
}

void save_module(const torch::nn::Module& m, const fs::path& path) {
  detail::write_file_durably(path, module_bytes(m), nullptr, 0);
}

void load_module(torch::nn::Module& m, const fs::path& path, torch::Device device) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), device);
    m.load(archive);
  } catch (const c10::Error& e) {
    throw InputError(fmt::format("{}: cannot load this checkpoint into the model: {}", path.string(),
                                 std::string(e.what_without_backtrace()).substr(0, 300)));
  }
}

std::optional<std::int64_t> last_checkpoint(const fs::path& run) {
  std::optional<std::int64_t> last;
  for (std::int64_t e = 0; fs::exists(checkpoint_path(run, e)); ++e) last = e;
  return last;
}

// Sum of squares of all gradients, as a 0-d tensor on the model's device (read with the step's other numbers).
torch::Tensor gradient_square_sum(torch::nn::Module& m) {
  std::vector<torch::Tensor> squares;
  for (const auto& p : m.parameters()) {
    if (p.grad().defined()) squares.push_back(p.grad().pow(2).sum());
  }
  return torch::stack(squares).sum();
}

void flatten_gradients(const torch::nn::Module& m, std::vector<float>& out) {
  out.resize(parameter_count(m));
  std::size_t offset = 0;
  for (const auto& p : m.parameters()) {
    const auto n = p.numel();
    auto dst = torch::from_blob(out.data() + offset, {n}, torch::kFloat32);
    if (p.grad().defined()) dst.copy_(p.grad().detach().reshape({n})); else dst.zero_();
    offset += static_cast<std::size_t>(n);
  }
}

}  // namespace

fs::path checkpoint_path(const fs::path& run, std::int64_t epoch) {
  return run / "checkpoints" / fmt::format("model_epoch_{}.pt", epoch);
}

void load_checkpoint(Network& model, const fs::path& run, std::int64_t epoch, torch::Device device) {
  const fs::path path = checkpoint_path(run, epoch);
  if (!fs::exists(path)) {
    throw InputError(fmt::format("{}: no such checkpoint (epoch {} of the run {})", path.string(), epoch, run.string()));
  }
  load_module(model, path, device);
}

Dataset run_training_data(const fs::path& run) {
  const auto split = load_dataset(run_config_value(run, "dataset"), run_config_value(run, "data_dir"));
  return split.train.first(std::stoll(run_config_value(run, "limit_train")));
}

std::shared_ptr<Network> run_model(const fs::path& run, const Dataset& data) {
  return make_model(run_config_value(run, "model"), data.channels(), data.classes);
}

std::string Trainer::study_run_name(const TrainerOptions& o) {
  return fmt::format("{}_sgd_lr={:g}_bs={}_wd={:g}_mom={:g}_save_epoch=1", o.model, o.lr, o.batch_size,
                     o.weight_decay, o.momentum);
}

void TrainerOptions::validate() const {
  constexpr const char* owner = "TrainerOptions";
  require(epochs >= 0, owner, fmt::format("epochs must be >= 0, got {}", epochs));
  require(batch_size >= 1, owner, fmt::format("batch_size must be >= 1, got {}", batch_size));
  require(lr >= 0, owner, fmt::format("lr must be >= 0, got {}", lr));
  require(momentum >= 0 && momentum < 1, owner, fmt::format("momentum must lie in [0, 1), got {}", momentum));
  require(weight_decay >= 0, owner, fmt::format("weight_decay must be >= 0, got {}", weight_decay));
  require(limit_train >= 0 && limit_test >= 0, owner,
          fmt::format("limit_train and limit_test must be >= 0, got {} and {}", limit_train, limit_test));
  require(record_shards >= 1 && record_shards <= 1000, owner,
          fmt::format("record_shards must lie in [1, 1000], got {}", record_shards));
  const auto names = model_names();
  require(std::find(names.begin(), names.end(), model) != names.end(), owner,
          fmt::format("unknown model '{}': expected one of {}", model, fmt::join(names, ", ")));
  (void)choose_device(device);     // throws for an unknown device, or CUDA without one
}

Trainer::Trainer(TrainerOptions options, DataSplit data)
    : options_(std::move(options)), data_(std::move(data)), device_(torch::kCPU) {
  const auto& o = options_;
  o.validate();
  if (!o.record_weights && o.projection == 0) {
    log_line(o.log, "anodiff: neither the weights nor a projection of them will be recorded");
  }
  device_ = choose_device(o.device);
  data_.train = data_.train.first(o.limit_train);
  data_.test = data_.test.first(o.limit_test);
  model_ = make_model(o.model, data_.train.channels(), data_.train.classes, o.seed);
  if (!o.init_from.empty()) load_state_dict(*model_, o.init_from.string());
  model_->to(device_);
  if (device_.is_cpu()) use_channels_last(*model_);
  dir_ = o.out / (o.run_name.empty() ? study_run_name(o) : o.run_name);
  fs::create_directories(dir_ / "checkpoints");
  for (const auto& e : fs::directory_iterator(dir_ / "checkpoints")) {
    if (e.path().extension() == ".tmp") fs::remove(e.path());  // a checkpoint whose write never completed
  }
  const auto config = config_of(o);
  if (fs::exists(dir_ / "config.txt")) {
    const auto old = read_run_config(dir_);
    for (const auto& [key, value] : config) {
      auto it = std::find_if(old.begin(), old.end(), [&](const auto& kv) { return kv.first == key; });
      const std::string found = it == old.end() ? "(missing)" : it->second;
      if (found != value) {
        throw InputError(fmt::format("{}: this run directory holds a run with {} = {}; these options ask for {} "
                                     "(use another output folder or remove the directory)",
                                     (dir_ / "config.txt").string(), key, found, value));
      }
    }
    // record_shards enters config.txt only above 1 (so that older runs compare equal): an unsharded rerun of a
    // sharded run is refused as well.
    auto sharded = std::find_if(old.begin(), old.end(), [](const auto& kv) { return kv.first == "record_shards"; });
    if (o.record_shards <= 1 && sharded != old.end() && sharded->second != "1") {
      throw InputError(fmt::format("{}: this run directory holds a run with record_shards = {}; these options ask "
                                   "for 1 (use another output folder or remove the directory)",
                                   (dir_ / "config.txt").string(), sharded->second));
    }
  } else {
    std::string text = "# anodiff training run; epochs may be raised to continue it\n";
    for (const auto& [k, v] : config) text += k + " = " + v + "\n";
    write_text_durably(dir_ / "config.txt", text);
  }
}

std::int64_t Trainer::steps_per_epoch() const {
  return (data_.train.size() + options_.batch_size - 1) / options_.batch_size;
}

Evaluation evaluate(Network& model, const Dataset& data, std::int64_t batch_size, torch::Device device) {
  torch::NoGradGuard no_grad;
  model.eval();
  double loss = 0, wrong = 0;
  std::mt19937_64 unused(0);
  std::vector<std::int64_t> idx;
  for (std::int64_t start = 0; start < data.size(); start += batch_size) {
    idx.clear();
    for (std::int64_t i = start; i < std::min(data.size(), start + batch_size); ++i) idx.push_back(i);
    auto x = make_batch(data, idx, false, unused).to(device);
    if (device.is_cpu()) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    auto y = data.labels.slice(0, start, start + std::int64_t(idx.size())).to(device);
    auto logits = model.forward(x);
    loss += torch::nn::functional::cross_entropy(logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
    wrong += logits.argmax(1).ne(y).sum().item<double>();
  }
  return {loss / double(data.size()), wrong / double(data.size())};
}

namespace {

// What a run records: the weights (one writer, or one per shard, shard k writing coordinates [first[k], ...)), the
// random projection, the gradients; the weights go to the writers through a SnapshotQueue on a worker thread, so
// that the copy and the append overlap the next step.
class RunRecorder {
 public:
  RunRecorder(const TrainerOptions& o, const Network& model, const fs::path& dir, std::size_t dimension) {
    if (o.record_weights) {
      const ParameterLayout layout = parameter_layout(model);  // which coordinates are which tensor
      if (o.record_shards <= 1) {
        traj_.emplace_back(dir / "trajectory", dimension, kStepColumns);
        shard_first_.push_back(0);
        layout.write_csv(dir / "trajectory" / "layout.csv");
      } else {
        const auto ranges = layout_shards(layout, o.record_shards);
        traj_.reserve(ranges.size());
        for (std::size_t k = 0; k < ranges.size(); ++k) {
          const ParameterLayout part = layout_part(layout, ranges[k].first, ranges[k].second);
          const fs::path shard_dir = dir / "trajectory" / fmt::format("shard_{:03d}", k);
          traj_.emplace_back(shard_dir, part.dimension(), kStepColumns);
          shard_first_.push_back(layout.tensors[ranges[k].first].offset);
          part.write_csv(shard_dir / "layout.csv");
        }
      }
    }
    if (o.projection > 0) {
      sketch_.emplace(dimension, o.projection, o.seed);
      proj_.emplace(dir / "projection", o.projection, kStepColumns);
      s_.resize(o.projection);
    }
    if (o.save_gradients) {
      grads_.emplace(dir / "gradients", dimension, kStepColumns);
      fs::create_directories(dir / "gradients" / "epoch_mean");
    }
    if (!traj_.empty() || proj_) {
      snapshots_.emplace([this](const float* w, const std::vector<double>& row) {
        for (std::size_t k = 0; k < traj_.size(); ++k) traj_[k].append(w + shard_first_[k], row);
        if (proj_) {
          sketch_->apply(w, s_.data());
          proj_->append(s_.data(), row);
        }
      });
    }
  }
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;

  /// The gradient writer, if the run saves gradients.
  std::optional<TrajectoryWriter>& gradients() { return grads_; }

  /// Hands the module's weights (one snapshot) to the writers.
  void record(const torch::nn::Module& model, double step, double epoch, double loss, double grad_norm) {
    if (snapshots_) snapshots_->push(model, {step, epoch, loss, grad_norm});
  }

  /// Waits for the queued snapshots, then commits every writer.
  void commit() {
    if (snapshots_) snapshots_->drain();
    for (auto& w : traj_) w.commit();
    if (proj_) proj_->commit();
    if (grads_) grads_->commit();
  }

  /// Every writer cut back to the checkpoint of epoch `last` (`steps` per epoch); one may be a chunk ahead after a kill.
  void resume_at(std::int64_t last, std::int64_t steps, const fs::path& dir) {
    const std::size_t expected = 1 + std::size_t(last) * std::size_t(steps);
    std::vector<TrajectoryWriter*> writers;
    for (auto& w : traj_) writers.push_back(&w);
    if (proj_) writers.push_back(&*proj_);
    for (auto* wr : writers) {
      if (wr->committed() < expected) {
        throw InputError(fmt::format("{}: {} snapshots recorded, but the checkpoint of epoch {} needs {}",
                                     dir.string(), wr->committed(), last, expected));
      }
      wr->truncate(expected);
    }
    if (grads_) grads_->truncate(std::size_t(last) * std::size_t(steps));
  }

  /// Every writer emptied, for a run that starts from its initial weights.
  void restart() {
    for (auto& w : traj_) w.truncate(0);
    for (auto* wr : {&proj_, &grads_}) {
      if (*wr) (*wr)->truncate(0);
    }
  }

  /// An epoch's end: the trajectory's and the sketch's chunks, then the optimiser state and the checkpoint, each
  /// written durably, in this order; on the worker after the epoch's last snapshot when there is one.
  void finish_epoch(const fs::path& dir, std::int64_t epoch, std::string optimizer_state, std::string checkpoint) {
    auto finish = [this, dir, epoch, optimizer_state = std::move(optimizer_state), checkpoint = std::move(checkpoint)] {
      for (auto& w : traj_) w.commit();
      if (proj_) proj_->commit();
      if (!optimizer_state.empty()) {
        detail::write_file_durably(dir / "checkpoints" / fmt::format("optimizer_epoch_{}.pt", epoch), optimizer_state,
                                   nullptr, 0);
      }
      detail::write_file_durably(checkpoint_path(dir, epoch), checkpoint, nullptr, 0);
    };
    if (snapshots_) {
      snapshots_->post(std::move(finish));
    } else {
      finish();
    }
  }

  /// Waits until every queued snapshot and epoch end is on disk.
  void drain() {
    if (snapshots_) snapshots_->drain();
  }

 private:
  std::vector<TrajectoryWriter> traj_;
  std::vector<std::size_t> shard_first_;
  std::optional<RandomProjection> sketch_;
  std::optional<TrajectoryWriter> proj_, grads_;
  std::vector<float> s_;
  std::optional<detail::SnapshotQueue> snapshots_;  // last: its worker stops before the writers it uses go
};

// Rows of `t` (keyed by its "epoch" column) after epoch `last` removed.
void keep_epochs_up_to(StepTable& t, std::int64_t last) {
  const auto& epoch = t.columns[t.names[0] == "epoch" ? 0 : 1];
  std::size_t keep = 0;
  while (keep < epoch.size() && epoch[keep] <= double(last)) ++keep;
  for (auto& c : t.columns) c.resize(keep);
}

// The epoch's gradients (`rows`, r x D): appends each step's gradient norm |g_t| and noise norm |g_t - g_mean| to
// `noise` and returns the epoch-mean gradient.
std::vector<float> gradient_noise(const std::vector<float>& rows, std::size_t D, std::int64_t epoch,
                                  std::int64_t steps, StepTable& noise) {
  std::vector<double> mean(D, 0.0);
  const std::size_t r = rows.size() / D;
  for (std::size_t i = 0; i < r; ++i) {
    for (std::size_t j = 0; j < D; ++j) mean[j] += rows[i * D + j];
  }
  std::vector<float> meanf(D);
  for (std::size_t j = 0; j < D; ++j) meanf[j] = float(mean[j] /= double(r));
  for (std::size_t i = 0; i < r; ++i) {
    double s2 = 0, g2 = 0;
    for (std::size_t j = 0; j < D; ++j) s2 += (rows[i * D + j] - mean[j]) * (rows[i * D + j] - mean[j]), g2 += double(rows[i * D + j]) * rows[i * D + j];
    const std::vector<double> row = {double((epoch - 1) * steps + std::int64_t(i) + 1), double(epoch), std::sqrt(g2), std::sqrt(s2)};
    for (std::size_t c = 0; c < 4; ++c) noise.columns[c].push_back(row[c]);
  }
  return meanf;
}

// The optimiser's state from `file` (written at an epoch's end when the run has momentum), if there is one.
void load_optimizer(torch::optim::SGD& optimizer, const fs::path& file, const torch::Device& device) {
  if (!fs::exists(file)) return;
  torch::serialize::InputArchive a;
  a.load_from(file.string(), device);
  optimizer.load(a);
}

// metrics.csv's rows as typed metrics.
std::vector<EpochMetrics> epoch_metrics(const StepTable& metrics) {
  std::vector<EpochMetrics> out;
  for (std::size_t r = 0; r < metrics.rows(); ++r) {
    EpochMetrics m;
    m.epoch = std::int64_t(metrics.columns[0][r]);
    m.train_loss = metrics.columns[1][r];
    m.train_error = metrics.columns[2][r];
    m.test_loss = metrics.columns[3][r];
    m.test_error = metrics.columns[4][r];
    m.seconds = metrics.columns[5][r];
    m.images_per_second = metrics.columns[6][r];
    out.push_back(m);
  }
  return out;
}

}  // namespace

// What one call of run() carries from its start through every epoch.
struct Trainer::Session {
  Session(const TrainerOptions& o, Network& model, const fs::path& dir, std::size_t dimension, const DataSplit& data,
          torch::Device device)
      : D(dimension),
        recorder(o, model, dir, dimension),
        optimizer(model.parameters(),
                  torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay)) {
    metrics.names = kMetricColumns;
    metrics.columns.assign(kMetricColumns.size(), {});
    noise.names = {"step", "epoch", "grad_norm", "noise_norm"};
    noise.columns.assign(4, {});
    // Batches assembled on the training device (the data uploaded once, the augmentation batched), or make_batch's
    // per-image path on the CPU: the same values bit for bit.
    if (o.device_batches) batches.emplace(data.train, device);
  }
  std::size_t D;                    // parameters
  RunRecorder recorder;             // the trajectory, its shards, sketch and gradients
  StepTable metrics;                // metrics.csv: a row per epoch
  StepTable noise;                  // gradients/noise.csv: a row per step (with save_gradients)
  torch::optim::SGD optimizer;
  std::optional<DeviceBatches> batches;
  std::vector<float> gradient;      // one step's flattened gradient (with save_gradients)
};

std::int64_t Trainer::resume(Session& s) {
  const auto& o = options_;
  const std::int64_t steps = steps_per_epoch();
  const auto last_saved = last_checkpoint(dir_);
  if (last_saved) {
    const std::int64_t last = *last_saved;
    load_module(*model_, checkpoint_path(dir_, last), device_);
    if (device_.is_cpu()) use_channels_last(*model_);
    load_optimizer(s.optimizer, dir_ / "checkpoints" / fmt::format("optimizer_epoch_{}.pt", last), device_);
    s.recorder.resume_at(last, steps, dir_);
    if (fs::exists(dir_ / "metrics.csv")) s.metrics = StepTable::read_csv(dir_ / "metrics.csv");
    keep_epochs_up_to(s.metrics, last);
    if (s.recorder.gradients() && fs::exists(dir_ / "gradients" / "noise.csv")) {
      s.noise = StepTable::read_csv(dir_ / "gradients" / "noise.csv");
    }
    keep_epochs_up_to(s.noise, last);
    if (last < o.epochs) log_line(o.log, fmt::format("anodiff: resuming {} after epoch {}", dir_.string(), last));
    return last;
  }
  s.recorder.restart();
  s.recorder.record(*model_, 0, 0, kNaN, kNaN);  // snapshot 0: the initial weights, no loss yet
  s.recorder.commit();
  const auto test = evaluate(*model_, data_.test, std::min<std::int64_t>(o.batch_size, 1000), device_);
  for (auto [c, v] : {std::pair{0, 0.0}, {1, kNaN}, {2, kNaN}, {3, test.loss}, {4, test.error}, {5, 0.0}, {6, kNaN}}) {
    s.metrics.columns[c].push_back(v);
  }
  s.metrics.write_csv(dir_ / "metrics.csv");
  save_module(*model_, checkpoint_path(dir_, 0));
  return 0;
}

void Trainer::train_epoch(Session& s, std::int64_t epoch, Progress& progress, std::size_t& done) {
  const auto& o = options_;
  const std::int64_t steps = steps_per_epoch();
  const std::int64_t n = data_.train.size();
  auto& grads = s.recorder.gradients();
  const auto order = epoch_order(n, o.seed, epoch);
  std::mt19937_64 gen(o.seed * 7919ull + std::uint64_t(epoch));
  model_->train();
  double loss_sum = 0, wrong = 0;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::int64_t> idx;
  for (std::int64_t step = 0; step < steps; ++step) {
    idx.assign(order.begin() + step * o.batch_size, order.begin() + std::min(n, (step + 1) * o.batch_size));
    torch::Tensor x, y;
    if (s.batches) {
      x = s.batches->images(idx, o.augment, gen);
      y = s.batches->labels(idx);
    } else {
      x = make_batch(data_.train, idx, o.augment, gen).to(device_);
      y = data_.train.labels.index_select(0, torch::from_blob(idx.data(), {std::int64_t(idx.size())}, torch::kInt64)).to(device_);
    }
    if (device_.is_cpu()) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    auto logits = model_->forward(x);
    auto loss = torch::nn::functional::cross_entropy(logits, y);
    s.optimizer.zero_grad();
    loss.backward();
    // Loss, gradient norm and errors in one transfer from the device.
    const auto numbers = torch::stack({loss.detach().to(torch::kFloat64), gradient_square_sum(*model_).to(torch::kFloat64),
                                       logits.argmax(1).ne(y).sum().to(torch::kFloat64)}).to(torch::kCPU);
    const double loss_value = numbers[0].item<double>();
    const double grad_norm = std::sqrt(numbers[1].item<double>());
    if (grads) {
      flatten_gradients(*model_, s.gradient);
      const double t = double((epoch - 1) * steps + step + 1);
      grads->append(s.gradient.data(), {t, double(epoch), loss_value, grad_norm});
    }
    s.optimizer.step();
    s.recorder.record(*model_, double((epoch - 1) * steps + step + 1), double(epoch), loss_value, grad_norm);
    if (o.after_step) o.after_step((epoch - 1) * steps + step + 1);
    loss_sum += loss_value * double(idx.size());
    wrong += numbers[2].item<double>();
    ++done;
    progress.update(done, fmt::format("epoch {}/{} step {}/{} loss {:.4f}", epoch, o.epochs, step + 1, steps,
                                      loss_value));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (grads) {
    // Epoch-mean gradient and the noise norm |g_t - g_mean| of each step.
    const auto meanf = gradient_noise(grads->pending(), s.D, epoch, steps, s.noise);
    detail::npy_write(dir_ / "gradients" / "epoch_mean" / fmt::format("epoch_{:04d}.npy", epoch),
                      detail::NpyType::float32, {s.D}, meanf.data());
    s.noise.write_csv(dir_ / "gradients" / "noise.csv");
    grads->commit();
  }
  const auto test = evaluate(*model_, data_.test, std::min<std::int64_t>(o.batch_size, 1000), device_);
  const std::vector<double> row = {double(epoch), loss_sum / double(n), wrong / double(n), test.loss, test.error,
                                   seconds, double(n) / seconds};
  for (std::size_t c = 0; c < row.size(); ++c) s.metrics.columns[c].push_back(row[c]);
  s.metrics.write_csv(dir_ / "metrics.csv");
  write_training_plot(dir_, {o.plots, o.log});
  // The epoch's end: the trajectory's and the sketch's chunks, then the optimiser state and the checkpoint, each
  // written durably, in this order. With a recorder this runs on its worker after the epoch's last snapshot, while
  // the next epoch's first steps run (they wait once 4 snapshots do); the checkpoint is taken now, as bytes. The
  // metrics and the gradients were written above: a resume cuts them back to the last checkpoint.
  std::string optimizer_state;
  if (o.momentum > 0) {
    torch::serialize::OutputArchive a;
    s.optimizer.save(a);
    optimizer_state = archive_bytes(a);
  }
  s.recorder.finish_epoch(dir_, epoch, std::move(optimizer_state), module_bytes(*model_));
  log_line(o.log, fmt::format("epoch {}/{}: train loss {:.4f} error {:.4f}, test loss {:.4f} error {:.4f}, {:.0f} images/s",
                              epoch, o.epochs, row[1], row[2], test.loss, test.error, row[6]));
}

std::vector<EpochMetrics> Trainer::run() {
  const auto& o = options_;
  Session s(o, *model_, dir_, parameter_count(*model_), data_, device_);
  const std::int64_t last = resume(s);  // the epoch training goes on after
  const std::int64_t total_steps = (o.epochs - last) * steps_per_epoch();
  Progress progress(o.log, fmt::format("training {}", o.model), std::size_t(std::max<std::int64_t>(total_steps, 0)), 2.0);
  std::size_t done = 0;
  for (std::int64_t epoch = last + 1; epoch <= o.epochs; ++epoch) train_epoch(s, epoch, progress, done);
  s.recorder.drain();  // the last epoch's chunks and checkpoint are on disk when run() returns
  return epoch_metrics(s.metrics);
}
}  // namespace anodiff
