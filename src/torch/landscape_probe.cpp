#include "anodiff/torch/landscape_probe.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"
#include "anodiff/io/csv.hpp"
#include "detail/append_file.hpp"
#include "anodiff/torch/parameters.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/torch/runtime.hpp"
#include "anodiff/torch/scripted_model.hpp"
#include "anodiff/torch/trainer.hpp"
#include "anodiff/analysis/trajectory_pca.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Batches {
  std::vector<torch::Tensor> x, y;
  std::int64_t samples = 0;
};

Batches prepare(const Dataset& data, std::int64_t samples, std::int64_t batch_size, std::uint64_t seed,
                torch::Device device) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(data.size()));
  std::iota(order.begin(), order.end(), 0);
  std::int64_t used = data.size();
  if (samples > 0 && samples < data.size()) {
    std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
    used = samples;
  }
  Batches b;
  b.samples = used;
  std::mt19937_64 unused(0);
  for (std::int64_t s = 0; s < used; s += batch_size) {
    const std::vector<std::int64_t> idx(order.begin() + s, order.begin() + std::min(used, s + batch_size));
    auto x = make_batch(data, idx, false, unused).to(device);
    if (device.is_cpu()) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    b.x.push_back(x);
    b.y.push_back(data.labels.index_select(0, torch::tensor(idx, torch::kInt64)).to(device));
  }
  return b;
}

// Mean loss and error of the model over prepared batches.
Evaluation evaluate_batches(Network& model, const Batches& b) {
  torch::InferenceMode guard;
  model.eval();
  double loss = 0, correct = 0;
  for (std::size_t k = 0; k < b.x.size(); ++k) {
    auto logits = model.forward(b.x[k]);
    loss += torch::nn::functional::cross_entropy(logits, b.y[k],
                                                 torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
    correct += logits.argmax(1).eq(b.y[k]).sum().item<double>();
  }
  return {loss / double(b.samples), 1 - correct / double(b.samples)};
}

}  // namespace

std::vector<float> random_direction(const torch::nn::Module& model, std::uint64_t seed, DirectionNorm norm,
                                    bool ignore_biasbn) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<float> out;
  torch::NoGradGuard no_grad;
  for (const auto& p : model.parameters()) {
    const auto w = p.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    auto d = torch::randn(w.sizes(), gen, torch::kFloat32);
    if (w.dim() <= 1) {
      if (ignore_biasbn) d.zero_(); else d.copy_(w);
    } else if (norm == DirectionNorm::filter) {
      for (std::int64_t f = 0; f < w.size(0); ++f) d[f].mul_(w[f].norm() / (d[f].norm() + 1e-10));
    } else if (norm == DirectionNorm::layer) {
      d.mul_(w.norm() / (d.norm() + 1e-10));
    }
    const auto flat = d.reshape({-1});
    out.insert(out.end(), flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  }
  return out;
}

LandscapeGrid evaluate_landscape(Network& model, const std::vector<float>& d1, const std::vector<float>& d2,
                                 const Dataset& data, const LandscapeOptions& o, const fs::path& file,
                                 torch::Device device) {
  o.validate();
  std::vector<float> theta0;
  flatten_parameters(model, theta0);
  if (d1.size() != theta0.size() || (o.y.points > 1 && d2.size() != theta0.size())) {
    throw std::invalid_argument(fmt::format("evaluate_landscape: directions of {} and {} values for {} parameters",
                                            d1.size(), d2.size(), theta0.size()));
  }
  fs::create_directories(file.parent_path().empty() ? fs::path(".") : file.parent_path());
  LandscapeGrid g = read_landscape(file.parent_path().empty() ? fs::path(".") : file.parent_path(), o.x, o.y);
  detail::drop_torn_line(file);  // a line cut short by a full disk or a kill: appended lines start on their own
  CsvWriter out(file, "i,j,x,y,loss,accuracy", CsvWriter::Mode::append);  // the points of an earlier run kept
  out.flush();
  // The loss at the current weights: the cross-entropy (and accuracy) on the data, or the model's own loss().
  std::function<torch::Tensor()> own_loss;
  Batches batches;
  if (o.own_loss.empty()) {
    batches = prepare(data, o.samples, o.batch_size, o.seed, device);
  } else {
    own_loss = scripted_loss(model, o.own_loss);
  }
  std::vector<std::size_t> todo;
  for (std::size_t p = 0; p < o.x.points * o.y.points; ++p) {
    if (p % o.shard.count == o.shard.index && std::isnan(g.loss[p])) todo.push_back(p);
  }
  Progress progress(o.log, fmt::format("landscape ({} of {} points)", todo.size(), o.x.points * o.y.points), todo.size());
  std::vector<float> theta(theta0.size());
  std::size_t done = 0;
  // The model's weights are restored however the loop ends (a full disk's IoError included).
  struct Restore {
    Network& model;
    const std::vector<float>& theta0;
    ~Restore() { assign_parameters(model, theta0); }
  } restore{model, theta0};
  for (std::size_t p : todo) {
    const std::size_t i = p % o.x.points, j = p / o.x.points;
    const float a = float(o.x.at(i)), b = float(o.y.at(j));
    for (std::size_t k = 0; k < theta.size(); ++k) theta[k] = theta0[k] + a * d1[k] + (o.y.points > 1 ? b * d2[k] : 0.0f);
    assign_parameters(model, theta);
    double loss = std::numeric_limits<double>::quiet_NaN(), acc = loss;
    if (own_loss) {
      torch::NoGradGuard no_grad;
      model.eval();
      loss = own_loss().item<double>();
    } else {
      const auto e = evaluate_batches(model, batches);
      loss = e.loss;
      acc = e.accuracy();
    }
    g.loss[p] = loss;
    g.accuracy[p] = acc;
    out.row("{},{},{:.10g},{:.10g},{:.10g},{:.10g}", i, j, o.x.at(i), o.y.at(j), loss, acc);
    out.flush();  // each point on disk as soon as it is computed: a killed run resumes after it
    progress.update(++done, fmt::format("loss {:.4f}", loss));
  }
  if (!todo.empty()) progress.finish();
  return g;
}

}  // namespace anodiff

namespace anodiff {

void LandscapeOptions::validate() const {
  constexpr const char* owner = "LandscapeOptions";
  require(x.points >= 1 && y.points >= 1, owner,
          fmt::format("the axes need at least 1 point, got {} x {}", x.points, y.points));
  shard.validate(owner);
  require(batch_size >= 1, owner, fmt::format("batch_size must be >= 1, got {}", batch_size));
  require(samples >= 0, owner, fmt::format("samples must be >= 0, got {}", samples));
}

namespace {

// Whether two axes are the same.
bool same_axis(const Axis& a, const Axis& b) { return a.lo == b.lo && a.hi == b.hi && a.points == b.points; }

}  // namespace

void LandscapeAroundOptions::check(const char* owner) const {
  // No axes in the grid: the parent's x and y are the axes (grid.x and grid.y would be replaced without a word).
  const LandscapeOptions defaults;
  require(same_axis(grid.x, defaults.x) && same_axis(grid.y, defaults.y), owner,
          "set the axes in x and y, not in grid.x or grid.y (the grid's axes are taken from x and y)");
  grid.validate();
  (void)choose_device(device);
}

void RunLandscapeOptions::validate() const {
  constexpr const char* owner = "RunLandscapeOptions";
  require(epoch >= 0, owner, fmt::format("epoch must be given (>= 0), got {}", epoch));
  if (directions == LandscapeDirections::line) {
    require(line_to_epoch >= 0, owner, fmt::format("line_to_epoch must be >= 0 for a line, got {}", line_to_epoch));
    require(!y || y->points == 1, owner, fmt::format("a line is 1-D: y must have 1 point, got {}", y ? y->points : 1));
  }
  if (directions == LandscapeDirections::pca) {
    require(pca_part >= 0, owner, fmt::format("pca_part must be >= 0, got {}", pca_part));
    require(part_length >= 3, owner, fmt::format("part_length must be at least 3, got {}", part_length));
  }
  check(owner);
}

LandscapeResult landscape_of_run(const fs::path& run, const RunLandscapeOptions& options, const fs::path& dir) {
  options.validate();
  LandscapeOptions o = options.grid;
  const bool line = options.directions == LandscapeDirections::line;
  o.x = options.x.value_or(line ? Axis{-0.5, 1.5, 41} : Axis{-1, 1, 51});
  o.y = options.y.value_or(line ? Axis{0, 0, 1} : Axis{-1, 1, 51});
  const torch::Device device = choose_device(options.device);
  const Dataset data = run_training_data(run);
  auto model = run_model(run, data);
  load_checkpoint(*model, run, options.epoch, torch::kCPU);
  model->to(device);
  if (device.is_cpu()) use_channels_last(*model);
  LandscapeResult r;
  if (line) {
    auto other = run_model(run, data);
    load_checkpoint(*other, run, options.line_to_epoch, torch::kCPU);
    std::vector<float> a, b;
    flatten_parameters(*model, a);
    flatten_parameters(*other, b);
    r.direction1.resize(a.size());
    for (std::size_t k = 0; k < a.size(); ++k) r.direction1[k] = b[k] - a[k];
    r.title = fmt::format("from epoch {} (0) to epoch {} (1)", options.epoch, options.line_to_epoch);
  } else if (options.directions == LandscapeDirections::pca) {
    const auto traj = WeightTrajectory::load(run / "trajectory");
    const std::size_t length = options.part_length, first = std::size_t(options.pca_part) * length;
    if (first + length > traj.size()) {
      throw InputError(fmt::format("{}: part {} of {} snapshots needs snapshots up to {}, the trajectory has {}",
                                   (run / "trajectory").string(), options.pca_part, length, first + length,
                                   traj.size()));
    }
    const auto pca = trajectory_pca(traj, first, length, 2);
    // The centre is the part's last snapshot (BN statistics from the checkpoint of `epoch`).
    const auto centre = traj.snapshot(pca.reference);
    assign_parameters(*model, std::vector<float>(centre.begin(), centre.end()));
    r.direction1.assign(pca.directions[0].begin(), pca.directions[0].end());
    r.direction2.assign(pca.directions[1].begin(), pca.directions[1].end());
    r.path = pca.coordinates;
    double x0 = 0, x1 = 0, y0 = 0, y1 = 0;  // cover the projected path with a margin
    for (const auto& c : r.path) x0 = std::min(x0, c[0]), x1 = std::max(x1, c[0]), y0 = std::min(y0, c[1]), y1 = std::max(y1, c[1]);
    const double mx = 0.2 * (x1 - x0) + 1e-6, my = 0.2 * (y1 - y0) + 1e-6;
    if (!options.x) o.x = Axis{x0 - mx, x1 + mx, 31};
    if (!options.y) o.y = Axis{y0 - my, y1 + my, 31};
    r.title = fmt::format("PCA plane of part {} ({:.1f}% + {:.1f}% of the variance)", options.pca_part,
                          100 * pca.explained_variance_ratio[0], 100 * pca.explained_variance_ratio[1]);
  } else {
    r.direction1 = random_direction(*model, o.seed, options.norm, options.ignore_biasbn);
    r.direction2 = random_direction(*model, o.seed + 1, options.norm, options.ignore_biasbn);
    const char* norm = direction_norm_name(options.norm);
    r.title = fmt::format("epoch {}, {}-normalised random directions", options.epoch, norm);
  }
  fs::create_directories(dir);
  r.grid = evaluate_landscape(*model, r.direction1, r.direction2, data, o, landscape_file(dir, o.shard), device);
  r.layout = parameter_layout(*model);
  return r;
}

DirectionNorm parse_direction_norm(const std::string& name) {
  if (name == "filter") return DirectionNorm::filter;
  if (name == "layer") return DirectionNorm::layer;
  if (name == "none") return DirectionNorm::none;
  throw std::invalid_argument(fmt::format("the direction norm must be filter, layer or none, got '{}'", name));
}

const char* direction_norm_name(DirectionNorm norm) {
  return norm == DirectionNorm::filter ? "filter" : norm == DirectionNorm::layer ? "layer" : "none";
}

void ModelLandscapeOptions::validate() const { check("ModelLandscapeOptions"); }

LandscapeResult landscape_of_model(Network& model, const Dataset& data, const ModelLandscapeOptions& options,
                                   const fs::path& dir, const Network* line_to) {
  options.validate();
  LandscapeOptions o = options.grid;
  const bool line = line_to != nullptr;
  o.x = options.x.value_or(line ? Axis{-0.5, 1.5, 41} : Axis{-1, 1, 51});
  o.y = options.y.value_or(line ? Axis{0, 0, 1} : Axis{-1, 1, 51});
  require(!line || o.y.points == 1, "ModelLandscapeOptions",
          fmt::format("a line is 1-D: y must have 1 point, got {}", o.y.points));
  const torch::Device device = choose_device(options.device);
  model.to(device);
  const std::string centre = options.title.empty() ? std::string("the model") : options.title;
  LandscapeResult r;
  if (line) {
    std::vector<float> a, b;
    flatten_parameters(model, a);
    flatten_parameters(*line_to, b);
    if (a.size() != b.size()) {
      throw InputError(fmt::format("the line's end has {} parameters, the model {}: expected the same architecture",
                                   b.size(), a.size()));
    }
    r.direction1.resize(a.size());
    for (std::size_t k = 0; k < a.size(); ++k) r.direction1[k] = b[k] - a[k];
    r.title = fmt::format("from {} (0) to the other model (1)", centre);
  } else {
    r.direction1 = random_direction(model, o.seed, options.norm, options.ignore_biasbn);
    r.direction2 = random_direction(model, o.seed + 1, options.norm, options.ignore_biasbn);
    const char* norm = direction_norm_name(options.norm);
    r.title = fmt::format("{}, {}-normalised random directions", centre, norm);
  }
  fs::create_directories(dir);
  r.grid = evaluate_landscape(model, r.direction1, r.direction2, data, o, landscape_file(dir, o.shard), device);
  r.layout = parameter_layout(model);
  return r;
}

LandscapeResult landscape_of_model_files(const std::string& model, const std::string& checkpoint,
                                         const std::string& line_to, const std::optional<Dataset>& data,
                                         ModelLandscapeOptions options, const fs::path& dir) {
  options.validate();
  const bool builtin = check_model_argument(model), data_free = !data;
  if (data_free && options.grid.own_loss.empty()) options.grid.own_loss = "loss";  // the data-free loss
  if (data_free && builtin) {
    throw InputError(fmt::format("{}: --data-free needs a TorchScript --model: a built-in one has no loss()", model));
  }
  if (checkpoint.empty() && builtin) {
    throw InputError(fmt::format("{}: a built-in --model needs --checkpoint FILE (its weights)", model));
  }
  const std::string centre = checkpoint.empty() ? model : checkpoint;
  auto net = resolve_network(model, centre, data);
  if (data) check_classifier(*net, *data, centre);
  const auto end = line_to.empty() ? nullptr : resolve_network(model, line_to, data);
  options.title = fs::path(centre).filename().string();
  const Dataset unused;  // a data-free loss reads no data
  return landscape_of_model(*net, data ? *data : unused, options, dir, end.get());
}

}  // namespace anodiff
