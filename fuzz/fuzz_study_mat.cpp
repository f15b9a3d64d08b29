// libFuzzer target: the study's MATLAB trajectory files (v5 and compressed v7 through libmatio, v7.3 through
// libhdf5): the input is one model_1_sub_loss_w.mat, read as a trajectory. Seeds: tests/study_files.py (scipy's
// savemat, h5py with MATLAB's header).
#include "fuzz_study_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  anodiff::fuzz::read_study_file("model_1_sub_loss_w.mat", data, size);
  return 0;
}
