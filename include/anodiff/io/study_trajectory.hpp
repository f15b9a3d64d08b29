#pragma once
/// \file study_trajectory.hpp  The study's own trajectory files, read as one WeightTrajectory: the per-epoch
/// `model_E_sub_loss_w.mat` (2020: scipy's savemat, MATLAB v5/v7; v7.3 as MATLAB writes it) and
/// `model_E_sub_loss_w.h5` (2021: h5py) that its train_save wrote, and its MATLAB post-analysis's
/// `*_data_part_N.mat` (MSD_feed). The layouts are in docs/formats.md. .mat files need libmatio, .h5 files HDF5 at
/// configure time (have_matio(), have_hdf5()); neither library appears in this header.
#include <filesystem>
#include <vector>

#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {

/// Whether this build reads MATLAB .mat files (libmatio was found at configure time).
[[nodiscard]] bool have_matio();
/// Whether this build reads and writes HDF5 files (libhdf5 was found at configure time).
[[nodiscard]] bool have_hdf5();

/// Whether `path` names a file of the study's formats: extension .mat, .h5 or .hdf5 (by name only).
[[nodiscard]] bool is_study_file(const std::filesystem::path& path);

/// The per-epoch files of a run directory of the study: model_E_sub_loss_w.mat or .h5, in epoch order (empty if
/// there are none). Throws InputError naming the file that is missing between the first and the last epoch, or an
/// epoch held both as .mat and as .h5.
[[nodiscard]] std::vector<std::filesystem::path> study_trajectory_files(const std::filesystem::path& dir);

/// Reads study files one after the other as one trajectory held in memory (float32 unless a file holds float64).
/// Each file holds either `sub_weights` (a cell array of steps x parameter tensors, each tensor flattened in
/// PyTorch's C order as flatten_parameters does; or a numeric array whose first axis is the step), with `sub_loss`
/// (one loss per step) and, when present, `grads` (steps x D) and `gradient_noise_norm` (one per step); or the
/// MATLAB post-analysis's `MSD_feed` (steps x (D + 2): weights, step, loss). The step table has the columns step,
/// epoch and loss, plus grad_norm (|g_t| from `grads`) and noise_norm when the files have them; steps count from
/// (E - 1) S + 1 for the first file's epoch E (from its name model_E_...) and S steps per file.
/// Throws InputError naming the file and what was expected: a missing variable or dataset, a wrong shape, a
/// dimension that differs from the first file's, a truncated or unreadable file, a format this build cannot read.
[[nodiscard]] WeightTrajectory load_study_trajectory(const std::vector<std::filesystem::path>& files);

}  // namespace anodiff
