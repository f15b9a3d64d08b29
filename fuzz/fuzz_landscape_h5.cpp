// libFuzzer target: loss-landscape's .h5 files (tomgoldstein/loss-landscape): the input, one HDF5 file, is read both
// as a surface file (train_loss, then train_acc) and as a direction file. Seeds: surfaces and directions written by
// h5py (tests/study_files.py) and by anodiff.
#include "anodiff/io/loss_landscape_h5.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = anodiff::fuzz::scratch() / "surface.h5";
  anodiff::fuzz::write_file(file, data, size);
  anodiff::fuzz::expect_input_errors_only([&] { (void)anodiff::read_loss_landscape_surface(file); });
  anodiff::fuzz::expect_input_errors_only([&] { (void)anodiff::read_loss_landscape_surface(file, "train_acc"); });
  anodiff::fuzz::expect_input_errors_only([&] { (void)anodiff::read_loss_landscape_directions(file); });
  return 0;
}
