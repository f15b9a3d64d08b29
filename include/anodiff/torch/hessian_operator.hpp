#pragma once
/// \file hessian_operator.hpp  (anodiff::anodiff) Hessian-vector products by double backward: the Hessian as a
/// SymmetricOperator, for the algorithms of spectrum.hpp (extreme_eigenpairs, hutchpp_trace, spectral_density).
#include <cstddef>
#include <cstdint>
#include <string>
#include <functional>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "anodiff/torch/datasets.hpp"
#include "anodiff/torch/models.hpp"
#include "anodiff/trajectory/shard_reduction.hpp"
#include "anodiff/spectrum/spectrum.hpp"

namespace anodiff {

/// The Hessian of a loss sum_i w_i L_i with respect to all parameters of a module, as a matrix-free operator on
/// flattened parameter vectors (the order of flatten_parameters). Products are in the parameters' dtype.
class HessianOperator : public SymmetricOperator {
 public:
  /// One term L_i of the loss (e.g. the mean loss of one fixed batch) and its weight w_i.
  struct Term {
    std::function<torch::Tensor()> loss;  ///< Computes the scalar loss term from the module's current parameters.
    double weight = 1.0;                  ///< w_i.
  };
  /// `reuse_graph`: with a single term, keep the gradient's graph and reuse it for every product (faster, more
  /// memory); otherwise every product recomputes each term's gradient. Throws std::invalid_argument without terms.
  HessianOperator(torch::nn::Module& module, std::vector<Term> terms, bool reuse_graph = true);
  ~HessianOperator();
  HessianOperator(const HessianOperator&) = delete;
  HessianOperator& operator=(const HessianOperator&) = delete;

  /// D, the number of parameters.
  [[nodiscard]] std::size_t dimension() const override;
  /// y = H x for x, y of dimension() values.
  void apply(const double* x, double* y) override;
  /// The gradient of the loss (used to compare the cost of a product with that of a gradient).
  std::vector<double> gradient();
  /// The loss sum_i w_i L_i.
  double loss();
  /// Data shards: every product, gradient and loss is summed over the shards of `reduction` (each shard's operator
  /// holding its own terms, weighted for the whole), so that every shard's operator is the Hessian of the loss over
  /// all shards' data: one all-reduce of D doubles per product. nullptr (the default): this process alone. The
  /// reduction must outlive the operator's use.
  void reduce_over(ShardReduction* reduction);
  /// Products computed so far.
  [[nodiscard]] std::size_t products() const;
  /// Seconds spent in products so far.
  [[nodiscard]] double seconds() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Options for the classifier Hessian's fixed data.
struct HessianDataOptions {
  std::int64_t batch_size = 128;  ///< Batch size.
  std::int64_t batches = 1;       ///< Fixed batches averaged (0 = the whole data set, batch by batch).
  bool train_mode = false;        ///< BN in train mode (batch statistics) instead of eval mode.
  bool float64 = false;           ///< Products in float64 (the model is converted).
  std::uint64_t seed = 0;         ///< Which samples form the batches (a seeded permutation).
  ShardReduction* shards = nullptr;  ///< Data shards (e.g. MPI ranks): this shard takes the batches b with
                                     ///< b % shards == shard, the products are summed over the shards
                                     ///< (HessianOperator::reduce_over); nullptr: every batch here.
  /// Checks the values (batch_size >= 1, batches >= 0); throws std::invalid_argument naming the option and value
  /// (`owner` and `path` as EigenOptions::validate).
  void validate(const char* owner = "HessianDataOptions", const std::string& path = "") const;
};

/// The Hessian of the mean cross-entropy of `model` over fixed batches of `data` (no augmentation); the terms are
/// weighted by batch size so that several batches give the mean over their samples. With options.shards, this
/// shard's batches only, reduced over the shards: the same operator on every shard, equal to the one-process one
/// up to rounding. Throws std::invalid_argument when there are fewer batches than shards.
[[nodiscard]] std::unique_ptr<HessianOperator> classifier_hessian(Network& model, const Dataset& data,
                                                                  const HessianDataOptions& options,
                                                                  torch::Device device);

}  // namespace anodiff
