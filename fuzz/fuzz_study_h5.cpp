// libFuzzer target: the study's HDF5 trajectory files (h5py, 2021): the input is one model_1_sub_loss_w.h5, read as
// a trajectory. Seeds: tests/study_files.py.
#include "fuzz_study_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  anodiff::fuzz::read_study_file("model_1_sub_loss_w.h5", data, size);
  return 0;
}
