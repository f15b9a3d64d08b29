// libFuzzer target: a trajectory directory. The input holds up to three chunk .npy files, steps.csv and layout.csv,
// separated by "\n##\n"; they are written to a folder, which is loaded as a trajectory (every snapshot read, the loss
// column taken), reopened by a TrajectoryWriter (resume) and its layout read.
#include <vector>

#include "anodiff/trajectory/parameter_layout.hpp"
#include "anodiff/trajectory/trajectory_writer.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  const fs::path dir = anodiff::fuzz::scratch() / "trajectory";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  const auto parts = anodiff::fuzz::split_input(data, size, 5);
  auto put = [&](const std::string& name, const std::string& bytes) {
    anodiff::fuzz::write_file(dir / name, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  };
  for (std::size_t c = 0; c < 3; ++c) {
    if (!parts[c].empty() || c == 0) put("chunk_00000" + std::to_string(c) + ".npy", parts[c]);
  }
  if (!parts[3].empty()) put("steps.csv", parts[3]);
  if (!parts[4].empty()) put("layout.csv", parts[4]);
  std::size_t dimension = 0;
  anodiff::fuzz::expect_input_errors_only([&] {
    const auto t = anodiff::WeightTrajectory::load(dir);
    dimension = t.dimension();
    std::vector<double> row(t.dimension());
    for (std::size_t s = 0; s < t.size(); ++s) t.read(s, 1, 0, t.dimension(), row.data());
    (void)t.loss();
    if (t.size() > 1) (void)t.slice(1, t.size() - 1).snapshot(0);
  });
  anodiff::fuzz::expect_input_errors_only([&] {
    if (!parts[4].empty()) {
      const auto layout = anodiff::ParameterLayout::read_csv(dir / "layout.csv");
      (void)layout.dimension();
      (void)layout.groups();
    }
  });
  if (dimension > 0 && dimension < (1u << 20)) {  // resume: the writer reopens what is there
    anodiff::fuzz::expect_input_errors_only([&] {
      anodiff::TrajectoryWriter w(dir, dimension, {"step", "epoch", "loss", "grad_norm"});
      (void)w.committed();
    });
  }
  return 0;
}
