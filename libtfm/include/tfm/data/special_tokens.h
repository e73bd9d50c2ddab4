// The special tokens every tfm vocabulary starts with, and their ids: the one
// definition shared by the data side (Vocabulary, batch files) and the model
// (padding, <s> and </s> around sentences, beam search).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tfm {

inline constexpr std::int32_t kPadId = 0, kUnkId = 1, kBosId = 2, kEosId = 3;
// Spellings, by id.
inline constexpr std::array<std::string_view, 4> kSpecialTokens{"<pad>", "<unk>", "<s>", "</s>"};

}  // namespace tfm
