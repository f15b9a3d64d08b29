// libFuzzer target: one .npy file, opened as a trajectory (T, D) and as a 1-D series, every value read.
#include <vector>

#include "anodiff/trajectory/weight_trajectory.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = anodiff::fuzz::scratch() / "input.npy";
  anodiff::fuzz::write_file(file, data, size);
  anodiff::fuzz::expect_input_errors_only([&] {
    const auto t = anodiff::WeightTrajectory::load(file);
    std::vector<double> row(t.dimension());
    for (std::size_t s = 0; s < t.size(); ++s) t.read(s, 1, 0, t.dimension(), row.data());
  });
  anodiff::fuzz::expect_input_errors_only([&] { (void)anodiff::load_series(file); });
  return 0;
}
