// Hyper-parameters of the Transformer (ModelConfig) and the named presets
// (base, big, small, tiny). How they are stored in files is model_file.h's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tfm/data/special_tokens.h"

namespace tfm {

struct ModelConfig {
  std::int64_t vocab_size = 0;  // joint source/target vocabulary, specials included
  std::int64_t d_model = 512;
  std::int64_t heads = 8;
  std::int64_t ffn = 2048;  // inner size of the position-wise feed-forward layers
  std::int64_t encoder_layers = 6;
  std::int64_t decoder_layers = 6;
  float dropout = 0.1f;            // embeddings and sub-layer outputs
  float attention_dropout = 0.1f;  // attention weights
  float relu_dropout = 0.0f;       // inside the feed-forward layers (tensor2tensor)
  // Whole words: a source (target input) token's embedding is zeroed, its
  // position kept, with this probability (Nematus's and Marian's --dropout-src, --dropout-trg).
  float source_word_dropout = 0.0f, target_word_dropout = 0.0f;
  float label_smoothing = 0.1f;
  bool pre_norm = false;              // layer norm before each sub-layer (+ a final one)
  std::int64_t max_positions = 1024;  // longest sequence, </s> or <s> included
};

// The presets: tiny, small, base, big. Throws UsageError naming the known ones.
ModelConfig preset_config(const std::string& name);
std::vector<std::string> preset_names();

// Throws UsageError when the configuration cannot be built (e.g. d_model not
// a multiple of heads, a dropout outside [0, 1)).
void validate(const ModelConfig& config);

}  // namespace tfm
