#include "anodiff/torch/hessian_operator.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "anodiff/base/error.hpp"

namespace anodiff {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

// ------------------------------------------------------------------------------------------------ HessianOperator
struct HessianOperator::Impl {
  std::vector<torch::Tensor> params;
  std::vector<Term> terms;
  bool reuse = false;
  std::vector<torch::Tensor> cached_grads;  // first-order graph of the single term, kept for reuse
  std::size_t dimension = 0;
  std::size_t products = 0;
  double seconds = 0;
  ShardReduction* reduction = nullptr;  // data shards: sums over the shards

  std::vector<torch::Tensor> split(const double* x) const {
    const auto& p0 = params.front();
    auto flat = torch::from_blob(const_cast<double*>(x), {std::int64_t(dimension)}, torch::kFloat64)
                    .to(p0.device(), p0.scalar_type());
    std::vector<torch::Tensor> out;
    std::int64_t offset = 0;
    for (const auto& p : params) {
      out.push_back(flat.narrow(0, offset, p.numel()).view(p.sizes()));
      offset += p.numel();
    }
    return out;
  }
  void gather(const std::vector<torch::Tensor>& parts, double* y) const {
    std::vector<torch::Tensor> flat;
    for (const auto& t : parts) flat.push_back(t.reshape({-1}));
    const auto host = torch::cat(flat).to(torch::kCPU, torch::kFloat64).contiguous();
    std::memcpy(y, host.data_ptr<double>(), dimension * sizeof(double));
  }
  std::vector<torch::Tensor> first_order(const Term& t, bool create_graph) {
    return torch::autograd::grad({t.loss()}, params, {}, /*retain_graph=*/create_graph, create_graph);
  }
};

HessianOperator::HessianOperator(torch::nn::Module& module, std::vector<Term> terms, bool reuse_graph)
    : impl_(std::make_unique<Impl>()) {
  if (terms.empty()) throw std::invalid_argument("HessianOperator: no loss terms");
  for (const auto& p : module.parameters()) {
    if (p.requires_grad()) impl_->params.push_back(p);
  }
  if (impl_->params.empty()) throw std::invalid_argument("HessianOperator: the module has no trainable parameters");
  for (const auto& p : impl_->params) impl_->dimension += std::size_t(p.numel());
  impl_->terms = std::move(terms);
  impl_->reuse = reuse_graph && impl_->terms.size() == 1;
}

HessianOperator::~HessianOperator() = default;

std::size_t HessianOperator::dimension() const { return impl_->dimension; }
std::size_t HessianOperator::products() const { return impl_->products; }
double HessianOperator::seconds() const { return impl_->seconds; }

void HessianOperator::apply(const double* x, double* y) {
  const double t0 = now();
  auto& m = *impl_;
  const auto v = m.split(x);
  std::vector<torch::Tensor> total;
  for (const auto& term : m.terms) {
    std::vector<torch::Tensor> grads;
    if (m.reuse) {
      if (m.cached_grads.empty()) m.cached_grads = m.first_order(term, true);
      grads = m.cached_grads;
    } else {
      grads = m.first_order(term, true);
    }
    torch::Tensor inner = torch::zeros({}, grads.front().options());
    for (std::size_t i = 0; i < grads.size(); ++i) inner = inner + (grads[i] * v[i]).sum();
    auto hv = torch::autograd::grad({inner}, m.params, {}, /*retain_graph=*/m.reuse);
    if (total.empty()) {
      for (auto& h : hv) total.push_back(h * term.weight);
    } else {
      for (std::size_t i = 0; i < hv.size(); ++i) total[i].add_(hv[i], term.weight);
    }
  }
  m.gather(total, y);
  if (m.reduction) m.reduction->sum(y, m.dimension);
  ++m.products;
  m.seconds += now() - t0;
}

std::vector<double> HessianOperator::gradient() {
  auto& m = *impl_;
  std::vector<torch::Tensor> total;
  for (const auto& term : m.terms) {
    auto g = m.first_order(term, false);
    if (total.empty()) {
      for (auto& t : g) total.push_back(t * term.weight);
    } else {
      for (std::size_t i = 0; i < g.size(); ++i) total[i].add_(g[i], term.weight);
    }
  }
  std::vector<double> out(m.dimension);
  m.gather(total, out.data());
  if (m.reduction) m.reduction->sum(out.data(), m.dimension);
  return out;
}

double HessianOperator::loss() {
  torch::NoGradGuard no_grad;
  double total = 0;
  for (const auto& term : impl_->terms) total += term.weight * term.loss().item<double>();
  if (impl_->reduction) impl_->reduction->sum(&total, 1);
  return total;
}

void HessianOperator::reduce_over(ShardReduction* reduction) { impl_->reduction = reduction; }

// ------------------------------------------------------------------------------------------------ classifier data
void HessianDataOptions::validate(const char* owner, const std::string& path) const {
  require(batch_size >= 1, owner, fmt::format("{}batch_size must be >= 1, got {}", path, batch_size));
  require(batches >= 0, owner, fmt::format("{}batches must be >= 0, got {}", path, batches));
}

std::unique_ptr<HessianOperator> classifier_hessian(Network& model, const Dataset& data,
                                                    const HessianDataOptions& o, torch::Device device) {
  o.validate();
  const std::int64_t n = data.size();
  const std::int64_t used = o.batches == 0 ? n : std::min(n, o.batches * o.batch_size);
  if (used == 0) throw std::invalid_argument("classifier_hessian: the data set is empty");
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (o.batches != 0) std::shuffle(order.begin(), order.end(), std::mt19937_64(o.seed));
  if (o.float64) model.to(torch::kFloat64);
  model.to(device);
  if (o.train_mode) model.train(); else model.eval();
  const auto dtype = o.float64 ? torch::kFloat64 : torch::kFloat32;
  std::vector<HessianOperator::Term> terms;
  std::mt19937_64 unused(0);
  const std::int64_t batches = (used + o.batch_size - 1) / o.batch_size;
  const std::int64_t shards = o.shards ? std::int64_t(o.shards->shards()) : 1;
  const std::int64_t shard = o.shards ? std::int64_t(o.shards->shard()) : 0;
  if (batches < shards) {
    throw std::invalid_argument(fmt::format("classifier_hessian: {} batches of {} samples cannot be split among {} "
                                            "shards: give more batches (or a smaller batch size)", batches,
                                            o.batch_size, shards));
  }
  for (std::int64_t start = shard * o.batch_size; start < used; start += shards * o.batch_size) {
    const std::vector<std::int64_t> idx(order.begin() + start, order.begin() + std::min(used, start + o.batch_size));
    auto x = make_batch(data, idx, false, unused).to(device, dtype);
    auto y = data.labels.index_select(0, torch::tensor(idx, torch::kInt64)).to(device);
    const double weight = double(idx.size()) / double(used);
    terms.push_back({[&model, x, y] { return torch::nn::functional::cross_entropy(model.forward(x), y); }, weight});
  }
  auto op = std::make_unique<HessianOperator>(model, std::move(terms));
  op->reduce_over(o.shards);
  return op;
}

}  // namespace anodiff
