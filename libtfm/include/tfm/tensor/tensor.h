// Float32 tensors and the workspace arena of the training step.
//
// A Tensor is a contiguous row-major float array, 64-byte aligned, with up to
// four dimensions. It either owns its memory (Tensor::zeros) or views memory
// owned elsewhere (an Arena, a parameter store). Kernels never see tensors:
// they take raw pointers and sizes (see kernels.h, gemm.h).
//
// An Arena hands out aligned blocks by bumping a pointer; reset() makes every
// block reusable. The first pass through a step sizes it; after reset() the
// arena keeps one block of the high-water size, so later steps of the same or
// smaller shapes allocate nothing on the heap.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace tfm {

constexpr std::size_t kTensorAlign = 64;

// Frees memory from aligned_alloc.
struct AlignedFree {
  void operator()(void* p) const;
};

// Aligned uninitialized storage for `bytes` bytes (rounded up to kTensorAlign).
// Throws Error when out of memory.
std::unique_ptr<std::byte[], AlignedFree> aligned_bytes(std::size_t bytes);

// Uninitialized aligned scratch of trivial elements, kept call after call
// (batch after batch): it only grows, at least doubling, so a run of growing
// requests reallocates a few times, not at each one. Fresh memory costs a
// page fault per 4 KB and clearing it costs a pass: neither is paid for
// memory that is written before it is read.
template <class T>
class GrowOnlyBuffer {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  // Room for n elements; the first `keep` (≤ n) keep their values, the
  // others are uninitialized.
  T* reserve(std::size_t n, std::size_t keep = 0) {
    if (n > capacity_) {
      std::size_t grown = std::max(n, 2 * capacity_);
      auto fresh = aligned_bytes(grown * sizeof(T));
      if (keep > 0) std::memcpy(fresh.get(), data_.get(), std::min(keep, capacity_) * sizeof(T));
      data_ = std::move(fresh);
      capacity_ = grown;
    }
    return data();
  }
  T* data() { return reinterpret_cast<T*>(data_.get()); }
  const T* data() const { return reinterpret_cast<const T*>(data_.get()); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::unique_ptr<std::byte[], AlignedFree> data_;
  std::size_t capacity_ = 0;
};

class Tensor {
 public:
  Tensor() = default;
  // Owning, zero-filled tensor of the given shape.
  static Tensor zeros(std::initializer_list<std::int64_t> shape);
  static Tensor zeros(const std::vector<std::int64_t>& shape);
  // Non-owning view of `data` (caller keeps it alive).
  static Tensor view(float* data, const std::vector<std::int64_t>& shape);

  float* data() { return data_; }
  const float* data() const { return data_; }
  int rank() const { return rank_; }
  std::int64_t dim(int i) const { return shape_[i]; }
  std::vector<std::int64_t> shape() const;
  std::int64_t size() const;
  std::string shape_string() const;  // "[3, 4]"
  float& operator[](std::int64_t i) { return data_[i]; }
  float operator[](std::int64_t i) const { return data_[i]; }

 private:
  void set_shape(const std::vector<std::int64_t>& shape);
  std::shared_ptr<std::byte[]> owner_;
  float* data_ = nullptr;
  std::array<std::int64_t, 4> shape_{};
  int rank_ = 0;
};

class Arena {
 public:
  // reset() merges overflow blocks into one of the high-water size and
  // `spare` × that again: a little for training steps, whose high water
  // settles within a few passes; 1 for scratch whose high water creeps up
  // pass after pass (batches sorted by length), so that its size at least
  // doubles each time and fresh memory is rarely touched.
  explicit Arena(double spare = 0.125) : spare_(spare) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Uninitialized aligned space for n floats (or n bytes); valid until reset().
  float* floats(std::size_t n);
  std::uint8_t* bytes(std::size_t n);
  std::int32_t* ints(std::size_t n);
  // Zero-filled n floats.
  float* zeros(std::size_t n);
  // Everything taken after mark() is given back by release(mark), e.g. the
  // scratch of one layer's backward pass (stack order).
  struct Mark {
    std::size_t block, used, in_use;
  };
  Mark mark() const { return {block_, used_, in_use_}; }
  void release(const Mark& m) { block_ = m.block, used_ = m.used, in_use_ = m.in_use; }
  // Makes all space reusable; merges overflow blocks into one of the
  // high-water size so the next pass needs no allocation.
  void reset();
  std::size_t high_water_bytes() const { return high_water_; }
  // Heap allocations made so far (for tests of the no-allocation promise).
  std::size_t allocations() const { return allocations_; }

 private:
  struct Block {
    std::unique_ptr<std::byte[], AlignedFree> data;
    std::size_t size = 0;
  };
  void* take(std::size_t bytes);
  std::vector<Block> blocks_;
  std::size_t block_ = 0, used_ = 0;  // current block and offset in it
  std::size_t in_use_ = 0, high_water_ = 0, allocations_ = 0;
  double spare_;
};

}  // namespace tfm
