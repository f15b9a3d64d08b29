#pragma once
/// \file output.hpp  The output layer: every experiment's typed results written as files (CSV with a header line,
/// .npy, PNG drawn by gnuplot with its script beside it). The analyses return results and write nothing; the
/// programs (and the Python bindings) call these writers. docs/formats.md lists every file and column.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "anodiff/analysis/claims.hpp"
#include "anodiff/landscape/landscape_grid.hpp"
#include "anodiff/analysis/per_layer_msd.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/base/progress.hpp"
#include "anodiff/spectrum/hessian_spectrum.hpp"
#include "anodiff/toy/simplified_model.hpp"

namespace anodiff {

/// How results are written.
struct OutputOptions {
  bool plots = true;  ///< Draw the PNGs (and their gnuplot scripts) beside the CSVs.
  LogSink log;        ///< Where a note goes (a plot gnuplot could not draw); none by default.
};

/// Writes msd.csv, local_exponent.csv, fit.csv and the CSVs of the other quantities of a post-analysis into
/// `directory`, and the PNGs with their gnuplot scripts (of every part). With `first_new` > 0 the CSVs already hold
/// the rows of parts[0..first_new) (an earlier call's, as a TrajectoryFollower writes part by part): only the later
/// parts' rows are appended, and the files equal those one call with every part writes. Throws IoError if a file
/// cannot be written.
void write_post_analysis(const std::vector<PartResult>& parts, const std::filesystem::path& directory,
                         const OutputOptions& output = {}, std::size_t first_new = 0);

/// Writes per_layer_msd.csv: part, start, name, dimension, lag, msd. Throws IoError if it cannot.
void write_per_layer_msd(const std::vector<LayerMsd>& layers, const std::filesystem::path& path);
/// Writes per_layer_msd.csv (write_per_layer_msd) into `directory` and, with plots, per_layer_msd_part_P.png for
/// each part P: the MSD per coordinate (msd / dimension) of each tensor, layer or group against the lag, so that
/// layers of different sizes compare. Throws IoError if a file cannot be written.
void write_per_layer(const std::vector<LayerMsd>& layers, const std::filesystem::path& directory,
                     const OutputOptions& output = {});

/// Draws metrics.png in the run directory `run` from its metrics.csv (Trainer's): training and test loss and error
/// per epoch, with its gnuplot script. Nothing without output.plots.
void write_training_plot(const std::filesystem::path& run, const OutputOptions& output = {});
/// Writes the Hessian along a run into `directory`: eigenvalues.csv (a row per eigenpair and checkpoint, by rank),
/// trace.csv (checkpoints with a trace), density_epoch_E.csv (checkpoints with a density), eigenvectors_epoch_E.npy
/// (checkpoints whose result keeps the eigenvectors, (k, D) by rank), and with plots eigenvalues.png and
/// density_epoch_E.png. docs/formats.md lists the columns. Throws IoError if a file cannot be written.
void write_hessian_run(const HessianRun& run, const std::filesystem::path& directory, const OutputOptions& output = {});

/// Writes the claims of `runs` into `directory`: claims.csv (a row per run, claim and phase: yes, of, share, verdict
/// and the study's values), claims_parts.csv (each part read), claims.md (the tables) and, with plots, attenuation.png
/// (attenuation_I.png for run I of several): the band exponents and the training loss against the waiting time.
void write_claims(const std::vector<RunClaims>& runs, const std::filesystem::path& directory,
                  const OutputOptions& output = {});

/// Writes what anodiff-post-analysis writes of the parts of the trajectory recorded at `path` into `directory`:
/// write_post_analysis (with `first_new` as there) and claims.md with the study's claims judged on the parts
/// (describe_run(path, steps, `known`), the parts' mean losses from `trajectory`).
void write_trajectory_analysis(const std::filesystem::path& path, const WeightTrajectory& trajectory,
                               const std::vector<PartResult>& parts, const std::filesystem::path& directory,
                               const OutputOptions& output = {}, std::size_t first_new = 0,
                               const RunDescription& known = {});

/// A table, one line per part: start, early and late exponents, tau0 (or "none"), with uncertainties, and the
/// band exponents.
[[nodiscard]] std::string summary_table(const std::vector<PartResult>& parts);

/// Writes a landscape into `directory`: directions.npy (with directions), grid.csv, surface_loss.npy,
/// surface_accuracy.npy, trajectory_projection.csv (with a path), roughness.csv and structure_function.csv (with
/// `roughness`), and the contour map, accuracy heat map and 3-D surface (a 1-D line: line.png); with HDF5
/// (have_hdf5()), also the grid as Li et al.'s loss-landscape surface file surface.h5 and, with directions and their
/// layout, the direction file directions.h5 (loss_landscape_h5.hpp). Throws IoError if a file cannot be written.
void write_landscape(const LandscapeResult& landscape, const std::optional<LandscapeRoughness>& roughness,
                     const std::filesystem::path& directory, const OutputOptions& output = {});

/// Writes a simplified-model run into `directory`: walker_exponents.csv, and per landscape a folder named after it
/// (fractal, convex, random) with heights.npy, landscape.csv, paths.csv, msd.csv, local_exponent.csv, walkers.csv,
/// msd_mean.csv, fit.csv and step_length_histogram.csv; with plots, walker_exponents.png, msd_landscapes.png (more
/// than one landscape) and per landscape landscape.png, msd.png, step_length_histogram.png. Throws IoError if a file
/// cannot be written.
void write_simplified_model(const SimplifiedModelResult& result, const std::filesystem::path& directory,
                            const OutputOptions& output = {});

/// The two tables anodiff-simplified-model prints: per landscape the two-regime fits of the mean time-averaged MSD
/// and of the ensemble MSD with the tail index, then the per-walker exponents (median [quartiles], share above 1).
[[nodiscard]] std::string simplified_model_table(const SimplifiedModelResult& result);

}  // namespace anodiff
