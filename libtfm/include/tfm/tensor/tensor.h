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

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
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
  Arena() = default;
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
};

}  // namespace tfm
