#pragma once
/// \file shard_reduction.hpp  The all-reduce that joins the shards of one computation: the coordinate shards of a
/// trajectory's statistics (post_analysis.hpp) and the data shards of a Hessian (hessian_operator.hpp). MPI programs
/// implement it with MPI_Allreduce (MpiReduction, examples/mpi_session.hpp); a test can implement it in one process.
#include <cstddef>
#include <string>

#include "anodiff/base/error.hpp"

namespace anodiff {

/// One of `count` shards of a computation (an MPI rank, one process of a sharded grid or binning): shard `index`.
struct Shard {
  std::size_t index = 0;  ///< This shard, 0..count-1.
  std::size_t count = 1;  ///< Number of shards; 1 = the whole computation in one.
  /// Throws std::invalid_argument "OWNER: shard I of N: expected 0 <= I < N" unless index < count.
  void validate(const char* owner = "Shard") const {
    require(index < count, owner,
            "shard " + std::to_string(index) + " of " + std::to_string(count) + ": expected 0 <= index < count");
  }
};

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
  /// This shard of the computation.
  [[nodiscard]] Shard shard_of() const { return {shard(), shards()}; }
};

}  // namespace anodiff
