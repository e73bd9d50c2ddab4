// The named parameter store: every weight of a model, by hierarchical name
// ("encoder/layer_0/self_attn/q/weight"), in one flat float array (and a flat
// gradient array of the same layout), so the optimizer, gradient norms and
// averaging work on one vector. Names map one to one onto HDF5 /params/<name>.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tfm/tensor/tensor.h"

namespace tfm {

enum class Init { kZeros, kOnes, kXavier, kNormal };

struct ParamInfo {
  std::string name;
  std::vector<std::int64_t> shape;
  std::int64_t offset = 0;  // into the flat arrays
  std::int64_t size = 0;
  Init init = Init::kZeros;
  float stddev = 0;  // kNormal
};

class ParamStore {
 public:
  // Registers a parameter, starting on a 64-byte boundary unless `packed`:
  // then it directly follows the previous one (layers rely on this to fuse
  // q, k and v into one product). Returns its index. Only before allocate().
  // Throws Error on a duplicate name.
  int add(const std::string& name, const std::vector<std::int64_t>& shape, Init init,
          float stddev = 0, bool packed = false);
  // Allocates values and gradients (zeroed).
  void allocate();
  // Fills values as registered: Xavier uniform (fan_in = shape[1], fan_out =
  // shape[0]), N(0, stddev), zeros or ones; a function of seed only.
  void initialize(std::uint64_t seed);

  float* value(int index) { return values_.data() + params_[index].offset; }
  float* grad(int index) { return grads_.data() + params_[index].offset; }
  const std::vector<ParamInfo>& params() const { return params_; }
  int index(const std::string& name) const;  // throws Error when unknown
  std::int64_t size() const { return total_; }
  float* values() { return values_.data(); }
  float* grads() { return grads_.data(); }
  void zero_grads();

 private:
  std::vector<ParamInfo> params_;
  std::unordered_map<std::string, int> by_name_;
  std::int64_t total_ = 0;
  Tensor values_, grads_;
};

}  // namespace tfm
