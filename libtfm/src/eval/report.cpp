#include "tfm/eval/report.h"

#include <charconv>
#include <cstdlib>
#include <fmt/format.h>

namespace tfm {

std::string python_float_repr(double value) {
  char buffer[64];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific).ptr;
  std::string text(buffer, end);  // "-d.ddde±XX", shortest round trip
  std::string sign;
  if (text[0] == '-') {
    sign = "-";
    text.erase(0, 1);
  }
  const std::size_t e = text.find('e');
  const int exponent = std::atoi(text.c_str() + e + 1);
  std::string digits = text.substr(0, e);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  const int point = exponent + 1;  // decimal point after this many digits
  if (point <= -4 || point > 16) {
    std::string mantissa = digits.substr(0, 1);
    if (digits.size() > 1) mantissa += "." + digits.substr(1);
    return sign + mantissa + fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  }
  if (point <= 0) return sign + "0." + std::string(std::size_t(-point), '0') + digits;
  if (std::size_t(point) >= digits.size())
    return sign + digits + std::string(std::size_t(point) - digits.size(), '0') + ".0";
  return sign + digits.substr(0, std::size_t(point)) + "." + digits.substr(std::size_t(point));
}

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", int(c));
        else out += c;
    }
  }
  return out + "\"";
}

namespace {

std::string json_number_line(const std::string& key, double value) {
  return " " + json_quote(key) + ": " + python_float_repr(value);
}

std::string json_string_line(const std::string& key, const std::string& value) {
  return " " + json_quote(key) + ": " + json_quote(value);
}

}  // namespace

std::string format_score(const Score& score, int width, bool score_only,
                         const std::string& signature, bool json) {
  std::string sc = format_fixed(score.score, width);
  std::vector<std::string> lines = {json_string_line("name", score.name),
                                    json_number_line("score", std::strtod(sc.c_str(), nullptr)),
                                    json_string_line("signature", signature)};
  if (score.mean > 0) {
    const std::string mean = format_fixed(score.mean, width), ci = format_fixed(score.ci, width);
    const std::string confidence = "μ = " + mean + " ± " + ci;
    sc += " (" + confidence + ")";
    lines.push_back(json_number_line("confidence_mean", std::strtod(mean.c_str(), nullptr)));
    lines.push_back(json_number_line("confidence_var", std::strtod(ci.c_str(), nullptr)));
    lines.push_back(json_string_line("confidence", confidence));
  }
  std::string full = (signature.empty() ? score.name : score.name + "|" + signature) + " = " + sc;
  if (!score.verbose.empty()) {
    full += " " + score.verbose;
    lines.push_back(json_string_line("verbose_score", score.verbose));
  }
  if (score_only) return sc;
  if (!json) return full;
  std::size_t start = 0;
  while (start <= signature.size()) {
    std::size_t bar = signature.find('|', start);
    if (bar == std::string::npos) bar = signature.size();
    const std::string field = signature.substr(start, bar - start);
    const std::size_t colon = field.find(':');
    lines.push_back(json_string_line(field.substr(0, colon), field.substr(colon + 1)));
    start = bar + 1;
  }
  std::string out = "{\n";
  for (std::size_t i = 0; i < lines.size(); ++i) out += lines[i] + (i + 1 < lines.size() ? ",\n" : "\n");
  return out + "}";
}

std::string join_results(std::vector<std::string> results, bool json, bool color) {
  if (json) {
    if (results.size() == 1) return results[0] + "\n";
    std::string out = "[\n";
    for (std::size_t i = 0; i < results.size(); ++i) out += results[i] + (i + 1 < results.size() ? ",\n" : "\n");
    return out + "]\n";
  }
  if (color) {
    for (std::string& line : results) {
      const std::size_t open = line.find("(μ = ");
      const std::size_t close = open == std::string::npos ? open : line.find(')', open);
      if (close != std::string::npos) line.insert(close + 1, "\033[0m").insert(open, "\033[36m");
    }
  }
  if (results.size() == 1) return results[0] + "\n";
  std::string out;
  std::vector<std::size_t> lens;
  std::vector<std::string> aligned;
  for (const std::string& line : results) {
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) {
      out += line + "\n";  // --score-only lines have nothing to align
    } else {
      lens.push_back(eq - 1);
      aligned.push_back(line);
    }
  }
  std::size_t widest = 0;
  for (const std::size_t len : lens) widest = std::max(widest, len);
  // Python pads by characters; the text before '=' is ASCII.
  for (std::size_t i = 0; i < aligned.size(); ++i)
    out += std::string(widest - lens[i], ' ') + aligned[i] + "\n";
  return out;
}

}  // namespace tfm
