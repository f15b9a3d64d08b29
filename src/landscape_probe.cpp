#include "anodiff/landscape_probe.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/error.hpp"
#include "anodiff/parameters.hpp"
#include "anodiff/progress.hpp"

namespace anodiff {
namespace fs = std::filesystem;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* kHeader = "i,j,x,y,loss,accuracy";

// Parses the complete lines of one surface file into the grid; a torn last line (killed mid-write) is ignored.
void merge_file(const fs::path& file, LandscapeGrid& g) {
  std::ifstream in(file);
  std::string line;
  if (!std::getline(in, line)) return;
  if (line != kHeader) {
    throw InputError(fmt::format("{}: expected the header '{}', found '{}'", file.string(), kHeader, line));
  }
  std::size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (in.eof() && !line.empty()) break;  // no newline: a line that was being written
    std::size_t i, j;
    double x, y, loss, acc;
    if (std::sscanf(line.c_str(), "%zu,%zu,%lf,%lf,%lf,%lf", &i, &j, &x, &y, &loss, &acc) != 6) continue;
    if (i >= g.x.points || j >= g.y.points || std::fabs(g.x.at(i) - x) > 1e-9 * (1 + std::fabs(x)) ||
        std::fabs(g.y.at(j) - y) > 1e-9 * (1 + std::fabs(y))) {
      throw InputError(fmt::format("{}:{}: point ({}, {}) at ({}, {}) does not belong to this grid (x {}:{}:{}, y "
                                   "{}:{}:{}); use another output directory",
                                   file.string(), line_no, i, j, x, y, g.x.lo, g.x.hi, g.x.points, g.y.lo, g.y.hi,
                                   g.y.points));
    }
    g.loss[j * g.x.points + i] = loss;
    g.accuracy[j * g.x.points + i] = acc;
  }
}

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

std::pair<double, double> evaluate(Network& model, const Batches& b) {
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
  return {loss / double(b.samples), correct / double(b.samples)};
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

Axis Axis::parse(const std::string& text) {
  Axis a;
  char extra;
  if (std::sscanf(text.c_str(), "%lf:%lf:%zu%c", &a.lo, &a.hi, &a.points, &extra) != 3 || a.points < 1 ||
      !(a.hi >= a.lo)) {
    throw std::invalid_argument(
        fmt::format("malformed range '{}': expected LO:HI:N with LO <= HI and N >= 1, e.g. -1:1:51", text));
  }
  return a;
}

std::size_t LandscapeGrid::evaluated() const {
  std::size_t n = 0;
  for (double v : loss) n += !std::isnan(v);
  return n;
}

fs::path landscape_file(const fs::path& dir, std::size_t shard, std::size_t shards) {
  return shards <= 1 ? dir / "surface.csv" : dir / fmt::format("surface.shard-{}-of-{}.csv", shard, shards);
}

LandscapeGrid read_landscape(const fs::path& dir, const Axis& x, const Axis& y) {
  LandscapeGrid g;
  g.x = x;
  g.y = y;
  g.loss.assign(x.points * y.points, kNaN);
  g.accuracy.assign(x.points * y.points, kNaN);
  if (!fs::is_directory(dir)) return g;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.rfind("surface", 0) == 0 && e.path().extension() == ".csv") merge_file(e.path(), g);
  }
  return g;
}

std::pair<double, double> loss_and_accuracy(Network& model, const Dataset& data, std::int64_t batch_size,
                                            torch::Device device) {
  return evaluate(model, prepare(data, 0, batch_size, 0, device));
}

LandscapeGrid evaluate_landscape(Network& model, const std::vector<float>& d1, const std::vector<float>& d2,
                                 const Dataset& data, const LandscapeOptions& o, const fs::path& file,
                                 torch::Device device) {
  if (o.shards < 1 || o.shard >= o.shards) {
    throw std::invalid_argument(fmt::format("--shard must be I/N with 0 <= I < N, got {}/{}", o.shard, o.shards));
  }
  std::vector<float> theta0;
  flatten_parameters(model, theta0);
  if (d1.size() != theta0.size() || (o.y.points > 1 && d2.size() != theta0.size())) {
    throw std::invalid_argument(fmt::format("evaluate_landscape: directions of {} and {} values for {} parameters",
                                            d1.size(), d2.size(), theta0.size()));
  }
  fs::create_directories(file.parent_path().empty() ? fs::path(".") : file.parent_path());
  LandscapeGrid g = read_landscape(file.parent_path().empty() ? fs::path(".") : file.parent_path(), o.x, o.y);
  const bool fresh = !fs::exists(file) || fs::file_size(file) == 0;
  std::ofstream out(file, std::ios::app);
  if (!out) throw InputError(fmt::format("{}: cannot write", file.string()));
  if (fresh) out << kHeader << '\n' << std::flush;
  const Batches batches = prepare(data, o.samples, o.batch_size, o.seed, device);
  std::vector<std::size_t> todo;
  for (std::size_t p = 0; p < o.x.points * o.y.points; ++p) {
    if (p % o.shards == o.shard && std::isnan(g.loss[p])) todo.push_back(p);
  }
  Progress progress(fmt::format("landscape ({} of {} points)", todo.size(), o.x.points * o.y.points), todo.size());
  std::vector<float> theta(theta0.size());
  std::size_t done = 0;
  for (std::size_t p : todo) {
    const std::size_t i = p % o.x.points, j = p / o.x.points;
    const float a = float(o.x.at(i)), b = float(o.y.at(j));
    for (std::size_t k = 0; k < theta.size(); ++k) theta[k] = theta0[k] + a * d1[k] + (o.y.points > 1 ? b * d2[k] : 0.0f);
    assign_parameters(model, theta);
    const auto [loss, acc] = evaluate(model, batches);
    g.loss[p] = loss;
    g.accuracy[p] = acc;
    out << fmt::format("{},{},{:.10g},{:.10g},{:.10g},{:.10g}\n", i, j, o.x.at(i), o.y.at(j), loss, acc) << std::flush;
    if (o.progress) progress.update(++done, fmt::format("loss {:.4f}", loss));
  }
  if (o.progress && !todo.empty()) progress.finish();
  assign_parameters(model, theta0);
  return g;
}

}  // namespace anodiff
