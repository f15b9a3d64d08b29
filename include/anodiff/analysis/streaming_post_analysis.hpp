#pragma once
/// \file streaming_post_analysis.hpp  StreamingPostAnalysis: the post-analysis of each part (post_analysis()), fed one
/// snapshot at a time by a training loop instead of read from a recorded trajectory.
#include <cstddef>
#include <limits>
#include <vector>

#include "anodiff/analysis/post_analysis.hpp"

namespace anodiff {

/// Takes snapshots as a training loop produces them and analyses each part as soon as it is complete, without
/// writing the trajectory to disk. Holds one part (part_length x D floats). Results equal post_analysis() of the
/// same snapshots.
class StreamingPostAnalysis {
 public:
  /// Snapshots of `dimension` values; options.part_length > 0 sets the part (0: one part, analysed by finish()).
  StreamingPostAnalysis(std::size_t dimension, PostAnalysisOptions options = {});
  /// Adds snapshot t (the next one) with its loss (NaN if none); analyses the part when it is complete.
  void add(const float* weights, double loss = std::numeric_limits<double>::quiet_NaN());
  /// Without a part length: analyses everything added and returns 0. With one: drops the incomplete last part and
  /// returns the number of snapshots dropped.
  std::size_t finish();
  /// Results of the parts completed so far.
  [[nodiscard]] const std::vector<PartResult>& parts() const { return parts_; }
  /// Snapshots added.
  [[nodiscard]] std::size_t snapshots() const { return added_; }

 private:
  void analyse_buffer();
  std::size_t dimension_;
  PostAnalysisOptions options_;
  std::vector<float> buffer_;
  std::vector<double> loss_;
  bool any_loss_ = false;
  std::size_t added_ = 0;
  std::vector<PartResult> parts_;
};

}  // namespace anodiff
