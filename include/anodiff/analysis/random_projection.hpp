#pragma once
/// \file random_projection.hpp  A seeded norm-preserving sketch of a parameter vector, for recording huge models.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace anodiff {

/// Count sketch S: R^D -> R^k: coordinate j goes to bucket h(j) with sign s(j), both drawn from the seed.
/// E|S x|^2 = |x|^2 and Var |S x|^2 <= 2 |x|^4 / k, so squared distances between sketched snapshots, and the MSD,
/// are unbiased with a relative standard deviation of about sqrt(2 / k) per distance (docs/random_projection.md).
class RandomProjection {
 public:
  /// A sketch from `input` to `output` dimensions; throws std::invalid_argument if either is 0.
  RandomProjection(std::size_t input, std::size_t output, std::uint64_t seed);
  /// out[0..output) = S x for x of input() values (O(D), no matrix).
  void apply(const float* x, float* out) const;
  /// D.
  [[nodiscard]] std::size_t input() const { return bucket_.size(); }
  /// k.
  [[nodiscard]] std::size_t output() const { return output_; }

 private:
  std::size_t output_;
  std::vector<std::uint32_t> bucket_;
  std::vector<float> sign_;
};

}  // namespace anodiff
