#pragma once
/// \file fit.hpp  Power-law and two-regime (crossover) fits in log-log, and the tail-index estimator.
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace anodiff {

/// y = prefactor * x^exponent fitted by least squares on (log x, log y).
struct PowerLawFit {
  double exponent = std::numeric_limits<double>::quiet_NaN();        ///< Slope in log-log.
  double exponent_error = std::numeric_limits<double>::quiet_NaN();  ///< Standard error of the slope.
  double prefactor = std::numeric_limits<double>::quiet_NaN();       ///< exp(intercept).
  double x_min = 0;          ///< Smallest x used.
  double x_max = 0;          ///< Largest x used.
  std::size_t points = 0;    ///< Points used (x, y > 0 and finite, x in range).
};

/// Fits a power law to the points with x in [x_min, x_max] (x, y > 0 and finite). Returns NaN fields when
/// fewer than 2 points qualify.
PowerLawFit fit_power_law(const std::vector<double>& x, const std::vector<double>& y, double x_min, double x_max);

/// Options of fit_crossover. The defaults skip the jitter of the first lags and fit up to 0.9 of the part, with an
/// additive noise floor (docs/fits.md says why).
struct CrossoverOptions {
  double min_lag = 4;                  ///< Smallest lag fitted (lags 1-3 carry the period-2 jitter of SGD).
  double max_lag = 0;                  ///< Largest lag fitted; 0 = max_lag_fraction x (largest lag + 1).
  double max_lag_fraction = 0.9;       ///< Used when max_lag is 0: the study read slopes nearly to the part length.
  std::size_t points_per_decade = 16;  ///< Log-spaced sampling of the lags (so every decade weighs the same).
  std::size_t min_points = 4;          ///< Fewest sampled points on each side of the crossover.
  bool noise_floor = true;             ///< Fit MSD = floor + two power laws (per-snapshot jitter adds a constant).
  double min_exponent_change = 0.1;    ///< A crossover needs |late - early| at least this.
  /// Checks the values (min_lag >= 1, max_lag >= 0, 0 < max_lag_fraction <= 1, points_per_decade and min_points >= 1,
  /// min_exponent_change >= 0, all finite); throws std::invalid_argument "OWNER: PATHmin_lag must be ..." naming the
  /// option and value (a parent passes its own name and the path to this struct, e.g. "PostAnalysisOptions", "fit.").
  void validate(const char* owner = "CrossoverOptions", const std::string& path = "") const;
};

/// Continuous two-power-law fit: MSD ~ floor + tau^early below tau0, floor + tau^late above, meeting at tau0.
struct CrossoverFit {
  double early_exponent = std::numeric_limits<double>::quiet_NaN();  ///< Exponent at short lags.
  double early_error = std::numeric_limits<double>::quiet_NaN();     ///< Its standard error.
  double late_exponent = std::numeric_limits<double>::quiet_NaN();   ///< Exponent at long lags.
  double late_error = std::numeric_limits<double>::quiet_NaN();      ///< Its standard error.
  double crossover = std::numeric_limits<double>::quiet_NaN();       ///< tau0 (lags); NaN when none was found.
  double crossover_error = std::numeric_limits<double>::quiet_NaN(); ///< Standard error of tau0.
  double breakpoint = std::numeric_limits<double>::quiet_NaN();      ///< The fitted breakpoint, found or not.
  double noise_floor = 0;    ///< Fitted additive floor (MSD units; 0 without noise_floor).
  double floor_share = 0;    ///< noise_floor / MSD at the smallest fitted lag.
  double single_exponent = std::numeric_limits<double>::quiet_NaN();  ///< One power law (+ floor) over the range.
  double single_error = std::numeric_limits<double>::quiet_NaN();     ///< Its standard error.
  double lag_min = 0;        ///< Smallest lag fitted.
  double lag_max = 0;        ///< Largest lag fitted.
  std::size_t points = 0;    ///< Sampled points fitted.
  double rms = std::numeric_limits<double>::quiet_NaN();  ///< RMS residual in ln MSD.
  bool valid = false;        ///< False when too few points (< 2 min_points) were available.
  bool crossover_found = false;  ///< Breakpoint inside the search range and |late - early| >= min_exponent_change.
  std::string verdict;       ///< "crossover", "no crossover found: ..." or "too few lags".
};

/// Fits ln MSD = ln(floor + exp(c + early min(ln tau - ln tau0, 0) + late max(ln tau - ln tau0, 0))) over
/// log-spaced lags: a grid search over tau0 and the floor, refined by Levenberg-Marquardt; errors from the Jacobian
/// at the optimum (independent residuals assumed: see docs/fits.md). A breakpoint on the search bound, or slopes
/// that differ by less than min_exponent_change, is reported as no crossover (crossover = NaN).
[[nodiscard]] CrossoverFit fit_crossover(const std::vector<double>& lag, const std::vector<double>& msd,
                                         const CrossoverOptions& options = {});

/// Streaming tail-index estimator of Mohammadi et al. (2014): samples are summed in consecutive blocks of m,
/// alpha = [(mean ln|Y| - mean ln|X|) / ln m]^-1. Zero samples are skipped.
class TailIndexEstimator {
 public:
  /// Blocks of `block` samples; throws std::invalid_argument if block < 2.
  explicit TailIndexEstimator(std::size_t block);
  /// Adds one sample.
  void add(double x) {
    if (x == 0.0 || x != x) return;
    log_x_ += std::log(std::fabs(x));
    ++n_;
    y_ += x;
    if (++in_block_ == m_) {
      if (y_ != 0.0) {
        log_y_ += std::log(std::fabs(y_));
        ++k_;
      }
      y_ = 0.0;
      in_block_ = 0;
    }
  }
  /// The estimate (NaN with fewer than 2 complete blocks).
  [[nodiscard]] double alpha() const;
  /// Samples added (zeros excluded).
  [[nodiscard]] std::size_t samples() const { return n_; }

 private:
  std::size_t m_;
  std::size_t n_ = 0, k_ = 0, in_block_ = 0;
  double log_x_ = 0, log_y_ = 0, y_ = 0;
};

/// Tail index of `samples` with blocks of `block` (0 = floor(sqrt(N))). NaN when there are too few samples.
double tail_index(const std::vector<double>& samples, std::size_t block = 0);

}  // namespace anodiff
