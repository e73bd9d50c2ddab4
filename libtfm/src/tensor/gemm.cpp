#include "tfm/tensor/gemm.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>

#include <cblas.h>
#include <dnnl.h>

#include "gemm_bf16.h"
#include "tfm/core/error.h"
#include "tfm/tensor/threads.h"

namespace tfm {
namespace {

std::atomic<GemmBackend> backend{GemmBackend::kOneDnn};
std::atomic<Precision> precision{Precision::kFp32};

CBLAS_TRANSPOSE blas_op(Op op) { return op == Op::kN ? CblasNoTrans : CblasTrans; }

// Debian's oneDNN runs on OpenMP; each engine thread asks for a team of one
// so that a call stays on its thread. libgomp comes with libdnnl, so its
// entry point is looked up rather than linked.
void one_openmp_thread() {
  using SetThreads = void (*)(int);
  static const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  thread_local bool done = false;
  if (set && !done) set(1);
  done = true;
}

// One product on the calling thread.
void gemm_block(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
                float* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (precision.load(std::memory_order_relaxed) == Precision::kBf16 && k > 0) {
    one_openmp_thread();
    return detail::gemm_block_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  if (backend.load(std::memory_order_relaxed) == GemmBackend::kOneDnn) {
    one_openmp_thread();
    dnnl_sgemm(ta == Op::kN ? 'N' : 'T', tb == Op::kN ? 'N' : 'T', m, n, k, alpha, a, lda, b, ldb,
               beta, c, ldc);
    return;
  }
  static const bool single = (openblas_set_num_threads(1), true);  // we split products ourselves
  (void)single;
  cblas_sgemm(CblasRowMajor, blas_op(ta), blas_op(tb), static_cast<blasint>(m),
              static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
              static_cast<blasint>(ldc));
}

// Blocks along the longer side of C: a function of the shape only.
std::int64_t block_count(std::int64_t m, std::int64_t n, std::int64_t k) {
  if (m * n * k < (std::int64_t{1} << 20)) return 1;
  std::int64_t blocks = std::clamp<std::int64_t>(std::max(m, n) / 128, 1, 8);
  return blocks > 1 ? blocks / 2 * 2 : 1;
}

}  // namespace

void set_gemm_backend(GemmBackend b) { backend = b; }
GemmBackend gemm_backend() { return backend; }

Precision set_gemm_precision(Precision p) {
  if (p == Precision::kBf16 && !*bf16_isa()) p = Precision::kFp32;
  precision = p;
  return p;
}
Precision gemm_precision() { return precision; }

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  throw UsageError("--precision must be fp32 or bf16, not '" + name + "'");
}
const char* bf16_isa() { return detail::native_bf16_isa(); }

void gemm(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  std::int64_t blocks = block_count(m, n, k);
  if (blocks == 1) return gemm_block(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  bool split_rows = m >= n;
  std::int64_t len = split_rows ? m : n;
  parallel_tasks(blocks, [&](std::int64_t i) {
    std::int64_t lo = len * i / blocks, hi = len * (i + 1) / blocks;
    if (split_rows) {
      const float* ai = ta == Op::kN ? a + lo * lda : a + lo;
      gemm_block(ta, tb, hi - lo, n, k, alpha, ai, lda, b, ldb, beta, c + lo * ldc, ldc);
    } else {
      const float* bi = tb == Op::kN ? b + lo : b + lo * ldb;
      gemm_block(ta, tb, m, hi - lo, k, alpha, a, lda, bi, ldb, beta, c + lo, ldc);
    }
  });
}

void gemm_batched(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* a, std::int64_t lda, BatchStrides sa, const float* b,
                  std::int64_t ldb, BatchStrides sb, float beta, float* c, std::int64_t ldc,
                  BatchStrides sc, std::int64_t n_outer, std::int64_t n_inner) {
  parallel_tasks(n_outer * n_inner, [&](std::int64_t t) {
    std::int64_t i = t / n_inner, j = t % n_inner;
    gemm_block(ta, tb, m, n, k, alpha, a + i * sa.outer + j * sa.inner, lda,
               b + i * sb.outer + j * sb.inner, ldb, beta, c + i * sc.outer + j * sc.inner, ldc);
  });
}

}  // namespace tfm
