#pragma once
// The body of fuzz_study_mat and fuzz_study_h5: the input written as one study file named `name`, read as a
// trajectory (every snapshot and the step table's columns), the only allowed failure an InputError.
#include <string>
#include <vector>

#include "anodiff/io/study_trajectory.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "fuzz_util.hpp"

namespace anodiff::fuzz {

inline void read_study_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const auto file = scratch() / name;
  write_file(file, data, size);
  expect_input_errors_only([&] {
    const auto t = anodiff::load_study_trajectory({file});
    std::vector<double> row(t.dimension());
    for (std::size_t s = 0; s < t.size(); ++s) t.read(s, 1, 0, t.dimension(), row.data());
    (void)t.loss();
  });
}

}  // namespace anodiff::fuzz
