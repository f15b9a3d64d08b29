#include "anodiff/analysis/random_projection.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "detail/random.hpp"

namespace anodiff {

RandomProjection::RandomProjection(std::size_t input, std::size_t output, std::uint64_t seed) : output_(output) {
  if (input == 0 || output == 0) {
    throw std::invalid_argument(fmt::format("RandomProjection: dimensions must be positive, got {} -> {}", input, output));
  }
  detail::Rng rng(detail::mix(seed, 0x5ce7c4u));
  bucket_.resize(input);
  sign_.resize(input);
  for (std::size_t j = 0; j < input; ++j) {
    const std::uint64_t r = rng.next();
    bucket_[j] = static_cast<std::uint32_t>((r >> 1) % output);
    sign_[j] = (r & 1) ? 1.0f : -1.0f;
  }
}

void RandomProjection::apply(const float* x, float* out) const {
  std::fill(out, out + output_, 0.0f);
  for (std::size_t j = 0; j < bucket_.size(); ++j) out[bucket_[j]] += sign_[j] * x[j];
}

}  // namespace anodiff
