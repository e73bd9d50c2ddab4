#include "tfm/tensor/gemm.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include <cblas.h>
#include <dnnl.h>
#include <fmt/format.h>

#include "gemm_onednn.h"
#include "tfm/core/error.h"
#include "tfm/tensor/kernels.h"
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

// Whether oneDNN's fp32 sgemm should read an operand of Aᵀ·B (A [k, m], B
// [k, n], k large) from a dense copy: with a leading dimension that is a
// multiple of 512 floats (2 KiB), the rows it packs together share a few
// cache sets, and its AVX2 kernels ran such products at 35-45% of the
// core's peak instead of 80% (an FFN's weight gradients, whose operands are
// column blocks of [tokens, 1024] activations). The copy does not change the
// result: the kernels' blocking depends on m, n and k, not on the leading
// dimensions.
bool aliasing_stride(std::int64_t ld, std::int64_t k) { return k >= 256 && ld % 512 == 0; }

// rows x cols of x (leading dimension ld) into `copy`, densely but with a
// leading dimension off the aliasing strides; returns that dimension.
std::int64_t dense_copy(const float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld,
                        GrowOnlyBuffer<float>& copy) {
  std::int64_t dense_ld = (cols + 15) / 16 * 16;
  if (dense_ld % 512 == 0) dense_ld += 16;
  float* out = copy.reserve(static_cast<std::size_t>(rows * dense_ld));
  for (std::int64_t r = 0; r < rows; ++r) std::copy_n(x + r * ld, cols, out + r * dense_ld);
  return dense_ld;
}

// One product on the calling thread; in bf16, A and B are read from a_bf16
// and b_bf16 when given (copies laid out as A and B).
void gemm_block(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta,
                float* c, std::int64_t ldc, const std::uint16_t* a_bf16 = nullptr,
                const std::uint16_t* b_bf16 = nullptr) {
  if (m == 0 || n == 0) return;
  if (precision.load(std::memory_order_relaxed) == Precision::kBf16 && k > 0) {
    one_openmp_thread();
    return detail::gemm_block_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nullptr, false,
                                   a_bf16, b_bf16);
  }
  if (backend.load(std::memory_order_relaxed) == GemmBackend::kOneDnn) {
    one_openmp_thread();
    if (ta == Op::kT && tb == Op::kN && (aliasing_stride(lda, k) || aliasing_stride(ldb, k))) {
      thread_local GrowOnlyBuffer<float> a_copy, b_copy;  // this engine thread's
      if (aliasing_stride(lda, k)) lda = dense_copy(a, k, m, lda, a_copy), a = a_copy.data();
      if (aliasing_stride(ldb, k)) ldb = dense_copy(b, k, n, ldb, b_copy), b = b_copy.data();
    }
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

// Blocks a side of `length` is cut into.
std::int64_t blocks_along(std::int64_t length) {
  std::int64_t blocks = std::clamp<std::int64_t>(length / 128, 1, 8);
  return blocks > 1 ? blocks / 2 * 2 : 1;
}

// Blocks along the longer side of C: a function of the shape only.
std::int64_t block_count(std::int64_t m, std::int64_t n, std::int64_t k) {
  if (m * n * k < (std::int64_t{1} << 20)) return 1;
  return blocks_along(std::max(m, n));
}

// Rows [r0, r1) and columns [c0, c1) of C [m, n], one block of block_count's.
struct Block {
  std::int64_t r0, r1, c0, c1;
};

// f(block) for each of `blocks` blocks of C [m, n] on the engine threads,
// cut along its rows or its columns, inner boundaries rounded down to a
// multiple of `align`.
template <class F>
void for_each_block(std::int64_t m, std::int64_t n, std::int64_t blocks, bool split_rows, std::int64_t align,
                    F&& f) {
  const std::int64_t len = split_rows ? m : n;
  auto boundary = [&](std::int64_t i) { return i == blocks ? len : len * i / blocks / align * align; };
  auto block = [&](std::int64_t i) {
    const std::int64_t lo = boundary(i), hi = boundary(i + 1);
    f(split_rows ? Block{lo, hi, 0, n} : Block{0, m, lo, hi});
  };
  if (blocks == 1) return block(0);
  parallel_tasks(blocks, block);
}

// f(block) for each block of C [m, n] on the engine threads: blocks along the
// longer side, boundaries a function of the shape only.
template <class F>
void for_each_block(std::int64_t m, std::int64_t n, std::int64_t k, F&& f) {
  for_each_block(m, n, block_count(m, n, k), m >= n, 1, f);
}

// The stored matrix x [rows, cols] (leading dimension ld) in bf16 once for
// all the blocks of a product, which would each round their part of it again
// (and every block reads the whole of one operand): its shadow, or `copy`
// rounded here, laid out as x. Null when the product is not bf16 or is one
// block.
const std::uint16_t* bf16_once(const float* x, std::int64_t rows, std::int64_t cols, std::int64_t ld,
                               std::int64_t blocks, GrowOnlyBuffer<std::uint16_t>& scratch) {
  if (precision.load(std::memory_order_relaxed) != Precision::kBf16 || blocks == 1 || rows == 0 || cols == 0)
    return nullptr;
  const std::int64_t extent = (rows - 1) * ld + cols;
  if (const std::uint16_t* shadow = detail::find_bf16_shadow(x, extent)) return shadow;
  std::uint16_t* copy = scratch.reserve(static_cast<std::size_t>(extent));
  parallel_range(rows, 16, [&](std::int64_t lo, std::int64_t hi) {
    // Dense rows in one call (the kernel is called through its level's table).
    if (ld == cols) round_to_bf16(x + lo * ld, (hi - lo) * cols, copy + lo * ld);
    else
      for (std::int64_t r = lo; r < hi; ++r) round_to_bf16(x + r * ld, cols, copy + r * ld);
  });
  return copy;
}

// C [m, n] = A [m, k] · Wᵀ (+ bias, then ReLU) in int8, W [n, k] quantized
// (w_q) with a scale per row (w_scales): A's rows quantized once, each
// block's int32 sums scaled back by its rows' and columns' scales (bias and
// ReLU in the same pass). w_q may hold n_stored ≥ n rows: the product is
// then over all of them, and the sums of the rows past n are dropped.
void gemm_int8(std::int64_t m, const float* a, std::int64_t lda, const std::int8_t* w_q, const float* w_scales,
               std::int64_t n, std::int64_t k, float* c, std::int64_t ldc, const float* bias, bool relu,
               std::int64_t n_stored = 0) {
  // Scratch of the calling thread, named here: inside the lambdas, which run
  // on engine threads, a thread_local would be that thread's own.
  thread_local GrowOnlyBuffer<std::int8_t> a_q_storage;
  thread_local GrowOnlyBuffer<float> a_scales_storage;
  thread_local GrowOnlyBuffer<std::int32_t> sums_storage;
  const std::int64_t ns = std::max(n, n_stored);
  std::int8_t* a_q = a_q_storage.reserve(static_cast<std::size_t>(m * k));
  float* a_scales = a_scales_storage.reserve(static_cast<std::size_t>(m));
  std::int32_t* sums = sums_storage.reserve(static_cast<std::size_t>(m * ns));
  parallel_range(m, 1, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) a_scales[r] = quantize_int8(a + r * lda, k, a_q + r * k, 127);
  });
  for_each_block(m, ns, k, [&](Block b) {
    one_openmp_thread();
    detail::gemm_block_int8(b.r1 - b.r0, b.c1 - b.c0, k, a_q + b.r0 * k, k, w_q + b.c0 * k, k,
                            sums + b.r0 * ns + b.c0, ns);
    const std::int64_t c1 = std::min(b.c1, n);
    if (c1 <= b.c0) return;
    for (std::int64_t r = b.r0; r < b.r1; ++r)
      dequantize_row(sums + r * ns + b.c0, a_scales[r], w_scales + b.c0, bias ? bias + b.c0 : nullptr, relu,
                     c1 - b.c0, c + r * ldc + b.c0);
  });
}

// Whether a product C = A · Wᵀ may read W's packed copy (add_packed_weight).
bool packed_product(Op ta, Op tb, float alpha, float beta, std::int64_t m) {
  return precision.load(std::memory_order_relaxed) == Precision::kFp32 &&
         backend.load(std::memory_order_relaxed) == GemmBackend::kOneDnn && ta == Op::kN && tb == Op::kT &&
         alpha == 1.0f && beta == 0.0f && m > 0;
}

// C [m, n] = A [m, k] · Wᵀ (+ bias, then ReLU) in fp32 from W's packed
// copy. The cut, a function of the shape only: along A's rows when they make
// two blocks or more (blocks of C are then whole rows, which the brgemm
// kernels write in place), else as gemm() cuts, column blocks starting at
// panels of the copy (and written through a dense copy of each).
void gemm_packed(std::int64_t m, const float* a, std::int64_t lda, const detail::PackedWeight& w, float* c,
                 std::int64_t ldc, const float* bias, bool relu) {
  const std::int64_t n = w.rows, k = w.cols;
  const bool split_rows = blocks_along(m) > 1 || m >= n;
  const std::int64_t blocks = block_count(m, n, k) == 1 ? 1 : blocks_along(split_rows ? m : n);
  for_each_block(m, n, blocks, split_rows, split_rows ? 1 : detail::kPackedPanel, [&](Block b) {
    one_openmp_thread();
    float* out = c + b.r0 * ldc + b.c0;
    const float* rows = a + b.r0 * lda;
    if (detail::gemm_block_packed(b.r1 - b.r0, rows, lda, w, b.c0, b.c1, out, ldc, bias ? bias + b.c0 : nullptr,
                                  relu))
      return;
    gemm_block(Op::kN, Op::kT, b.r1 - b.r0, b.c1 - b.c0, k, 1.0f, rows, lda, w.values + b.c0 * k, k, 0.0f, out, ldc);
    if (bias)
      for (std::int64_t r = 0; r < b.r1 - b.r0; ++r) add_bias(out + r * ldc, bias + b.c0, 1, b.c1 - b.c0, relu);
  });
}

// gemm() past the int8 case; in bf16, B is read from b_bf16 when given (b
// may then be null).
void gemm_blocks(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
                 std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc,
                 const std::uint16_t* b_bf16) {
  // The calling thread's copies, named here for the blocks on other threads.
  thread_local GrowOnlyBuffer<std::uint16_t> a_copy, b_copy;
  const std::int64_t blocks = block_count(m, n, k);
  const std::uint16_t* a16 = ta == Op::kN ? bf16_once(a, m, k, lda, blocks, a_copy) : bf16_once(a, k, m, lda, blocks, a_copy);
  const std::uint16_t* b16 = b_bf16                 ? b_bf16
                             : tb == Op::kN ? bf16_once(b, k, n, ldb, blocks, b_copy)
                                            : bf16_once(b, n, k, ldb, blocks, b_copy);
  for_each_block(m, n, k, [&](Block blk) {
    const std::int64_t r = blk.r0, j = blk.c0;
    const std::int64_t a_at = ta == Op::kN ? r * lda : r, b_at = tb == Op::kN ? j : j * ldb;
    gemm_block(ta, tb, blk.r1 - r, blk.c1 - j, k, alpha, a + a_at, lda, b ? b + b_at : nullptr, ldb, beta,
               c + r * ldc + j, ldc, a16 ? a16 + a_at : nullptr, b16 ? b16 + b_at : nullptr);
  });
}

// WeightRows' int8 rows and the zero rows that pad them to a multiple of 16.
std::int64_t int8_padded_rows(std::int64_t rows) { return (rows + 15) / 16 * 16; }

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
  if (name == "int8") return Precision::kInt8;
  throw UsageError("--precision must be fp32, bf16 or int8, not '" + name + "'");
}
const char* bf16_isa() { return detail::native_bf16_isa(); }

void gemm(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  if (precision.load(std::memory_order_relaxed) == Precision::kInt8 && ta == Op::kN && tb == Op::kT &&
      alpha == 1.0f && beta == 0.0f && m > 0)
    if (const detail::Int8Weight* w = detail::find_int8_weight(b, n, k, ldb))
      return gemm_int8(m, a, lda, w->values_q.data(), w->scales.data(), n, k, c, ldc, nullptr, false);
  if (packed_product(ta, tb, alpha, beta, m))
    if (const detail::PackedWeight* w = detail::find_packed_weight(b, n, k, ldb))
      return gemm_packed(m, a, lda, *w, c, ldc, nullptr, false);
  gemm_blocks(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nullptr);
}

void WeightRows::gather(const float* w, std::int64_t rows, std::int64_t cols, const std::vector<std::int32_t>& ids) {
  for (std::int32_t id : ids)
    if (id < 0 || id >= rows) throw Error(fmt::format("WeightRows: row {} of {}", id, rows));
  rows_ = static_cast<std::int64_t>(ids.size()), cols_ = cols;
  precision_ = precision.load(std::memory_order_relaxed);
  const auto n = static_cast<std::size_t>(rows_ * cols_);
  // bf16 products read only the rounded rows: no fp32 copy to write (a
  // shortlist gathers each batch's sentences' rows anew).
  float* values = precision_ == Precision::kFp32 ? values_.reserve(n)
                  : precision_ == Precision::kInt8 ? values_.reserve(ids.size())
                                                   : nullptr;
  std::uint16_t* bf16 = precision_ == Precision::kBf16 ? bf16_.reserve(n) : nullptr;
  // int8 rows padded with zero rows (int8_padded_rows): int32 sums are exact
  // whatever the product's shape, so no result changes, and a shortlist's
  // sentences (each with its own number of rows) share a few oneDNN
  // primitives instead of creating one each.
  const std::int64_t padded = int8_padded_rows(rows_);
  std::int8_t* int8 = precision_ == Precision::kInt8 ? int8_.reserve(static_cast<std::size_t>(padded * cols_)) : nullptr;
  if (int8) std::fill(int8 + n, int8 + padded * cols_, std::int8_t{0});
  for (std::int64_t i = 0; i < rows_; ++i) {
    const float* row = w + static_cast<std::int64_t>(ids[static_cast<std::size_t>(i)]) * cols;
    if (precision_ == Precision::kFp32) std::copy_n(row, cols, values + i * cols);
    if (bf16) round_to_bf16(row, cols, bf16 + i * cols);
    if (int8) values[i] = quantize_int8(row, cols, int8 + i * cols, detail::int8_weight_limit());
  }
}

void WeightRows::multiply(const float* a, std::int64_t m, float* c, std::int64_t ldc) const {
  if (m == 0 || rows_ == 0) return;
  if (ldc < rows_) throw Error(fmt::format("WeightRows: leading dimension {} below {} rows", ldc, rows_));
  if (precision_ == Precision::kInt8)
    return gemm_int8(m, a, cols_, int8_.data(), values_.data(), rows_, cols_, c, ldc, nullptr, false,
                     int8_padded_rows(rows_));
  if (precision_ == Precision::kFp32)
    return gemm_blocks(Op::kN, Op::kT, m, rows_, cols_, 1.0f, a, cols_, values_.data(), cols_, 0.0f, c, ldc, nullptr);
  // bf16 primitives are made for C's leading dimension too, and a shortlist's
  // caller writes into rows as wide as each batch's longest list: a small
  // product goes to scratch rows one wider than it (a leading dimension of
  // its own that still leaves C strided: oneDNN moves dense products to
  // other kernels) and is copied out, a few µs, less than a primitive's
  // creation, so that its primitives serve every batch.
  constexpr std::int64_t kCopiedFloats = 1 << 14;
  if (ldc == rows_ || m * rows_ > kCopiedFloats)
    return gemm_blocks(Op::kN, Op::kT, m, rows_, cols_, 1.0f, a, cols_, nullptr, cols_, 0.0f, c, ldc, bf16_.data());
  const std::int64_t ld = rows_ + 1;
  thread_local GrowOnlyBuffer<float> scratch_storage;
  float* scratch = scratch_storage.reserve(static_cast<std::size_t>(m * ld));
  gemm_blocks(Op::kN, Op::kT, m, rows_, cols_, 1.0f, a, cols_, nullptr, cols_, 0.0f, scratch, ld, bf16_.data());
  for (std::int64_t r = 0; r < m; ++r) std::copy_n(scratch + r * ld, rows_, c + r * ldc);
}

void linear_forward(const float* x, std::int64_t rows, std::int64_t in, std::int64_t out, const float* w,
                    const float* bias, bool relu, float* y) {
  const Precision p = precision.load(std::memory_order_relaxed);
  if (p == Precision::kInt8 && rows > 0)
    if (const detail::Int8Weight* w8 = detail::find_int8_weight(w, out, in, in))
      return gemm_int8(rows, x, in, w8->values_q.data(), w8->scales.data(), out, in, y, out, bias, relu);
  if (p == Precision::kBf16 && rows > 0 && in > 0) {
    thread_local GrowOnlyBuffer<std::uint16_t> x_copy;
    const std::uint16_t* x16 = bf16_once(x, rows, in, in, block_count(rows, out, in), x_copy);
    for_each_block(rows, out, in, [&](Block b) {
      one_openmp_thread();
      detail::gemm_block_bf16(Op::kN, Op::kT, b.r1 - b.r0, b.c1 - b.c0, in, 1.0f, x + b.r0 * in, in,
                              w + b.c0 * in, in, 0.0f, y + b.r0 * out + b.c0, out, bias + b.c0, relu,
                              x16 ? x16 + b.r0 * in : nullptr);
    });
    return;
  }
  if (packed_product(Op::kN, Op::kT, 1.0f, 0.0f, rows))
    if (const detail::PackedWeight* packed = detail::find_packed_weight(w, out, in, in))
      return gemm_packed(rows, x, in, *packed, y, out, bias, relu);
  gemm(Op::kN, Op::kT, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  add_bias(y, bias, rows, out, relu);
}

namespace {

// The stored matrices X(i, j) [rows, cols] (leading dimension ld, at
// x + i·s.outer + j·s.inner) rounded to bf16, dense and one after another.
const std::uint16_t* pack_bf16(const float* x, std::int64_t ld, BatchStrides s, std::int64_t outer,
                               std::int64_t inner, std::int64_t rows, std::int64_t cols,
                               GrowOnlyBuffer<std::uint16_t>& scratch) {
  std::uint16_t* dense = scratch.reserve(static_cast<std::size_t>(outer * inner * rows * cols));
  parallel_range(outer * inner, std::max<std::int64_t>(1, 4096 / (rows * cols)), [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t t = lo; t < hi; ++t) {
      const float* matrix = x + t / inner * s.outer + t % inner * s.inner;
      if (ld == cols) {
        round_to_bf16(matrix, rows * cols, dense + t * rows * cols);
        continue;
      }
      for (std::int64_t r = 0; r < rows; ++r)
        round_to_bf16(matrix + r * ld, cols, dense + (t * rows + r) * cols);
    }
  });
  return dense;
}

// gemm_batched in bf16 (beta 0): operands rounded and packed once, then one
// oneDNN call per chunk of the outer batch instead of one per matrix (which
// costs more than the product for attention's small matrices). Chunks are a
// function of the shape only, so results do not depend on the thread count.
void gemm_batched_bf16(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                       const float* a, std::int64_t lda, BatchStrides sa, const float* b, std::int64_t ldb,
                       BatchStrides sb, float* c, std::int64_t ldc, BatchStrides sc, std::int64_t n_outer,
                       std::int64_t n_inner) {
  thread_local GrowOnlyBuffer<std::uint16_t> a_dense_storage, b_dense_storage;
  thread_local GrowOnlyBuffer<float> c_dense_storage;
  const std::uint16_t* a16 = ta == Op::kN ? pack_bf16(a, lda, sa, n_outer, n_inner, m, k, a_dense_storage)
                                          : pack_bf16(a, lda, sa, n_outer, n_inner, k, m, a_dense_storage);
  const std::uint16_t* b16 = tb == Op::kN ? pack_bf16(b, ldb, sb, n_outer, n_inner, k, n, b_dense_storage)
                                          : pack_bf16(b, ldb, sb, n_outer, n_inner, n, k, b_dense_storage);
  // C as oneDNN's fast kernels take it (dense, or each row holding the inner
  // matrices side by side), else through a dense copy.
  const bool dense = ldc == n && sc.inner == m * n && sc.outer == n_inner * m * n;
  const bool side_by_side = ldc == n_inner * n && sc.inner == n && sc.outer == m * ldc;
  float* out = c;
  BatchStrides so = sc;
  std::int64_t ldo = ldc;
  if (!dense && !side_by_side) {
    out = c_dense_storage.reserve(static_cast<std::size_t>(n_outer * n_inner * m * n)), so = {n_inner * m * n, m * n}, ldo = n;
  }
  const std::int64_t flops = n_outer * n_inner * m * n * k;
  const std::int64_t chunks = std::clamp<std::int64_t>(flops >> 20, 1, std::min<std::int64_t>(n_outer, 8));
  parallel_tasks(chunks, [&](std::int64_t t) {
    const std::int64_t i0 = n_outer * t / chunks, i1 = n_outer * (t + 1) / chunks;
    one_openmp_thread();
    detail::gemm_batched_bf16(i1 - i0, n_inner, m, n, k, alpha, a16 + i0 * n_inner * m * k, ta == Op::kT,
                              b16 + i0 * n_inner * k * n, tb == Op::kT, out + i0 * so.outer, ldo, so);
  });
  if (out != c)
    parallel_range(n_outer * n_inner, std::max<std::int64_t>(1, 4096 / (m * n)), [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t t = lo; t < hi; ++t)
        for (std::int64_t r = 0; r < m; ++r)
          std::copy_n(out + (t * m + r) * n, n, c + t / n_inner * sc.outer + t % n_inner * sc.inner + r * ldc);
    });
}

}  // namespace

void gemm_batched(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                  const float* a, std::int64_t lda, BatchStrides sa, const float* b,
                  std::int64_t ldb, BatchStrides sb, float beta, float* c, std::int64_t ldc,
                  BatchStrides sc, std::int64_t n_outer, std::int64_t n_inner) {
  if (precision.load(std::memory_order_relaxed) == Precision::kBf16 && beta == 0.0f && m > 0 && n > 0 && k > 0 &&
      n_outer > 0 && n_inner > 0)
    return gemm_batched_bf16(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, c, ldc, sc, n_outer, n_inner);
  parallel_tasks(n_outer * n_inner, [&](std::int64_t t) {
    std::int64_t i = t / n_inner, j = t % n_inner;
    gemm_block(ta, tb, m, n, k, alpha, a + i * sa.outer + j * sa.inner, lda,
               b + i * sb.outer + j * sb.inner, ldb, beta, c + i * sc.outer + j * sc.inner, ldc);
  });
}

}  // namespace tfm
