#pragma once
// Helpers shared by the tests: temporary directories and raw files.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <limits>
#include <stdexcept>
#include <vector>

#include "anodiff/analysis/post_analysis.hpp"
#include "anodiff/trajectory/shard_reduction.hpp"
#include "anodiff/trajectory/weight_trajectory.hpp"

/// Leaves the running test as skipped: ctest reports it "Skipped" (the SKIP_REGULAR_EXPRESSION of
/// tests/CMakeLists.txt matches the warning), a direct run prints the warning. Catch2 v2 has no SKIP of its own.
/// Only for a feature that is optional by design (HDF5, libmatio), and only as the first statement of a TEST_CASE:
/// after a failed CHECK the skip would hide the failure, inside a SECTION it would hide the next SECTION. A missing
/// dependency of the test command (scripts/install-deps.sh) is a failure, not a skip.
#ifdef CATCH_CONFIG_PREFIX_ALL
#define ANODIFF_SKIP(reason) \
  do {                       \
    CATCH_WARN("ANODIFF_SKIPPED: " << reason); \
    CATCH_SUCCEED("skipped");  \
    return;                  \
  } while (false)
#else
#define ANODIFF_SKIP(reason) \
  do {                       \
    WARN("ANODIFF_SKIPPED: " << reason); \
    SUCCEED("skipped");      \
    return;                  \
  } while (false)
#endif

namespace anodiff::test {

/// A part's analysis built by hand with the fit and band exponents given (the claims' tests): part `index` of parts
/// of `length` snapshots; no crossover when `tau0` is NaN (then `single` is the part's one exponent); H = `hurst`.
inline PartResult hand_part(std::size_t index, double early, double late, double tau0, double short_band,
                            double long_band, double single = std::numeric_limits<double>::quiet_NaN(),
                            double hurst = std::numeric_limits<double>::quiet_NaN(), double hurst_error = 0.01,
                            std::size_t length = 1000) {
  PartResult p;
  p.part = {index, index * length, length};
  p.fit.early_exponent = early;
  p.fit.late_exponent = late;
  p.fit.crossover_found = std::isfinite(tau0);
  p.fit.crossover = tau0;
  p.fit.single_exponent = single;
  p.fit.valid = true;
  p.short_band.median = short_band;
  p.long_band.median = long_band;
  p.msl_fit.exponent = 2 * hurst;
  p.msl_fit.exponent_error = 2 * hurst_error;
  return p;
}

/// A fresh directory under the system temp folder, removed on destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("anodiff_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

/// While it lives, files of this process may not grow past `bytes` (RLIMIT_FSIZE, as `ulimit -f`), SIGXFSZ
/// ignored: a write past the limit fails with EFBIG, as one on a full disk fails with ENOSPC.
struct FileSizeLimit {
  rlimit old{};
  void (*old_handler)(int) = nullptr;
  explicit FileSizeLimit(rlim_t bytes) {
    if (getrlimit(RLIMIT_FSIZE, &old) != 0) throw std::runtime_error("getrlimit failed");
    old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit now = old;
    now.rlim_cur = bytes;
    if (setrlimit(RLIMIT_FSIZE, &now) != 0) throw std::runtime_error("setrlimit(RLIMIT_FSIZE) failed");
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
};

/// Writes raw bytes to a file.
inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Little-endian bytes of a value.
template <typename T>
std::string bytes_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

/// A hand-built .npy file: version major.0, the given header dict, padded as numpy pads it.
inline std::string npy_bytes(int major, const std::string& dict, const std::string& data) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string h = dict;
  while ((prefix + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t n = h.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 24) & 0xff);
  }
  return out + h + data;
}

/// T x D uniform random values in [-1, 1).
inline std::vector<float> random_rows(std::size_t T, std::size_t D, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(T * D);
  for (auto& x : v) x = u(rng);
  return v;
}

// Brute-force time-averaged MSD straight from the coordinates.
inline std::vector<double> brute_msd(const WeightTrajectory& t) {
  const std::size_t n = t.size(), D = t.dimension();
  std::vector<double> x(n * D);
  t.read(0, n, 0, D, x.data());
  std::vector<double> m(n, 0.0);
  for (std::size_t tau = 1; tau < n; ++tau) {
    double s = 0;
    for (std::size_t i = 0; i + tau < n; ++i) {
      for (std::size_t k = 0; k < D; ++k) {
        const double d = x[(i + tau) * D + k] - x[i * D + k];
        s += d * d;
      }
    }
    m[tau] = s / static_cast<double>(n - tau);
  }
  return m;
}


/// An all-reduce among `shards` threads of one process, summing in shard order: the in-process stand-in for MPI of
/// the shard tests. sum(index, data, count) returns on every shard once all have called it; member(index) is shard
/// `index` as a ShardReduction.
class ThreadReduction {
 public:
  explicit ThreadReduction(std::size_t shards) : partial_(shards) {}
  /// Shard `index` of the reduction.
  class Member : public ShardReduction {
   public:
    Member(ThreadReduction& all, std::size_t index) : all_(all), index_(index) {}
    std::size_t shards() const override { return all_.partial_.size(); }
    std::size_t shard() const override { return index_; }
    void sum(double* data, std::size_t count) override { all_.sum(index_, data, count); }

   private:
    ThreadReduction& all_;
    std::size_t index_;
  };
  /// Replaces data[0, count) by the sum over the shards, once every shard has called it.
  void sum(std::size_t index, double* data, std::size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    const std::size_t generation = generation_;
    partial_[index].assign(data, data + count);
    if (++arrived_ == partial_.size()) {
      result_.assign(count, 0.0);
      for (const auto& p : partial_) {
        for (std::size_t k = 0; k < count; ++k) result_[k] += p[k];
      }
      arrived_ = 0;
      ++generation_;
      ready_.notify_all();
    } else {
      ready_.wait(lock, [&] { return generation_ != generation; });
    }
    std::copy(result_.begin(), result_.end(), data);
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::vector<double>> partial_;
  std::vector<double> result_;
  std::size_t arrived_ = 0, generation_ = 0;
};

}  // namespace anodiff::test
