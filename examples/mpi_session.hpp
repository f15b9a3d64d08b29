#pragma once
// MPI for the example programs: a session that exists only under a launcher, and the all-reduce of
// shard_reduction.hpp over MPI_COMM_WORLD. Built without ANODIFF_MPI, a session is one rank and nothing else.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <string_view>

#include "anodiff/trajectory/shard_reduction.hpp"

#ifdef ANODIFF_MPI
#include <mpi.h>
#endif

namespace anodiff::cli {

/// MPI_Init under mpirun (which sets OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE) and nothing otherwise: a plain run
/// stays a plain process, without a singleton orted.
class MpiSession {
 public:
  /// Starts MPI when a launcher started this process.
  MpiSession(int& argc, char**& argv) {
#ifdef ANODIFF_MPI
    active_ = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK") || std::getenv("PMI_SIZE");
    if (active_) {
      single_node_transports();
      MPI_Init(&argc, &argv);
      MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
      MPI_Comm_size(MPI_COMM_WORLD, &ranks_);
    }
#else
    (void)argc, (void)argv;
#endif
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  /// This process's rank (0 without MPI).
  int rank() const { return rank_; }
  /// Number of ranks (1 without MPI).
  int ranks() const { return ranks_; }
  /// Waits for every rank.
  void barrier() const {
#ifdef ANODIFF_MPI
    if (ranks_ > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
  }
  /// Ends the session with the program's exit code: a failed rank aborts the others (they would wait in a collective
  /// call), then MPI_Finalize. Returns `code`.
  int finish(int code) {
#ifdef ANODIFF_MPI
    if (code != 0 && ranks_ > 1) MPI_Abort(MPI_COMM_WORLD, code);
    if (active_) MPI_Finalize();
#endif
    return code;
  }

 private:
#ifdef ANODIFF_MPI
  // Every rank on this node (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE equals OMPI_COMM_WORLD_SIZE): Open MPI's ob1
  // messaging layer is chosen (over its shared-memory transport), unless the user chose one (OMPI_MCA_pml, which also
  // overrides this choice). Open MPI's default first initialises UCX, which probes the network devices: MPI_Init took
  // 0.33 s instead of 0.11 s on the 2-core test machine (docs/scaling.md). The transports (btl) stay Open MPI's.
  static void single_node_transports() {
    const char* world = std::getenv("OMPI_COMM_WORLD_SIZE");
    const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!world || !local || std::string_view(world) != std::string_view(local)) return;
    setenv("OMPI_MCA_pml", "ob1", /*overwrite=*/0);
  }
#endif
  bool active_ = false;
  int rank_ = 0, ranks_ = 1;
};

#ifdef ANODIFF_MPI
/// ShardReduction over the ranks of MPI_COMM_WORLD: MPI_Allreduce (sum) in pieces of at most 2^30 doubles.
class MpiReduction : public ShardReduction {
 public:
  /// The reduction of `session`'s ranks.
  explicit MpiReduction(const MpiSession& session) : rank_(session.rank()), ranks_(session.ranks()) {}
  std::size_t shards() const override { return static_cast<std::size_t>(ranks_); }
  std::size_t shard() const override { return static_cast<std::size_t>(rank_); }
  void sum(double* data, std::size_t count) override {
    constexpr std::size_t kMax = std::size_t{1} << 30;  // MPI counts are int
    for (std::size_t k = 0; k < count; k += kMax) {
      MPI_Allreduce(MPI_IN_PLACE, data + k, static_cast<int>(std::min(kMax, count - k)), MPI_DOUBLE, MPI_SUM,
                    MPI_COMM_WORLD);
    }
  }

 private:
  int rank_, ranks_;
};
#endif

}  // namespace anodiff::cli
