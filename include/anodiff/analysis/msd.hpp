#pragma once
/// \file msd.hpp  Mean-squared displacement of weight trajectories: `anodiff::msd(trajectory)` and relatives.
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "anodiff/trajectory/weight_trajectory.hpp"

namespace anodiff {

/// How the time-averaged MSD of a part is computed. Both are exact to 1e-9 relative (docs/msd.md).
enum class MsdMethod {
  automatic,  ///< fft.
  pairs,      ///< All pair distances from the Gram matrix of the increments (O(T^2 D) time, T^2 doubles).
  fft         ///< Certified FFT: O(D T log T); lags whose error bound exceeds 1e-10 are recomputed directly.
};

/// Options of msd() and of the analyses built on it.
struct MsdOptions {
  std::size_t part_length = 0;   ///< Snapshots per part (waiting-time window); 0 = the whole trajectory.
  std::size_t max_lag = 0;       ///< Largest lag reported; 0 = part length - 1.
  MsdMethod method = MsdMethod::automatic;  ///< See MsdMethod.
  /// Checks the values (a known method); throws std::invalid_argument naming the option and value (`owner` and
  /// `path` as CrossoverOptions::validate).
  void validate(const char* owner = "MsdOptions", const std::string& path = "") const;
};

/// Time-averaged MSD of one part.
struct MsdCurve {
  std::size_t part = 0;          ///< Part index k (0-based).
  std::size_t start = 0;         ///< First snapshot of the part (k * part length).
  std::vector<std::size_t> lag;  ///< 1, 2, ..., max_lag.
  std::vector<double> msd;       ///< MSD(tau) = 1/(T - tau) sum_i |w_{i+tau} - w_i|^2 at each lag.
};

/// One part of a trajectory: snapshots [start, start + count).
struct Part {
  std::size_t index = 0;  ///< k.
  std::size_t start = 0;  ///< k * part length.
  std::size_t count = 0;  ///< Snapshots in the part.
};

/// Consecutive, non-overlapping parts of `part_length` snapshots (0 = one part of everything); a shorter
/// remainder is dropped. Throws std::invalid_argument if no part has 2 snapshots.
[[nodiscard]] std::vector<Part> split_parts(std::size_t snapshots, std::size_t part_length);

/// The curve of `part` from MSD values by lag (element 0, lag 0, unused), lags 1..max_lag (0: every lag given).
[[nodiscard]] MsdCurve msd_curve(const Part& part, const std::vector<double>& by_lag, std::size_t max_lag = 0);

/// Time-averaged MSD of each part. Throws std::invalid_argument for fewer than 2 snapshots, InputError for
/// non-finite weights.
[[nodiscard]] std::vector<MsdCurve> msd(const WeightTrajectory& trajectory, const MsdOptions& options = {});

/// The certified FFT MSD of one part and what it did.
struct MsdFftResult {
  std::vector<double> msd;                 ///< MSD at lags 0..count-1 (element 0 is 0).
  std::size_t fft_length = 0;              ///< Transform length N (a power of two >= 2 count).
  std::vector<std::size_t> direct_lags;    ///< Lags whose spectral value was not certified and were summed directly.
};

/// Time-averaged MSD at lags 0..count-1 of snapshots [first, first + count) by the certified FFT method (see
/// MsdMethod::fft and docs/msd.md); every value within 1e-10 relative of the exact sum. Throws
/// std::invalid_argument for a part outside the trajectory or count < 2.
[[nodiscard]] MsdFftResult msd_fft_certified(const WeightTrajectory& trajectory, std::size_t first, std::size_t count);

/// The MSD values of msd_fft_certified alone.
[[nodiscard]] std::vector<double> msd_fft(const WeightTrajectory& trajectory, std::size_t first, std::size_t count);

/// Local exponent of an MSD curve.
struct LocalExponentCurve {
  std::size_t part = 0;          ///< Part index.
  std::size_t start = 0;         ///< First snapshot of the part.
  std::vector<std::size_t> lag;  ///< tau = 1 .. max_lag - window.
  std::vector<double> beta;      ///< ln[MSD(tau + window) / MSD(tau)] / ln[(tau + window) / tau].
};

/// beta(tau) over a window of `window` lags (the study: 20). Throws std::invalid_argument for window 0.
LocalExponentCurve local_exponent(const MsdCurve& curve, std::size_t window = 20);

/// The local exponent summarised over a band of lags, model-free: median and quartiles of beta(tau).
struct BandExponent {
  double lag_lo = 0;   ///< Smallest MSD lag of the band.
  double lag_hi = 0;   ///< Largest MSD lag of the band.
  double median = std::numeric_limits<double>::quiet_NaN();  ///< Median of beta over the band.
  double q25 = std::numeric_limits<double>::quiet_NaN();     ///< Lower quartile.
  double q75 = std::numeric_limits<double>::quiet_NaN();     ///< Upper quartile.
  std::size_t lags = 0;  ///< beta values in the band (0: the band does not fit in the part).
};

/// beta(tau) for every tau whose window [tau, tau + window] lies in [lag_lo, lag_hi], summarised; an empty band
/// gives NaN fields and lags = 0.
[[nodiscard]] BandExponent band_exponent(const LocalExponentCurve& beta, std::size_t window, double lag_lo,
                                         double lag_hi);

/// No-time-average (aging) MSD of each part: Delta(t_w, tau) = |w(t_w + tau) - w(t_w)|^2, t_w = part start.
std::vector<MsdCurve> aging_msd(const WeightTrajectory& trajectory, const MsdOptions& options = {});

/// Ensemble- and time-averaged MSD over several trajectories of the same model, and ergodicity breaking.
struct EnsembleCurve {
  std::size_t part = 0;                     ///< Part index.
  std::size_t start = 0;                    ///< First snapshot of the part.
  std::vector<std::size_t> lag;             ///< 1 .. max_lag.
  std::vector<double> ensemble_msd;         ///< Mean over trajectories of |w(start + tau) - w(start)|^2.
  std::vector<double> time_averaged_msd;    ///< Mean over trajectories of the time-averaged MSD.
  std::vector<double> ergodicity_breaking;  ///< EB(tau) = <delta^2(tau)^2> / <delta^2(tau)>^2 - 1 over trajectories.
  std::size_t trajectories = 0;             ///< Number of trajectories.
};

/// Ensemble curves per part. Throws std::invalid_argument unless all trajectories share T and D and there are 2+.
std::vector<EnsembleCurve> ensemble_msd(const std::vector<WeightTrajectory>& trajectories,
                                        const MsdOptions& options = {});

}  // namespace anodiff
