#pragma once
// The study's trajectory files read into rows (private to anodiff::core): one reader per format, study_mat.cpp for
// MATLAB's .mat (libmatio) and study_h5.cpp for .h5 (HDF5); study_trajectory.cpp joins the files of a run.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace anodiff::detail {

/// What a study file must hold, for the readers' messages.
extern const char* const kStudyExpected;

/// The rows of one file, converted to C order: steps x D values, float32 or float64, with per-step columns.
struct FileRows {
  std::size_t steps = 0, dimension = 0;
  bool float64 = false;
  std::vector<float> f;
  std::vector<double> d;
  std::vector<double> loss, grad_norm, noise_norm, step;  // empty when the file has none
};

/// "a, b, c" (or "none"): the variables or datasets a file has, for a message.
std::string join_names(const std::vector<std::string>& names);

/// A .mat file of the study (v5, v7 or v7.3; defined with libmatio only). Throws InputError naming the file.
FileRows read_mat(const std::filesystem::path& file);

/// A .h5 file of the study (defined with HDF5 only). Throws InputError naming the file.
FileRows read_h5(const std::filesystem::path& file);

}  // namespace anodiff::detail
