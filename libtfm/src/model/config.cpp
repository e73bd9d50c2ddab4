#include "tfm/model/config.h"

#include <fmt/format.h>

#include "tfm/core/error.h"

namespace tfm {

std::vector<std::string> preset_names() { return {"tiny", "small", "base", "big"}; }

ModelConfig preset_config(const std::string& name) {
  ModelConfig c;
  if (name == "tiny") {
    c.d_model = 128, c.heads = 4, c.ffn = 512, c.encoder_layers = 2, c.decoder_layers = 2;
  } else if (name == "small") {
    c.d_model = 256, c.heads = 4, c.ffn = 1024, c.encoder_layers = 3, c.decoder_layers = 3;
  } else if (name == "base") {
    // the defaults: the paper's base model
  } else if (name == "big") {
    c.d_model = 1024, c.heads = 16, c.ffn = 4096;
    c.dropout = c.attention_dropout = 0.3f;
  } else {
    throw UsageError(fmt::format("unknown preset '{}' (known: tiny, small, base, big)", name));
  }
  return c;
}

void validate(const ModelConfig& c) {
  auto bad = [](const std::string& what) { throw UsageError("invalid model configuration: " + what); };
  if (c.vocab_size < 5) bad(fmt::format("vocabulary of {} entries", c.vocab_size));
  if (c.d_model < 2 || c.d_model % 2) bad("d_model must be even and positive");
  if (c.heads < 1 || c.d_model % c.heads) bad("d_model must be a multiple of heads");
  if (c.ffn < 1 || c.encoder_layers < 1 || c.decoder_layers < 1) bad("sizes must be positive");
  for (float p : {c.dropout, c.attention_dropout, c.relu_dropout, c.source_word_dropout, c.target_word_dropout,
                  c.label_smoothing})
    if (!(p >= 0 && p < 1)) bad("dropout and label smoothing must lie in [0, 1)");
  if (c.max_positions < 2) bad("max_positions must be at least 2");
}

}  // namespace tfm
