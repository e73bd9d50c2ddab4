#include "gemm_onednn.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include <dnnl.hpp>

#include "tfm/tensor/kernels.h"
#include "tfm/tensor/tensor.h"
#include "tfm/tensor/threads.h"

namespace tfm::detail {
namespace {

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

// Everything a primitive depends on (lda and ldb as the primitive reads them:
// dense copies or shadows).
struct Key {
  std::int64_t m, n, k, lda, ldb, ldc;
  bool ta, tb;
  float alpha, beta;
  bool int8;  // s8 operands and s32 result instead of bf16 and f32
  bool bias, relu;  // bias [n] added, then ReLU
  // A batch of outer × inner products (0: one product); operands dense, C's
  // matrices c_outer and c_inner elements apart.
  std::int64_t outer = 0, inner = 0, c_outer = 0, c_inner = 0;
  bool packed = false;  // fp32 operands, B in its brgemm layout (packed_weight_desc)
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  std::size_t operator()(const Key& key) const {
    std::size_t h = 0;
    for (std::int64_t v : {key.m, key.n, key.k, key.lda, key.ldb, key.ldc,
                           std::int64_t{key.packed} << 5 | std::int64_t{key.relu} << 4 | std::int64_t{key.bias} << 3 |
                               std::int64_t{key.int8} << 2 | std::int64_t{key.ta} << 1 | key.tb,
                           std::int64_t{std::bit_cast<std::uint32_t>(key.alpha)},
                           std::int64_t{std::bit_cast<std::uint32_t>(key.beta)}, key.outer, key.inner,
                           key.c_outer, key.c_inner})
      h = (h ^ static_cast<std::size_t>(v)) * 0x100000001b3ull;
    return h;
  }
};

constexpr std::size_t kMaxProducts = 2048;  // primitives cached per thread

struct Product {
  dnnl::matmul matmul;
  dnnl::memory a, b, c, scratchpad, bias;
  // False for packed weights that oneDNN would multiply with its slow
  // reference code (no primitive then): the caller multiplies W itself.
  bool fast = true;
};

// Each engine thread has its own engine, stream and primitives, so nothing
// is shared between concurrent calls.
struct ThreadState {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::unordered_map<Key, Product, KeyHash> products;
  GrowOnlyBuffer<std::uint16_t> a, b;  // bf16 copies of the operands
  GrowOnlyBuffer<float> a_f32, c_f32;    // dense copies for packed weights' products
  // One scratchpad for all primitives: oneDNN's own would be allocated and
  // freed (and page-faulted in again) at every call.
  GrowOnlyBuffer<std::uint8_t> scratchpad;
};

// The descriptor of op(X) [rows, cols], X stored row-major with leading
// dimension ld (strides swap for a transpose).
dnnl::memory::desc operand_desc(std::int64_t rows, std::int64_t cols, std::int64_t ld,
                                bool transposed, dt type) {
  return transposed ? dnnl::memory::desc({rows, cols}, type, dims{1, ld})
                    : dnnl::memory::desc({rows, cols}, type, dims{ld, 1});
}

// The descriptor of a batch of op(X) [rows, cols], the stored matrices dense
// and one after another.
dnnl::memory::desc batch_operand_desc(std::int64_t outer, std::int64_t inner, std::int64_t rows,
                                      std::int64_t cols, bool transposed) {
  const std::int64_t size = rows * cols;
  return dnnl::memory::desc({outer, inner, rows, cols}, dt::bf16,
                            transposed ? dims{inner * size, size, 1, rows} : dims{inner * size, size, cols, 1});
}

// fp32 weights B [k, n] in the blocked layout of the brgemm kernels (see
// PackedWeight).
dnnl::memory::desc packed_weight_desc(std::int64_t k, std::int64_t n) {
  return dnnl::memory::desc({k, n}, dt::f32, dnnl::memory::format_tag::BA16a64b);
}

Product make_product(ThreadState& state, const Key& key) {
  const dt operands = key.packed ? dt::f32 : key.int8 ? dt::s8 : dt::bf16;
  const bool batch = key.outer > 0;
  auto a_md = batch ? batch_operand_desc(key.outer, key.inner, key.m, key.k, key.ta)
                    : operand_desc(key.m, key.k, key.lda, key.ta, operands);
  auto b_md = batch        ? batch_operand_desc(key.outer, key.inner, key.k, key.n, key.tb)
              : key.packed ? packed_weight_desc(key.k, key.n)
                           : operand_desc(key.k, key.n, key.ldb, key.tb, operands);
  auto c_md = batch ? dnnl::memory::desc({key.outer, key.inner, key.m, key.n}, dt::f32,
                                         dims{key.c_outer, key.c_inner, key.ldc, 1})
                    : dnnl::memory::desc({key.m, key.n}, key.int8 ? dt::s32 : dt::f32, dims{key.ldc, 1});
  dnnl::memory::desc bias_md;  // zero: no bias
  if (key.bias) bias_md = dnnl::memory::desc({1, key.n}, dt::f32, dims{key.n, 1});
  dnnl::primitive_attr attr;
  if (key.alpha != 1.0f) attr.set_output_scales(0, {key.alpha});
  dnnl::post_ops ops;
  if (key.beta != 0.0f) ops.append_sum(key.beta);
  if (key.relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  attr.set_post_ops(ops);
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::matmul::primitive_desc pd({a_md, b_md, bias_md, c_md}, attr, state.engine);
  if (key.packed && std::string(pd.impl_info_str()).rfind("brg", 0) != 0) {
    Product slow;
    slow.fast = false;
    return slow;
  }
  return {dnnl::matmul(pd), dnnl::memory(a_md, state.engine, nullptr),
          dnnl::memory(b_md, state.engine, nullptr), dnnl::memory(c_md, state.engine, nullptr),
          dnnl::memory(pd.scratchpad_desc(), state.engine, nullptr),
          dnnl::memory(bias_md, state.engine, nullptr)};
}

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

Product& find_product(ThreadState& state, const Key& key);
void run_product(ThreadState& state, const Key& key, const void* a, const void* b, void* c,
                 const float* bias = nullptr);

// X stored as rows × cols with leading dimension ld, in bf16: its shadow
// (ld kept) or a dense copy rounded into `scratch` (ld becomes cols).
const std::uint16_t* bf16_operand(const float* x, std::int64_t rows, std::int64_t cols,
                                  std::int64_t& ld, GrowOnlyBuffer<std::uint16_t>& scratch) {
  if (const std::uint16_t* shadow = find_bf16_shadow(x, (rows - 1) * ld + cols)) return shadow;
  std::uint16_t* copy = scratch.reserve(static_cast<std::size_t>(rows * cols));
  if (ld == cols) round_to_bf16(x, rows * cols, copy);
  else
    for (std::int64_t r = 0; r < rows; ++r) round_to_bf16(x + r * ld, cols, copy + r * cols);
  ld = cols;
  return copy;
}

struct Shadow {
  const float* values;
  std::int64_t n;
  GrowOnlyBuffer<std::uint16_t> copy;  // written once, by the rounding
};
std::vector<Shadow> shadows;

}  // namespace

const std::uint16_t* find_bf16_shadow(const float* x, std::int64_t extent) {
  auto at = [](const float* p) { return reinterpret_cast<std::uintptr_t>(p); };
  for (const Shadow& s : shadows)
    if (at(x) >= at(s.values) && at(x + extent) <= at(s.values + s.n))
      return s.copy.data() + (x - s.values);
  return nullptr;
}

namespace {

// Whether oneDNN's ISA `found` includes `wanted`. The values are sets of
// feature bits, not a ranking: avx2_vnni (0x407) is above avx512_core_amx
// (0x3e7) and holds none of AVX-512.
bool isa_includes(dnnl::cpu_isa found, dnnl::cpu_isa wanted) {
  const auto bits = static_cast<unsigned>(wanted);
  return (static_cast<unsigned>(found) & bits) == bits;
}

}  // namespace

const char* native_bf16_isa() {
  static const char* isa = [] {
    auto found = dnnl::get_effective_cpu_isa();
    if (isa_includes(found, dnnl::cpu_isa::avx512_core_amx)) return "AMX";
    if (isa_includes(found, dnnl::cpu_isa::avx512_core_bf16)) return "AVX512-BF16";
    return "";
  }();
  return isa;
}

int int8_weight_limit() {
  static const int limit = isa_includes(dnnl::get_effective_cpu_isa(), dnnl::cpu_isa::avx512_core_vnni) ? 127 : 63;
  return limit;
}

void gemm_block_bf16(Op ta, Op tb, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                     const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
                     float beta, float* c, std::int64_t ldc, const float* bias, bool relu,
                     const std::uint16_t* a_bf16, const std::uint16_t* b_bf16) {
  ThreadState& state = thread_state();
  const std::uint16_t* a16 = a_bf16 ? a_bf16
                             : ta == Op::kN ? bf16_operand(a, m, k, lda, state.a)
                                            : bf16_operand(a, k, m, lda, state.a);
  const std::uint16_t* b16 = b_bf16 ? b_bf16
                             : tb == Op::kN ? bf16_operand(b, k, n, ldb, state.b)
                                            : bf16_operand(b, n, k, ldb, state.b);
  run_product(state, {m, n, k, lda, ldb, ldc, ta == Op::kT, tb == Op::kT, alpha, beta, false, bias != nullptr, relu},
              a16, b16, c, bias);
}

namespace {

Product& find_product(ThreadState& state, const Key& key) {
  auto it = state.products.find(key);
  if (it == state.products.end()) {
    // Length-bucketed batches repeat their shapes, but a long run may see
    // many; each primitive holds JIT code, so the cache is bounded.
    if (state.products.size() >= kMaxProducts) state.products.clear();
    it = state.products.emplace(key, make_product(state, key)).first;
  }
  return it->second;
}

void run_product(ThreadState& state, const Key& key, const void* a, const void* b, void* c,
                 const float* bias) {
  Product& p = find_product(state, key);
  p.a.set_data_handle(const_cast<void*>(a));
  p.b.set_data_handle(const_cast<void*>(b));
  p.c.set_data_handle(c);
  const std::size_t scratch_bytes = p.scratchpad.get_desc().get_size();
  p.scratchpad.set_data_handle(state.scratchpad.reserve(scratch_bytes));
  if (bias) p.bias.set_data_handle(const_cast<float*>(bias));
  // The C API takes the arguments as an array: no allocation per call.
  dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, p.a.get()}, {DNNL_ARG_WEIGHTS, p.b.get()},
                            {DNNL_ARG_DST, p.c.get()}, {DNNL_ARG_SCRATCHPAD, p.scratchpad.get()},
                            {DNNL_ARG_BIAS, p.bias.get()}};
  dnnl::error::wrap_c_api(dnnl_primitive_execute(p.matmul.get(), state.stream.get(), bias ? 5 : 4, args),
                          key.int8 ? "int8 matmul failed" : key.packed ? "fp32 matmul failed" : "bf16 matmul failed");
  state.stream.wait();
}

}  // namespace

void gemm_batched_bf16(std::int64_t outer, std::int64_t inner, std::int64_t m, std::int64_t n, std::int64_t k,
                       float alpha, const std::uint16_t* a, bool ta, const std::uint16_t* b, bool tb, float* c,
                       std::int64_t ldc, BatchStrides sc) {
  Key key{m, n, k, 0, 0, ldc, ta, tb, alpha, 0.0f, false, false, false, outer, inner, sc.outer, sc.inner};
  run_product(thread_state(), key, a, b, c);
}

void gemm_block_int8(std::int64_t m, std::int64_t n, std::int64_t k, const std::int8_t* a,
                     std::int64_t lda, const std::int8_t* w, std::int64_t ldw, std::int32_t* c,
                     std::int64_t ldc) {
  run_product(thread_state(), {m, n, k, lda, ldw, ldc, false, true, 1.0f, 0.0f, true, false, false}, a, w, c);
}

std::vector<Int8Weight> int8_weights;
std::vector<PackedWeight> packed_weights;

const PackedWeight* find_packed_weight(const float* w, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  for (const PackedWeight& x : packed_weights)
    if (x.values == w && x.rows == rows && x.cols == cols && ld == cols) return &x;
  return nullptr;
}

bool pack_weight(const float* w, std::int64_t rows, std::int64_t cols, PackedWeight& out) {
  ThreadState& state = thread_state();
  const dnnl::memory::desc layout = packed_weight_desc(cols, rows);
  // The layout oneDNN picks for this W itself, for a product of some rows of
  // A (it does not depend on them): without brgemm (CPUs before AVX-512),
  // matmul runs on the same sgemm and keeps B plain.
  constexpr std::int64_t kRows = 64;
  dnnl::matmul::primitive_desc probe({dnnl::memory::desc({kRows, cols}, dt::f32, dims{cols, 1}),
                                      dnnl::memory::desc({cols, rows}, dt::f32, dnnl::memory::format_tag::any),
                                      dnnl::memory::desc(), dnnl::memory::desc({kRows, rows}, dt::f32, dims{rows, 1})},
                                     dnnl::primitive_attr(), state.engine);
  if (std::string(probe.impl_info_str()).rfind("brg", 0) != 0 || probe.weights_desc() != layout) return false;
  out.values = w, out.rows = rows, out.cols = cols;
  dnnl::memory plain(dnnl::memory::desc({cols, rows}, dt::f32, dims{1, cols}), state.engine, const_cast<float*>(w));
  dnnl::memory packed(layout, state.engine, out.packed.reserve(layout.get_size() / sizeof(float)));
  dnnl::reorder(plain, packed).execute(state.stream, plain, packed);  // padding zeroed
  state.stream.wait();
  return true;
}

bool gemm_block_packed(std::int64_t m, const float* a, std::int64_t lda, const PackedWeight& w,
                       std::int64_t first, std::int64_t last, float* c, std::int64_t ldc, const float* bias,
                       bool relu) {
  // oneDNN 2.6's brgemm kernels take packed weights with A and C dense only:
  // other operands go through dense copies.
  const std::int64_t n = last - first, k = w.cols;
  ThreadState& state = thread_state();
  const Key key{m, n, k, k, 0, n, false, false, 1.0f, 0.0f, false, bias != nullptr, relu, 0, 0, 0, 0, true};
  if (!find_product(state, key).fast) return false;
  if (lda != k) {
    float* dense = state.a_f32.reserve(static_cast<std::size_t>(m * k));
    for (std::int64_t r = 0; r < m; ++r) std::copy_n(a + r * lda, k, dense + r * k);
    a = dense;
  }
  float* out = ldc == n ? c : state.c_f32.reserve(static_cast<std::size_t>(m * n));
  const std::int64_t padded_k = (k + 15) / 16 * 16;
  run_product(state, key, a, w.packed.data() + first * padded_k, out, bias);
  if (out != c)
    for (std::int64_t r = 0; r < m; ++r) std::copy_n(out + r * n, n, c + r * ldc);
  return true;
}

const Int8Weight* find_int8_weight(const float* w, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  for (const Int8Weight& x : int8_weights)
    if (x.values == w && x.rows == rows && x.cols == cols && ld == cols) return &x;
  return nullptr;
}

}  // namespace tfm::detail

namespace tfm {

void add_int8_weight(const float* w, std::int64_t rows, std::int64_t cols) {
  if (detail::find_int8_weight(w, rows, cols, cols)) return;
  detail::Int8Weight x{w, rows, cols, {}, std::vector<float>(static_cast<std::size_t>(rows))};
  std::int8_t* values_q = x.values_q.reserve(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r)
    x.scales[static_cast<std::size_t>(r)] = quantize_int8(w + r * cols, cols, values_q + r * cols,
                                                   detail::int8_weight_limit());
  detail::int8_weights.push_back(std::move(x));
}

void clear_int8_weights() { detail::int8_weights.clear(); }

bool add_packed_weight(const float* w, std::int64_t rows, std::int64_t cols) {
  if (rows < 1 || cols < 1) return false;
  if (detail::find_packed_weight(w, rows, cols, cols)) return true;
  detail::PackedWeight x;
  if (!detail::pack_weight(w, rows, cols, x)) return false;
  detail::packed_weights.push_back(std::move(x));
  return true;
}

void clear_packed_weights() { detail::packed_weights.clear(); }

using detail::Shadow;
using detail::shadows;

void add_bf16_shadow(const float* values, std::int64_t n) {
  shadows.push_back({values, n, {}});
  round_to_bf16(values, n, shadows.back().copy.reserve(static_cast<std::size_t>(n)));
}

void refresh_bf16_shadows() {
  for (Shadow& s : shadows)
    parallel_range(s.n, 1 << 16, [&](std::int64_t lo, std::int64_t hi) {
      round_to_bf16(s.values + lo, hi - lo, s.copy.data() + lo);
    });
}

void clear_bf16_shadows() { shadows.clear(); }

}  // namespace tfm
