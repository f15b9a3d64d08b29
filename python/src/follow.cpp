// anodiff._anodiff: the follower of a trajectory that is still being recorded (TrajectoryFollower), driven by
// anodiff.follow() (python/anodiff/follow.py), a generator of part results.
#include <algorithm>
#include <memory>
#include <vector>

#include "anodiff/analysis/follow.hpp"
#include "anodiff/analysis/post_analysis.hpp"
#include "common.hpp"

namespace anodiff::python {

void init_follow(py::module_& m) {
  py::class_<TrajectoryFollower>(m, "_Follower",
                                 "The C++ TrajectoryFollower under anodiff.follow() (use that): look() analyses every "
                                 "part now whole in complete chunks, wait() waits for more (the GIL released).")
      .def(py::init([](const std::filesystem::path& path, std::size_t part_length, double poll_seconds,
                       std::size_t until_snapshots, std::int64_t until_epoch, std::size_t shards, std::size_t window,
                       std::size_t exact_limit, std::size_t pair_memory_budget, std::size_t contour_bins,
                       std::size_t msl_bins, std::size_t histogram_bins, py::object histogram_lags,
                       std::size_t tail_block, py::object fit, py::object short_band, py::object long_band,
                       py::object layout, py::object log) {
             FollowOptions f;
             f.poll_seconds = poll_seconds;
             f.until_snapshots = until_snapshots;
             f.until_epoch = until_epoch;
             f.shards = shards;
             f.find_layout = is_auto(layout);
             return std::make_unique<TrajectoryFollower>(
                 path,
                 post_analysis_options(part_length, window, exact_limit, pair_memory_budget, contour_bins, msl_bins,
                                       histogram_bins, histogram_lags, tail_block, fit, short_band, long_band, layout,
                                       log),
                 f);
           }),
           py::arg("path"), py::arg("part_length"), py::kw_only(), py::arg("poll_seconds") = 2.0,
           py::arg("until_snapshots") = 0, py::arg("until_epoch") = 0, py::arg("shards") = 0, py::arg("window") = 20,
           py::arg("exact_limit") = 20000, py::arg("pair_memory_budget") = std::size_t{1} << 30,
           py::arg("contour_bins") = 40, py::arg("msl_bins") = 50, py::arg("histogram_bins") = 40,
           py::arg("histogram_lags") = py::none(), py::arg("tail_block") = 0, py::arg("fit") = py::none(),
           py::arg("short_band") = py::make_tuple(4.0, 40.0), py::arg("long_band") = py::none(),
           py::arg("layout") = "auto", py::arg("log") = py::none())
      .def(
          "look",
          [](TrajectoryFollower& f) {
            py::gil_scoped_release release;
            return f.look();
          },
          "Analyses every part now whole in complete chunks; returns how many it analysed.")
      .def(
          "wait",
          [](TrajectoryFollower& f) {
            py::gil_scoped_release release;
            f.wait();
          },
          "Waits up to poll_seconds, less when a chunk is renamed into place or a signal arrives.")
      .def("finished", &TrajectoryFollower::finished, "Whether until_snapshots or until_epoch is reached.")
      .def("snapshots", &TrajectoryFollower::snapshots, "Snapshots in complete chunks at the last look.")
      .def(
          "parts_from",
          [](const TrajectoryFollower& f, std::size_t first) {
            const auto& parts = f.parts();
            return std::vector<PartResult>(parts.begin() + std::ptrdiff_t(std::min(first, parts.size())), parts.end());
          },
          py::arg("first"), "The parts analysed so far from index `first` on (PartResult copies).");
}

}  // namespace anodiff::python
