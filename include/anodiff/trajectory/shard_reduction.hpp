#pragma once
/// \file shard_reduction.hpp  The all-reduce that joins the shards of one computation: the coordinate shards of a
/// trajectory's statistics (post_analysis.hpp) and the data shards of a Hessian (hessian_operator.hpp). MPI programs
/// implement it with MPI_Allreduce (MpiReduction, examples/mpi_session.hpp); a test can implement it in one process.
#include <cstddef>

namespace anodiff {

/// Every shard calls sum() in the same order with the same count, and each call replaces data[0, count) on every
/// shard by the sum over shards (an all-reduce), the same values on every shard. Shards are numbered 0..shards()-1
/// (coordinate shards in column order).
class ShardReduction {
 public:
  virtual ~ShardReduction() = default;
  /// Number of shards.
  [[nodiscard]] virtual std::size_t shards() const = 0;
  /// This shard's index, 0..shards()-1 (coordinate shards: shard k holds columns before shard k + 1's).
  [[nodiscard]] virtual std::size_t shard() const = 0;
  /// All-reduce: data[0, count) becomes the sum over shards.
  virtual void sum(double* data, std::size_t count) = 0;
};

}  // namespace anodiff
