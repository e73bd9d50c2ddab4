// Fuzzes the UTF-8 validator, decoder and repair, and the line reader on a
// file of these bytes, against simple properties: repair gives valid UTF-8
// and leaves valid text as it is, decoding valid text and encoding it again
// gives the same bytes, the reader's lines joined with '\n' are the file.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tfm/core/line_io.h"
#include "tfm/core/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const std::size_t invalid = tfm::find_invalid_utf8(data);
  const std::string repaired = tfm::replace_invalid_utf8(data);
  if (!tfm::is_valid_utf8(repaired)) tfm_fuzz::finding("replace_invalid_utf8 gave invalid UTF-8");
  if (invalid == std::string_view::npos) {
    if (repaired != data) tfm_fuzz::finding("replace_invalid_utf8 changed valid text");
    std::string encoded;
    std::size_t code_points = 0;
    for (std::size_t pos = 0; pos < data.size(); ++code_points) tfm::append_utf8(encoded, tfm::decode_utf8(data, pos));
    if (encoded != data) tfm_fuzz::finding("decode then encode changed valid text");
    if (code_points != tfm::utf8_length(data)) tfm_fuzz::finding("utf8_length disagrees with decoding");
  } else if (invalid >= data.size() || !tfm::is_valid_utf8(data.substr(0, invalid))) {
    tfm_fuzz::finding("find_invalid_utf8 points at a wrong offset");
  }

  const std::string path = tfm_fuzz::write_file("lines", data);
  tfm_fuzz::expect_clean(
      [&] {
        tfm::LineReader reader(path);
        std::string joined;
        std::string_view line;
        while (reader.next(line)) {
          joined.append(line);
          if (reader.had_newline()) joined.push_back('\n');
        }
        if (joined != data) tfm_fuzz::finding("LineReader lines differ from the file");
      },
      path);
  return 0;
}
