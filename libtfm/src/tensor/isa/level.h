// The kernels built once per instruction-set level (internal; tensor/isa.h).
//
// elementwise.cpp and loops.cpp are compiled once per level with that
// level's -march and TFM_ISA_NS naming its namespace (isa_baseline,
// isa_avx2, isa_avx512, isa_avx512bf16); each copy fills the tables below in
// its namespace, and isa.cpp picks one set at start-up. Everything these
// files define lives in that namespace or has internal linkage (the Makefile
// checks their objects), so no level's code can stand in for another's.
#pragma once

#include <cstdint>

#include "tfm/tensor/kernels.h"
#include "tfm/tensor/random.h"

namespace tfm::detail {

// The kernels of kernels.h that elementwise.cpp defines.
struct ElementwiseKernels {
  decltype(&tfm::attention_softmax) attention_softmax;
  decltype(&tfm::softmax_backward) softmax_backward;
  decltype(&tfm::layer_norm_forward) layer_norm_forward;
  decltype(&tfm::layer_norm_backward) layer_norm_backward;
  decltype(&tfm::dropout_apply) dropout_apply;
  decltype(&tfm::residual_dropout) residual_dropout;
  decltype(&tfm::add_bias) add_bias;
  decltype(&tfm::relu_backward) relu_backward;
  decltype(&tfm::bias_backward) bias_backward;
  decltype(&tfm::add_into) add_into;
  decltype(&tfm::embedding_forward) embedding_forward;
  decltype(&tfm::embedding_backward) embedding_backward;
  decltype(&tfm::label_smoothed_xent) label_smoothed_xent;
  decltype(&tfm::rdrop_xent) rdrop_xent;
  decltype(&tfm::sum_squares) sum_squares;
  decltype(&tfm::scale_values) scale_values;
  decltype(&tfm::quantize_int8) quantize_int8;
};

// The rest: bf16 rounding, int8 results, dropout masks, Adam, decoding.
struct LoopKernels {
  decltype(&tfm::round_to_bf16) round_to_bf16;
  decltype(&tfm::dequantize_row) dequantize_row;
  decltype(&tfm::dropout_mask) dropout_mask;
  decltype(&tfm::adam_update) adam_update;
  void (*attend_f32)(const float*, std::int64_t, const float* const*, std::int64_t, std::int64_t, float*, float*);
  void (*attend_bf16)(const float*, std::int64_t, const std::uint16_t* const*, std::int64_t, std::int64_t, float*,
                      float*);
  decltype(&tfm::log_softmax_rows) log_softmax_rows;
  decltype(&tfm::fold_log_sum_exp) fold_log_sum_exp;
  decltype(&tfm::argmax) argmax;
  decltype(&tfm::next_block_above) next_block_above;
};

struct LevelKernels {
  const ElementwiseKernels* elementwise;
  const LoopKernels* loops;
};

// The level in effect (see isa_level()).
const LevelKernels& level_kernels();

}  // namespace tfm::detail

// Each level's tables, defined by its copies of elementwise.cpp and loops.cpp.
#define TFM_DECLARE_LEVEL_TABLES(level)                  \
  namespace tfm::level {                                 \
  extern const detail::ElementwiseKernels kElementwise;  \
  extern const detail::LoopKernels kLoops;               \
  }
TFM_DECLARE_LEVEL_TABLES(isa_baseline)
TFM_DECLARE_LEVEL_TABLES(isa_avx2)
TFM_DECLARE_LEVEL_TABLES(isa_avx512)
TFM_DECLARE_LEVEL_TABLES(isa_avx512bf16)
#undef TFM_DECLARE_LEVEL_TABLES
