#include "anodiff/torch/reproduction.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/base/error.hpp"
#include "anodiff/torch/hessian_run.hpp"
#include "anodiff/torch/landscape_probe.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/torch/parameters.hpp"
#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/torch/scripted_model.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "detail/npy.hpp"

namespace anodiff {
namespace fs = std::filesystem;

std::int64_t RunSpec::samples(std::int64_t available) const {
  return limit_train > 0 ? std::min<std::int64_t>(limit_train, available) : available;
}

std::int64_t RunSpec::steps(std::int64_t available) const {
  return (samples(available) + batch_size - 1) / batch_size * epochs;
}

std::string RunSpec::label(std::int64_t available) const {
  return fmt::format("{}, batch {}, lr {:g}, {} steps", model, batch_size, lr, steps(available));
}

void RunSpec::validate(const char* owner, const std::string& path) const {
  require(epochs >= 1, owner, fmt::format("{}epochs must be at least 1, got {}", path, epochs));
  require(batch_size >= 1, owner, fmt::format("{}batch_size must be at least 1, got {}", path, batch_size));
  require(lr > 0, owner, fmt::format("{}lr must be positive, got {}", path, lr));
  require(limit_train >= 0, owner, fmt::format("{}limit_train must be >= 0, got {}", path, limit_train));
  require(part_length >= 2, owner, fmt::format("{}part_length must be at least 2, got {}", path, part_length));
  require(is_builtin_model(model), owner,
          fmt::format("{}model: unknown model '{}': expected one of {}", path, model, fmt::join(model_names(), ", ")));
}

ReproductionOptions ReproductionOptions::named_preset(const std::string& name) {
  ReproductionOptions s;
  s.preset = name;
  RunSpec& m = s.main_run;
  if (name == "paper") {
    s.dataset = "cifar10";
    m.epochs = 500;
    m.limit_train = 0;
    s.limit_test = 0;
    m.part_length = 1000;
    s.hessian_batch = 128;
    s.eigenvalues = 20;
    s.hessian_every = 5;
    s.landscape_epochs = {300, 500};
    s.landscape_points = 51;
    s.landscape_samples = 0;
  } else if (name == "sweep") {
    m.epochs = 10;
  } else if (name == "study") {
    // The study's regime (its Fig. 2: ResNet-14, batch 1024, lr 0.1, augmentation, parts of 1,000 steps) for its
    // 24,500 steps, on Fashion-MNIST unless --dataset cifar10: 416 epochs of 59 steps = 24,544 steps.
    m.limit_train = 0;
    m.epochs = 416;
    m.part_length = 1000;
    s.hessian_every = 52;
    s.hessian_batch = 128;
    s.landscape_points = 21;
    s.landscape_samples = 1000;
  } else if (name == "quick") {
    // Chosen by the search in docs/reproducing.md: the study's fc3 over its run length (24,388 steps, parts of
    // 1,000) and a short ResNet-14 stage (BatchNorm, Hessian, landscape), within 12 minutes on 2 AVX2 cores.
    m.batch_size = 128;
    m.limit_train = 16384;
    m.epochs = 3;
    m.part_length = 192;
    s.hessian_every = 1;
    RunSpec fc3;
    fc3.model = "fc3";
    fc3.epochs = 52;
    fc3.batch_size = 128;
    fc3.lr = 0.1;  // the study's (paper-methods.md); session 4 ran 0.3, chosen on the outcome, now dropped
    fc3.augment = false;
    fc3.limit_train = 0;
    fc3.part_length = 1000;
    s.long_run = fc3;
    s.keep_trajectory = false;  // the fc3 trajectory is 11 GB: removed once analysed
  } else {
    throw std::invalid_argument(fmt::format("ReproductionOptions: the preset must be quick, study, paper or sweep, got '{}'", name));
  }
  return s;
}

void ReproductionOptions::validate() const {
  constexpr const char* owner = "ReproductionOptions";
  main_run.validate(owner, "main_run.");
  if (long_run) long_run->validate(owner, "long_run.");
  require(limit_test >= 0, owner, fmt::format("limit_test must be >= 0, got {}", limit_test));
  require(eigenvalues >= 1, owner, "eigenvalues must be at least 1, got 0");
  require(landscape_points >= 2, owner, fmt::format("landscape_points must be at least 2, got {}", landscape_points));
  require(toy_steps >= 2 && toy_repeats >= 2, owner,
          fmt::format("toy_steps and toy_repeats must be at least 2, got {} and {}", toy_steps, toy_repeats));
  (void)choose_device(device);  // throws for an unknown device, or CUDA without one
}

namespace {

// The marker left in a run directory whose trajectory was removed after the analysis.
constexpr const char* kTrajectoryRemoved = "trajectory_removed.txt";

// Bytes of the trajectory directories under `dir` (0 if none).
std::uintmax_t bytes_under(const fs::path& dir) {
  std::uintmax_t bytes = 0;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) bytes += e.file_size(ec);
  }
  return bytes;
}

std::string gigabytes(std::uintmax_t bytes) { return fmt::format("{:.1f} GB", double(bytes) / 1e9); }

// Says the disk the runs' trajectories need (4 bytes a parameter a step, the initial weights included) and refuses to
// start, with one line, when the disk under `dir` has less free than what is still to be recorded.
// `runs` pairs each run with the trainer's options it runs with (for its directory).
void check_disk(const std::vector<std::pair<RunSpec, TrainerOptions>>& runs, const DataSplit& data, const fs::path& dir,
                bool keep, const LogSink& log) {
  std::uintmax_t total = 0, missing = 0;
  std::string each;
  for (const auto& [spec, o] : runs) {
    const std::int64_t steps = spec.steps(data.train.size());
    const auto net = make_model(o.model, data.train.channels(), data.train.classes);
    const std::uintmax_t bytes = std::uintmax_t(steps + 1) * parameter_count(*net) * sizeof(float);
    const std::uintmax_t have = bytes_under(o.out / Trainer::study_run_name(o) / "trajectory");
    total += bytes;
    missing += bytes > have ? bytes - have : 0;
    each += fmt::format("{}{} {}", each.empty() ? "" : ", ", o.model, gigabytes(bytes));
  }
  std::error_code ec;
  const auto space = fs::space(dir, ec);
  log_line(log, fmt::format("anodiff-reproduce: disk: the trajectories take {} ({}){}; {} still to record, {} free on {}",
                            gigabytes(total), each, keep ? "" : ", removed once analysed (--keep-trajectory keeps them)",
                            gigabytes(missing), ec ? std::string("an unknown amount") : gigabytes(space.available),
                            dir.string()));
  if (!ec && space.available < missing) {
    throw InputError(fmt::format("{}: the trajectories need {} more disk ({}), {} is free: free some space or give --out "
                                 "on a larger disk",
                                 dir.string(), gigabytes(missing), each, gigabytes(space.available)));
  }
}

// Times each stage and announces it.
class Stages {
 public:
  Stages(const LogSink& log, std::vector<std::pair<std::string, double>>& times) : log_(log), times_(times) {}
  template <typename Work>
  auto run(const std::string& name, Work&& work) {
    log_line(log_, fmt::format("anodiff-reproduce: == {} ==", name));
    const auto t0 = std::chrono::steady_clock::now();
    auto finish = [&] {
      times_.emplace_back(name, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    };
    if constexpr (std::is_void_v<decltype(work())>) {
      work();
      finish();
    } else {
      auto r = work();
      finish();
      return r;
    }
  }

 private:
  const LogSink& log_;
  std::vector<std::pair<std::string, double>>& times_;
};

TrainerOptions trainer_options(const ReproductionOptions& s, const RunSpec& run, const fs::path& out) {
  TrainerOptions o;
  o.model = run.model;
  o.dataset = s.dataset;
  o.data_dir = s.data_dir;
  o.out = out;
  o.epochs = run.epochs;
  o.batch_size = run.batch_size;
  o.lr = run.lr;
  o.augment = run.augment;
  o.limit_train = run.limit_train;
  o.limit_test = s.limit_test;
  o.device = s.device;
  o.log = s.log;
  return o;
}

// Trains (or resumes) the run `spec` with the trainer's options `o` (trainer_options, changed where needed) and
// analyses its trajectory in parts of spec.part_length, as anodiff-train and anodiff-post-analysis do.
AnalysedRun train_and_analyse(Stages& stages, const std::string& what, const RunSpec& spec, const TrainerOptions& o,
                              const DataSplit& data, const fs::path& analysis, const OutputOptions& output,
                              const LogSink& log, const std::string& label) {
  AnalysedRun a;
  a.label = label;
  a.spec = spec;
  a.description = {label, o.model, o.batch_size, o.lr, {}};
  // A run whose trajectory was removed after an earlier analysis (keep_trajectory = false) is trained again.
  const fs::path removed = o.out / Trainer::study_run_name(o) / kTrajectoryRemoved;
  if (fs::exists(removed)) {
    log_line(log, fmt::format("anodiff-reproduce: {} was removed after its analysis: training it again", removed.parent_path().string()));
    fs::remove_all(removed.parent_path());
  }
  a.samples = spec.samples(data.train.size());
  a.metrics = stages.run("train" + what, [&] {
    Trainer trainer(o, data);
    a.run = trainer.directory();
    return trainer.run();
  });
  a.parts = stages.run("post-analysis" + what, [&] {
    const auto trajectory = WeightTrajectory::load(a.run / "trajectory");
    a.dimension = trajectory.dimension();
    PostAnalysisOptions p;
    p.part_length = spec.part_length;
    p.log = log;
    p.layout = ParameterLayout::find(a.run / "trajectory");  // layout.csv, or a sharded trajectory's joined
    p.validate(trajectory.size());
    auto parts = post_analysis(trajectory, p);
    write_post_analysis(parts, analysis, output);
    a.part_loss = part_losses(trajectory.loss(), parts);
    return parts;
  });
  a.analysis = analysis;
  return a;
}

}  // namespace

ReproductionResult run_reproduction(const ReproductionOptions& s, const fs::path& dir, const OutputOptions& output) {
  s.validate();
  ReproductionResult r;
  r.options = s;
  r.options.log = nullptr;
  Stages stages(s.log, r.stage_seconds);
  const DataSplit data = load_dataset(s.dataset, s.data_dir);  // a missing data folder fails before any work
  fs::create_directories(dir);
  const RunSpec& m = s.main_run;
  r.samples = m.samples(data.train.size());
  r.steps = m.steps(data.train.size());
  log_line(s.log, fmt::format("anodiff-reproduce: preset {}: {} on {}, {} samples, batch {}, {} epochs = {} steps",
                              s.preset, m.model, s.dataset, r.samples, m.batch_size, m.epochs, r.steps));
  const TrainerOptions main = trainer_options(s, m, dir / "run");
  std::optional<TrainerOptions> long_run;
  if (s.long_run) {
    long_run = trainer_options(s, *s.long_run, dir / "long_run");
    long_run->plots = false;
  }
  std::vector<std::pair<RunSpec, TrainerOptions>> all_runs;
  if (long_run) all_runs.emplace_back(*s.long_run, *long_run);
  all_runs.emplace_back(m, main);
  check_disk(all_runs, data, dir, s.keep_trajectory, s.log);
  if (s.preset == "paper" || s.preset == "study") {
    // A time estimate first, from the first epoch; the full run then resumes after it.
    auto first = main;
    first.epochs = 1;
    const auto metrics = stages.run("train (first epoch)", [&] { return Trainer(first, data).run(); });
    const double per_epoch = metrics.size() > 1 ? metrics.back().seconds : NAN;
    log_line(s.log, fmt::format("anodiff-reproduce: {:.3g} s per epoch on this machine: {} epochs take about {:.2g} "
                                "hours, the Hessian and the landscapes more (docs/reproducing.md)",
                                per_epoch, m.epochs, per_epoch * double(m.epochs) / 3600));
  }
  if (long_run) {
    const RunSpec& l = *s.long_run;
    r.runs.push_back(train_and_analyse(stages,
                                       fmt::format(" (long run: {}, {} steps)", l.model, l.steps(data.train.size())),
                                       l, *long_run, data, dir / "long_analysis", output, s.log,
                                       l.label(data.train.size())));
  }
  r.runs.push_back(train_and_analyse(stages, "", m, main, data, dir / "analysis", output, s.log,
                                     m.label(data.train.size())));
  const fs::path run = r.runs.back().run;

  HessianRunOptions h;
  h.epochs = s.hessian_epochs;
  if (h.epochs.empty()) {
    if (s.hessian_every > 0) {
      for (std::int64_t e = 0; e <= m.epochs; e += s.hessian_every) h.epochs.push_back(e);
      if (m.epochs % s.hessian_every != 0) h.epochs.push_back(m.epochs);  // always the last
    } else {
      h.epochs = {0, m.epochs};
    }
  }
  h.eigen.k = s.eigenvalues;
  h.data.batch_size = s.hessian_batch;
  h.device = s.device;
  h.log = s.log;
  r.hessian = stages.run("hessian", [&] {
    auto result = hessian_along_run(run, h);
    write_hessian_run(result, dir / "hessian", output);
    return result;
  });

  std::vector<std::int64_t> landscape_epochs = s.landscape_epochs;
  if (landscape_epochs.empty()) landscape_epochs = {m.epochs};
  landscape_epochs.erase(std::remove_if(landscape_epochs.begin(), landscape_epochs.end(),
                                        [&](std::int64_t e) { return e > m.epochs; }),
                         landscape_epochs.end());
  for (auto e : landscape_epochs) {
    stages.run(fmt::format("landscape (epoch {})", e), [&] {
      ReproducedLandscape l;
      l.epoch = e;
      l.directory = dir / fmt::format("landscape_epoch_{}", e);
      RunLandscapeOptions o;
      o.epoch = e;
      o.x = Axis{-1, 1, s.landscape_points};
      o.y = Axis{-1, 1, s.landscape_points};
      o.grid.samples = s.landscape_samples;
      o.grid.log = s.log;
      o.device = s.device;
      l.landscape = landscape_of_run(run, o, l.directory);
      l.roughness = landscape_roughness(l.landscape.grid);
      write_landscape(l.landscape, l.roughness, l.directory, output);
      r.landscapes.push_back(std::move(l));
    });
  }

  SimplifiedModelOptions toy;
  toy.sgd.steps = s.toy_steps;
  toy.sgd.repeats = s.toy_repeats;
  toy.log = s.log;
  r.simplified = stages.run("simplified model", [&] {
    auto result = run_simplified_model(toy);
    write_simplified_model(result, dir / "simplified_model", output);
    return result;
  });
  if (!s.keep_trajectory) {
    for (const auto& a : r.runs) {
      const std::uintmax_t bytes = bytes_under(a.run / "trajectory");
      fs::remove_all(a.run / "trajectory");
      detail::write_file_durably(a.run / kTrajectoryRemoved,
                         fmt::format("The weight trajectory ({}) was removed after its analysis (keep_trajectory = "
                                     "false; anodiff-reproduce --keep-trajectory keeps it).\n", gigabytes(bytes)),
                                 nullptr, 0);
      log_line(s.log, fmt::format("anodiff-reproduce: removed {} ({}) after its analysis; --keep-trajectory keeps it",
                                  (a.run / "trajectory").string(), gigabytes(bytes)));
    }
  }
  return r;
}

std::vector<SweepRow> run_sweep(const ReproductionOptions& s, const fs::path& dir) {
  s.validate();
  struct Config {
    std::string group, model;
    std::int64_t batch;
    double lr;
  };
  std::vector<Config> configs;
  for (const char* m : {"resnet14", "resnet20", "resnet56", "resnet14_noshort", "resnet20_noshort", "resnet56_noshort"}) {
    configs.push_back({"depth", m, 1024, 0.1});
  }
  for (double lr : {0.001, 0.01, 0.05, 0.1, 0.15, 0.3, 0.5}) configs.push_back({"lr", "resnet14", 128, lr});
  for (std::int64_t b : {128, 512, 1024}) configs.push_back({"batch", "resnet14", b, 0.1});
  const DataSplit data = load_dataset(s.dataset, s.data_dir);
  fs::create_directories(dir);
  std::vector<std::pair<std::string, double>> times;
  Stages stages(s.log, times);
  std::vector<SweepRow> rows;
  for (const auto& c : configs) {
    const std::string name = fmt::format("{}_bs{}_lr{:g}", c.model, c.batch, c.lr);
    RunSpec spec = s.main_run;
    spec.model = c.model;
    spec.batch_size = c.batch;
    spec.lr = c.lr;
    auto o = trainer_options(s, spec, dir / "runs");
    o.plots = false;
    o.log = nullptr;  // the stage headers only
    const auto a = train_and_analyse(stages, " " + name, spec, o, data, dir / "analysis" / name,
                                     OutputOptions{false, s.log}, nullptr, name);
    rows.push_back(sweep_row(c.group, c.model, c.batch, c.lr, a.parts));
  }
  write_sweep(rows, dir);
  return rows;
}

}  // namespace anodiff
