#include "tfm/tensor/tensor.h"

#include <cstdlib>
#include <cstring>
#include <numeric>

#include <sys/mman.h>

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {

namespace {
constexpr std::size_t kLazyZeroBytes = std::size_t{1} << 20;
}  // namespace

void AlignedFree::operator()(void* p) const { std::free(p); }

std::unique_ptr<std::byte[], AlignedFree> aligned_bytes(std::size_t bytes) {
  std::size_t rounded = (bytes + kTensorAlign - 1) / kTensorAlign * kTensorAlign;
  if (rounded == 0) rounded = kTensorAlign;
  void* p = std::aligned_alloc(kTensorAlign, rounded);
  if (!p) throw Error(fmt::format("out of memory allocating {} bytes", rounded));
  return std::unique_ptr<std::byte[], AlignedFree>(static_cast<std::byte*>(p));
}

Tensor Tensor::zeros(std::initializer_list<std::int64_t> shape) {
  return zeros(std::vector<std::int64_t>(shape));
}

Tensor Tensor::zeros(const std::vector<std::int64_t>& shape) {
  Tensor t;
  t.set_shape(shape);
  std::size_t bytes = static_cast<std::size_t>(t.size()) * sizeof(float);
  if (bytes >= kLazyZeroBytes) {
    // Fresh anonymous pages read as zeros and cost nothing until touched:
    // the gradients of a model loaded only to translate are never touched.
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw Error(fmt::format("out of memory allocating {} bytes", bytes));
    t.data_ = static_cast<float*>(p);
    t.owner_ = std::shared_ptr<std::byte[]>(static_cast<std::byte*>(p), [bytes](std::byte* q) { munmap(q, bytes); });
    return t;
  }
  auto block = aligned_bytes(bytes);
  std::memset(block.get(), 0, bytes);
  t.data_ = reinterpret_cast<float*>(block.get());
  t.owner_ = std::shared_ptr<std::byte[]>(block.release(), AlignedFree());
  return t;
}

Tensor Tensor::view(float* data, const std::vector<std::int64_t>& shape) {
  Tensor t;
  t.set_shape(shape);
  t.data_ = data;
  return t;
}

void Tensor::set_shape(const std::vector<std::int64_t>& shape) {
  if (shape.size() > shape_.size())
    throw ShapeError(fmt::format("tensor of rank {} (at most 4)", shape.size()));
  for (auto d : shape)
    if (d < 0) throw ShapeError("negative tensor dimension");
  rank_ = static_cast<int>(shape.size());
  std::copy(shape.begin(), shape.end(), shape_.begin());
}

std::vector<std::int64_t> Tensor::shape() const {
  return std::vector<std::int64_t>(shape_.begin(), shape_.begin() + rank_);
}

std::int64_t Tensor::size() const {
  return std::accumulate(shape_.begin(), shape_.begin() + rank_, std::int64_t{1},
                         std::multiplies<>());
}

std::string Tensor::shape_string() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(shape_[i]);
  return s + "]";
}

void* Arena::take(std::size_t bytes) {
  bytes = (bytes + kTensorAlign - 1) / kTensorAlign * kTensorAlign;
  while (block_ < blocks_.size() && used_ + bytes > blocks_[block_].size) {
    ++block_;
    used_ = 0;
  }
  if (block_ == blocks_.size()) {
    std::size_t size = std::max<std::size_t>(bytes, std::size_t{16} << 20);
    blocks_.push_back({aligned_bytes(size), size});
    ++allocations_;
    used_ = 0;
  }
  void* p = blocks_[block_].data.get() + used_;
  used_ += bytes;
  in_use_ += bytes;
  high_water_ = std::max(high_water_, in_use_);
  return p;
}

float* Arena::floats(std::size_t n) { return static_cast<float*>(take(n * sizeof(float))); }
std::uint8_t* Arena::bytes(std::size_t n) { return static_cast<std::uint8_t*>(take(n)); }
std::int32_t* Arena::ints(std::size_t n) {
  return static_cast<std::int32_t*>(take(n * sizeof(std::int32_t)));
}

float* Arena::zeros(std::size_t n) {
  float* p = floats(n);
  std::memset(p, 0, n * sizeof(float));
  return p;
}

void Arena::reset() {
  if (blocks_.size() > 1) {
    // Blocks waste their tails; one block of the high-water size (plus the
    // alignment slack of every request) serves the next pass alone.
    std::size_t size = high_water_ + static_cast<std::size_t>(static_cast<double>(high_water_) * spare_);
    blocks_.clear();
    blocks_.push_back({aligned_bytes(size), size});
    ++allocations_;
  }
  block_ = used_ = in_use_ = 0;
}

}  // namespace tfm
