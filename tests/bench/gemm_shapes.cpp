// The fp32 products of one decoding step of `small` and `base` (beam 4,
// batches of 64 sentences: 256 rows), each alone and repeated with its
// weights warm in the caches: tfm-decode's weights packed once for oneDNN's
// brgemm kernels (add_packed_weight), oneDNN's sgemm, and OpenBLAS's sgemm.
// What the products could reach inside decoding, where they run between
// other work. A fourth way, the packed weights cut into panels of 512
// output columns each written into the same buffer, shows what a product
// gains when its output stays in the caches instead of going to memory
// (the 10 MB of logits of the vocabulary product). Prints one line per
// product: name, M N K, GFLOP/s of each.
//   gemm_shapes [REPEATS]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tfm/tensor/gemm.h"
#include "tfm/tensor/threads.h"

using namespace tfm;

namespace {

struct Shape {
  const char* name;
  std::int64_t rows, out, in;
  bool relu;
};

enum class Way { kPacked, kOneDnnSgemm, kOpenBlas, kPackedOutputInCache };

double gflops(const Shape& s, Way way, int repeats) {
  std::vector<float> x(static_cast<std::size_t>(s.rows * s.in)), w(static_cast<std::size_t>(s.out * s.in));
  std::vector<float> bias(static_cast<std::size_t>(s.out), 0.1f), y(static_cast<std::size_t>(s.rows * s.out));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 97) * 1e-3f - 0.05f;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 89) * 1e-3f - 0.04f;
  clear_packed_weights();
  set_gemm_backend(way == Way::kOpenBlas ? GemmBackend::kOpenBlas : GemmBackend::kOneDnn);
  constexpr std::int64_t kPanel = 512;
  const bool packed = way == Way::kPacked || way == Way::kPackedOutputInCache;
  const std::int64_t panel = way == Way::kPackedOutputInCache ? kPanel : s.out;
  for (std::int64_t c = 0; packed && c < s.out; c += panel)
    if (!add_packed_weight(w.data() + c * s.in, std::min(panel, s.out - c), s.in)) return 0;  // no brgemm here
  auto product = [&] {
    for (std::int64_t c = 0; c < s.out; c += panel)
      linear_forward(x.data(), s.rows, s.in, std::min(panel, s.out - c), w.data() + c * s.in, bias.data() + c,
                     s.relu, y.data());
  };
  product(), product();
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < repeats; ++r) product();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  clear_packed_weights();
  return 2.0 * static_cast<double>(s.rows * s.out * s.in) * repeats / seconds / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 30;
  set_engine_threads(1);
  const Shape shapes[] = {
      {"small qkv", 256, 768, 256, false},    {"small out", 256, 256, 256, false},
      {"small ffn1", 256, 1024, 256, true},   {"small ffn2", 256, 256, 1024, false},
      {"small vocab", 256, 10004, 256, false}, {"base qkv", 256, 1536, 512, false},
      {"base out", 256, 512, 512, false},     {"base ffn1", 256, 2048, 512, true},
      {"base ffn2", 256, 512, 2048, false},   {"base vocab", 256, 10004, 512, false},
  };
  for (const Shape& s : shapes)
    std::printf("%s %lld %lld %lld %.1f %.1f %.1f %.1f\n", s.name, static_cast<long long>(s.rows),
                static_cast<long long>(s.out), static_cast<long long>(s.in), gflops(s, Way::kPacked, repeats),
                gflops(s, Way::kOneDnnSgemm, repeats), gflops(s, Way::kOpenBlas, repeats),
                gflops(s, Way::kPackedOutputInCache, repeats));
}
