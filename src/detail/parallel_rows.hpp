#pragma once
// One parallel loop for the readers of rows (or units of a row) that may throw: an exception may not leave an OpenMP
// region, so each one is caught there and the first rethrown on the calling thread once every call has finished.
#include <cstddef>
#include <exception>

namespace anodiff::detail {

/// Calls body(i) for every i in [0, n) on all OpenMP threads (static schedule); rethrows the first exception any
/// call threw (a read failing on a damaged or vanished file) after the loop.
template <class Body>
void parallel_rows(std::size_t n, Body&& body) {
  std::exception_ptr error;
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (...) {
#pragma omp critical(anodiff_parallel_rows)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace anodiff::detail
