#pragma once
// Private: the two BLAS routines anodiff::core calls (Fortran interface of libblas.so.3, OpenBLAS at run time).
#include <cstddef>

namespace anodiff::detail {

/// X (column-major r x w) = beta X + U V^T, U row-major r x k, V row-major w x k (rows of k values).
void gemm_rows(std::size_t r, std::size_t w, std::size_t k, const double* u, const double* v, double beta, double* x);

/// C(upper) = alpha * A^T A + beta * C, A column-major k x n (lda >= k), C column-major n x n (ldc >= n).
void syrk_upper_transposed(std::size_t n, std::size_t k, double alpha, const double* a, std::size_t lda, double beta,
                           double* c, std::size_t ldc);

}  // namespace anodiff::detail
