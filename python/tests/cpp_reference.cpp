// The C++ side of the Python tests (python/tests/test_against_cpp.py): runs the library's analyses on a trajectory
// file and writes every number as float64 .npy, so that the test can require the Python module's results to be
// identical. Usage: anodiff_python_reference TRAJECTORY OUT_DIR PART_LENGTH [PROJECTION_K SEED]
//        anodiff_python_reference rewrite TRAJECTORY OUT_DIR ROWS,ROWS,...
// The second form writes the trajectory again with the C++ TrajectoryWriter (chunks of the given rows, the same
// steps.csv columns) and its layout.csv with ParameterLayout::write_csv, to compare with what Python wrote.
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "anodiff/analysis/msd.hpp"
#include "anodiff/analysis/per_layer_msd.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/analysis/random_projection.hpp"
#include "anodiff/trajectory/trajectory_writer.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

namespace fs = std::filesystem;
using namespace anodiff;

namespace {

void save(const fs::path& path, const std::vector<double>& v) { write_npy(path, v.data(), {v.size()}); }

template <class T>
std::vector<double> doubles(const std::vector<T>& v) {
  return {v.begin(), v.end()};
}

void save_curve(const fs::path& dir, const std::string& name, const MsdCurve& c) {
  save(dir / (name + "_lag.npy"), doubles(c.lag));
  save(dir / (name + "_msd.npy"), c.msd);
}

std::vector<double> fit_numbers(const CrossoverFit& f) {
  return {f.early_exponent, f.early_error,   f.late_exponent, f.late_error, f.crossover,
          f.crossover_error, f.breakpoint,   f.noise_floor,   f.floor_share, f.single_exponent,
          f.single_error,    f.lag_min,      f.lag_max,       double(f.points), f.rms,
          double(f.valid),   double(f.crossover_found)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: anodiff_python_reference TRAJECTORY OUT_DIR PART_LENGTH [PROJECTION_K SEED]\n");
    return 2;
  }
  try {
    if (std::string(argv[1]) == "rewrite") {
      const auto t = WeightTrajectory::load(argv[2]);
      const fs::path out = argv[3];
      TrajectoryWriter writer(out, t.dimension(), t.steps().names);
      std::stringstream sizes(argc > 4 ? argv[4] : "");
      std::size_t row = 0;
      std::vector<double> w(t.dimension());
      std::vector<float> wf(t.dimension());
      for (std::string n; std::getline(sizes, n, ',');) {
        for (std::size_t i = 0; i < std::stoul(n); ++i, ++row) {
          t.read(row, 1, 0, t.dimension(), w.data());
          for (std::size_t j = 0; j < w.size(); ++j) wf[j] = float(w[j]);
          std::vector<double> values;
          for (const auto& c : t.steps().columns) values.push_back(c[row]);
          writer.append(wf.data(), values);
        }
        writer.commit();
      }
      const fs::path layout = fs::path(argv[2]) / "layout.csv";
      if (fs::exists(layout)) ParameterLayout::read_csv(layout).write_csv(out / "layout.csv");
      return 0;
    }
    const fs::path in = argv[1], out = argv[2];
    const std::size_t part_length = std::stoul(argv[3]);
    fs::create_directories(out);
    const auto t = WeightTrajectory::load(in);

    MsdOptions mo;
    mo.part_length = part_length;
    const auto curves = msd(t, mo);
    for (const auto& c : curves) save_curve(out, fmt::format("msd_{}", c.part), c);
    for (const auto& c : aging_msd(t, mo)) save_curve(out, fmt::format("aging_{}", c.part), c);

    PostAnalysisOptions po;
    po.part_length = part_length;
    if (fs::is_directory(in) && fs::exists(in / "layout.csv")) po.layout = ParameterLayout::read_csv(in / "layout.csv");
    for (const auto& r : post_analysis(t, po)) {
      const std::string p = fmt::format("part_{}_", r.part.index);
      save_curve(out, p + "msd", r.msd);
      save_curve(out, p + "aging", r.aging);
      save(out / (p + "beta.npy"), r.beta.beta);
      save(out / (p + "fit.npy"), fit_numbers(r.fit));
      save(out / (p + "bands.npy"), {r.short_band.median, r.short_band.q25, r.short_band.q75, r.long_band.median,
                                     r.long_band.q25, r.long_band.q75});
      save(out / (p + "step_length.npy"), r.step_length);
      save(out / (p + "mean_contour.npy"), r.mean_contour);
      save(out / (p + "msd_contour.npy"), r.msd_contour.mean);
      save(out / (p + "msl_log.npy"), r.msl_log.mean);
      save(out / (p + "tail_index.npy"), {r.tail_index});
      std::vector<double> h;
      for (const auto& d : r.histograms) h.insert(h.end(), d.density.begin(), d.density.end());
      save(out / (p + "histograms.npy"), h);
      for (const auto& m : r.motion) save_curve(out, p + "motion_" + m.component, m.msd);
    }
    if (po.layout) {
      for (auto g : {LayerGrouping::tensor, LayerGrouping::layer, LayerGrouping::group}) {
        const auto layers = per_layer_msd(t, *po.layout, g, mo);
        for (std::size_t i = 0; i < layers.size(); ++i) {
          for (const auto& c : layers[i].parts) save_curve(out, fmt::format("layer_{}_{}_{}", to_string(g), i, c.part), c);
        }
      }
    }
    if (argc > 5) {
      const std::size_t k = std::stoul(argv[4]);
      RandomProjection sketch(t.dimension(), k, std::stoull(argv[5]));
      std::vector<float> out_rows(t.size() * k), row(t.dimension());
      for (std::size_t i = 0; i < t.size(); ++i) {
        const auto w = t.snapshot(i);
        for (std::size_t j = 0; j < row.size(); ++j) row[j] = float(w[j]);
        sketch.apply(row.data(), out_rows.data() + i * k);
      }
      const std::vector<double> d(out_rows.begin(), out_rows.end());
      write_npy(out / "projection.npy", d.data(), {t.size(), k});
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anodiff_python_reference: %s\n", e.what());
    return 1;
  }
  return 0;
}
