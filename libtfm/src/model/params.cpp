#include "tfm/model/params.h"

#include <cmath>
#include <cstring>

#include "tfm/core/error.h"
#include "tfm/tensor/random.h"

namespace tfm {

int ParamStore::add(const std::string& name, const std::vector<std::int64_t>& shape, Init init,
                    float stddev, bool packed) {
  if (values_.data()) throw Error("parameter '" + name + "' added after allocation");
  if (by_name_.count(name)) throw Error("duplicate parameter '" + name + "'");
  std::int64_t size = 1;
  for (auto d : shape) size *= d;
  // Each parameter starts on a 64-byte boundary (16 floats).
  std::int64_t offset = packed ? total_ : (total_ + 15) / 16 * 16;
  params_.push_back({name, shape, offset, size, init, stddev});
  total_ = offset + size;
  by_name_[name] = static_cast<int>(params_.size() - 1);
  return static_cast<int>(params_.size() - 1);
}

void ParamStore::allocate() {
  values_ = Tensor::zeros({std::max<std::int64_t>(total_, 1)});
  grads_ = Tensor::zeros({std::max<std::int64_t>(total_, 1)});
}

void ParamStore::initialize(std::uint64_t seed) {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const ParamInfo& p = params_[i];
    float* v = value(static_cast<int>(i));
    RngKey key{seed, ~std::uint64_t{0}, static_cast<std::uint32_t>(i)};
    switch (p.init) {
      case Init::kZeros: std::fill(v, v + p.size, 0.0f); break;
      case Init::kOnes: std::fill(v, v + p.size, 1.0f); break;
      case Init::kNormal: fill_normal(key, p.size, p.stddev, v); break;
      case Init::kXavier: {
        float a = std::sqrt(6.0f / static_cast<float>(p.shape[0] + p.shape[1]));
        fill_uniform(key, p.size, -a, a, v);
        break;
      }
    }
  }
}

int ParamStore::index(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) throw Error("no parameter named '" + name + "'");
  return it->second;
}

void ParamStore::zero_grads() {
  std::memset(grads_.data(), 0, static_cast<std::size_t>(total_) * sizeof(float));
}

}  // namespace tfm
