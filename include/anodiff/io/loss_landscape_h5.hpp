#pragma once
/// \file loss_landscape_h5.hpp  Li et al.'s loss-landscape .h5 layout (tomgoldstein/loss-landscape): the surface
/// file (xcoordinates, ycoordinates, train_loss, train_acc, dir_file) and the direction file (groups xdirection and
/// ydirection, one dataset per parameter tensor), so that its plot_2D.py / plot_1D.py and h52vtp.py read anodiff's
/// landscapes and anodiff's roughness analysis reads theirs. Needs HDF5 at configure time (have_hdf5() in
/// study_trajectory.hpp); without it each function throws InputError saying so. docs/formats.md has the layout.
#include <filesystem>
#include <string>
#include <vector>

#include "anodiff/landscape/landscape_grid.hpp"
#include "anodiff/trajectory/parameter_layout.hpp"

namespace anodiff {

/// Writes `grid` as a loss-landscape surface file: `xcoordinates` (and `ycoordinates` for a 2-D grid), `train_loss`
/// and `train_acc` (accuracy in percent, as loss-landscape's evaluation gives it; -1 where a point is unknown, as
/// loss-landscape marks points not yet computed), of shape (y points, x points), value (x_i, y_j) at flat index
/// j * nx + i as loss-landscape's meshgrid order stores it; and `dir_file`, the direction file's path. Throws
/// IoError if the file cannot be written.
void write_loss_landscape_surface(const LandscapeGrid& grid, const std::filesystem::path& file,
                                  const std::string& dir_file = {});

/// Writes directions as a loss-landscape direction file: group `xdirection` (and `ydirection` when `d2` is not
/// empty) with datasets "0", "1", ... one per tensor of `layout`, in its order and shape (float32). Throws
/// std::invalid_argument if a direction's size is not layout.dimension(); IoError if the file cannot be written.
void write_loss_landscape_directions(const std::vector<float>& d1, const std::vector<float>& d2,
                                     const ParameterLayout& layout, const std::filesystem::path& file);

/// Reads a loss-landscape surface file: the axes from `xcoordinates` (and `ycoordinates`; evenly spaced, as
/// np.linspace makes them), the loss from the dataset `surface` (train_loss by default; negative values, which
/// loss-landscape writes for points not computed, become NaN) and the accuracy from `train_acc` when present
/// (percent; NaN otherwise). Throws InputError naming the file and what was expected for a missing dataset, a
/// shape that does not match the coordinates, or coordinates that are not evenly spaced.
[[nodiscard]] LandscapeGrid read_loss_landscape_surface(const std::filesystem::path& file,
                                                        const std::string& surface = "train_loss");

/// Reads a loss-landscape direction file: the flattened directions (x first, then y when present), each the
/// datasets "0", "1", ... of its group concatenated in C order. Throws InputError naming the file for a missing group
/// or dataset.
[[nodiscard]] std::vector<std::vector<float>> read_loss_landscape_directions(const std::filesystem::path& file);

}  // namespace anodiff
