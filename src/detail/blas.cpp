#include "detail/blas.hpp"

extern "C" void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
                       const double* a, const int* lda, const double* beta, double* c, const int* ldc);

extern "C" void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
                       const double* beta, double* c, const int* ldc);

namespace anodiff::detail {

void gemm_rows(std::size_t r, std::size_t w, std::size_t k, const double* u, const double* v, double beta, double* x) {
  const char ta = 'T', tb = 'N';
  const int ir = int(r), iw = int(w), ik = int(k);
  const double one = 1.0;
  dgemm_(&ta, &tb, &ir, &iw, &ik, &one, u, &ik, v, &ik, &beta, x, &ir);
}

void syrk_upper_transposed(std::size_t n, std::size_t k, double alpha, const double* a, std::size_t lda, double beta,
                           double* c, std::size_t ldc) {
  const char uplo = 'U';
  const char trans = 'T';
  const int in = static_cast<int>(n);
  const int ik = static_cast<int>(k);
  const int ilda = static_cast<int>(lda);
  const int ildc = static_cast<int>(ldc);
  dsyrk_(&uplo, &trans, &in, &ik, &alpha, a, &ilda, &beta, c, &ildc);
}

}  // namespace anodiff::detail
