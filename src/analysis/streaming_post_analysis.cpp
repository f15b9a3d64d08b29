#include "anodiff/analysis/streaming_post_analysis.hpp"

#include <cmath>
#include <stdexcept>

namespace anodiff {

StreamingPostAnalysis::StreamingPostAnalysis(std::size_t dimension, PostAnalysisOptions options)
    : dimension_(dimension), options_(std::move(options)) {
  if (dimension_ == 0) throw std::invalid_argument("StreamingPostAnalysis: the dimension must be positive");
  if (options_.part_length == 1) throw std::invalid_argument("StreamingPostAnalysis: a part needs at least 2 snapshots");
  if (options_.part_length > 0) buffer_.reserve(options_.part_length * dimension_);
}

void StreamingPostAnalysis::add(const float* weights, double loss) {
  buffer_.insert(buffer_.end(), weights, weights + dimension_);
  loss_.push_back(loss);
  any_loss_ = any_loss_ || !std::isnan(loss);
  ++added_;
  if (options_.part_length > 0 && loss_.size() == options_.part_length) analyse_buffer();
}

void StreamingPostAnalysis::analyse_buffer() {
  const std::size_t count = loss_.size();
  const std::size_t start = options_.part_length > 0 ? added_ - count : 0;
  WeightTrajectory part = WeightTrajectory::from_rows(std::move(buffer_), dimension_);
  if (any_loss_) part.set_loss(loss_);
  PartResult r = analyse_part(part, {parts_.size(), 0, count}, options_);
  // Express the part in the numbering of the whole stream.
  r.part.start = start;
  r.msd.start = r.aging.start = r.beta.start = start;
  parts_.push_back(std::move(r));
  buffer_ = {};
  if (options_.part_length > 0) buffer_.reserve(options_.part_length * dimension_);
  loss_.clear();
  any_loss_ = false;
}

std::size_t StreamingPostAnalysis::finish() {
  if (options_.part_length == 0) {
    if (loss_.size() < 2) throw std::invalid_argument("StreamingPostAnalysis::finish: fewer than 2 snapshots were added");
    analyse_buffer();
    return 0;
  }
  const std::size_t dropped = loss_.size();
  buffer_.clear();
  loss_.clear();
  return dropped;
}

}  // namespace anodiff
