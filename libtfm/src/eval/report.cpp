#include "tfm/eval/report.h"

#include <charconv>
#include <functional>
#include <cstdlib>
#include <fmt/format.h>

#include "tfm/core/utf8.h"

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

std::string json_quote(const std::string& text, bool ensure_ascii) {
  std::string out = "\"";
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (ensure_ascii && static_cast<unsigned char>(c) >= 0x80) {
      const char32_t cp = decode_utf8(text, pos);
      --pos;
      if (cp < 0x10000) {
        out += fmt::format("\\u{:04x}", unsigned(cp));
      } else {
        const unsigned v = unsigned(cp) - 0x10000;
        out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      }
      continue;
    }
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

namespace {

// One element of json.dumps(list_of_objects, indent=4, ensure_ascii=True).
std::string systems_json(const std::vector<std::string>& names, const std::vector<std::string>& metric_names,
                         const std::function<std::string(std::size_t, std::size_t)>& value) {
  if (names.empty()) return "[]\n";
  std::string out = "[\n";
  for (std::size_t s = 0; s < names.size(); ++s) {
    out += "    {\n        \"system\": " + json_quote(names[s], true);
    for (std::size_t m = 0; m < metric_names.size(); ++m)
      out += ",\n        " + json_quote(metric_names[m], true) + ": " + value(s, m);
    out += s + 1 < names.size() ? "\n    },\n" : "\n    }\n";
  }
  return out + "]\n";
}

std::string optional_number(const std::optional<double>& value) {
  return value ? python_float_repr(*value) : "null";
}

}  // namespace

std::string format_systems_json(const std::vector<std::string>& names,
                                const std::vector<std::string>& metric_names,
                                const std::vector<std::vector<std::string>>& cells) {
  return systems_json(names, metric_names, [&](std::size_t s, std::size_t m) { return json_quote(cells[s][m], true); });
}

std::string format_paired_json(const std::vector<std::string>& names,
                               const std::vector<std::string>& metric_names,
                               const std::vector<std::vector<PairedResult>>& results) {
  return systems_json(names, metric_names, [&](std::size_t s, std::size_t m) {
    const PairedResult& r = results[s][m];
    return "{\n            \"score\": " + python_float_repr(r.score) + ",\n            \"p_value\": " +
           optional_number(r.p_value) + ",\n            \"mean\": " + optional_number(r.mean) +
           ",\n            \"ci\": " + optional_number(r.ci) + "\n        }";
  });
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

namespace tfm {
namespace {

// Python's str.format alignment of `text` in `width` characters.
std::string align(const std::string& text, std::size_t width, bool right) {
  const std::size_t length = utf8_length(text);
  if (length >= width) return text;
  const std::size_t pad = width - length;
  if (right) return std::string(pad, ' ') + text;
  return std::string(pad / 2, ' ') + text + std::string(pad - pad / 2, ' ');
}

std::vector<std::string> cell_lines(const std::string& cell) {
  std::vector<std::string> lines;
  std::size_t start = 0, newline;
  while ((newline = cell.find('\n', start)) != std::string::npos) {
    lines.push_back(cell.substr(start, newline - start));
    start = newline + 1;
  }
  lines.push_back(cell.substr(start));
  return lines;
}

std::string rule(const std::vector<std::size_t>& widths, const char* left, const char* fill, const char* middle,
                 const char* right) {
  std::string out = left;
  for (std::size_t c = 0; c < widths.size(); ++c) {
    for (std::size_t k = 0; k < widths[c] + 2; ++k) out += fill;
    out += c + 1 < widths.size() ? middle : right;
  }
  return out + "\n";
}

// tabulate(..., tablefmt="fancy_grid", colalign=("right",), stralign="center").
std::string fancy_grid(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& header : headers) widths.push_back(utf8_length(header) + 2);  // tabulate's MIN_PADDING
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c)
      for (const auto& line : cell_lines(row[c])) widths[c] = std::max(widths[c], utf8_length(line));
  const auto row_text = [&](const std::vector<std::string>& cells) {
    std::vector<std::vector<std::string>> lines;
    std::size_t height = 1;
    for (const auto& cell : cells) height = std::max(height, (lines.emplace_back(cell_lines(cell))).size());
    std::string out;
    for (std::size_t l = 0; l < height; ++l) {
      out += "│";
      for (std::size_t c = 0; c < cells.size(); ++c)
        out += " " + align(l < lines[c].size() ? lines[c][l] : "", widths[c], c == 0) + " │";
      out += "\n";
    }
    return out;
  };
  std::string out = rule(widths, "╒", "═", "╤", "╕") + row_text(headers) + rule(widths, "╞", "═", "╪", "╡");
  for (std::size_t r = 0; r < rows.size(); ++r)
    out += row_text(rows[r]) + (r + 1 < rows.size() ? rule(widths, "├", "─", "┼", "┤") : "");
  return out + rule(widths, "╘", "═", "╧", "╛");
}

std::string paired_explanation(const SystemsTextInfo& info, const std::string& baseline) {
  const bool bootstrap = *info.paired == PairedTestKind::kBootstrap;
  const std::string message = fmt::format("Paired {} test with {} {}",
                                          bootstrap ? "bootstrap resampling" : "approximate randomization",
                                          info.samples, bootstrap ? "resampling trials" : "trials");
  const std::string bar(message.size(), '-');
  std::string out = bar + "\n" + message + "\n" + bar + "\n";
  out += " - Each system is pairwise compared to " + baseline + ".\n";
  out += bootstrap ? "   Actual system score / bootstrap estimated true mean / 95% CI are provided for each metric.\n"
                   : "   Actual system score is provided for each metric.\n";
  out += "\n"
         " - Null hypothesis: the system and the baseline translations are essentially\n"
         "   generated by the same underlying process. For a given system and the baseline,\n"
         "   the p-value is roughly the probability of the absolute score difference (delta)\n"
         "   or higher occurring due to chance, under the assumption that the null hypothesis is correct.\n"
         "\n"
         " - Assuming a significance threshold of 0.05, the null hypothesis can be rejected\n"
         "   for p-values < 0.05 (marked with \"*\"). This means that the delta is unlikely to be attributed\n"
         "   to chance, hence the system is significantly \"different\" than the baseline.\n"
         "   Otherwise, the p-values are highlighted in red.\n"
         "\n"
         " - NOTE: Significance does not tell whether a system is \"better\" than the baseline but rather\n"
         "   emphasizes the \"difference\" of the systems in terms of the replicability of the delta.\n"
         "\n";
  return out;
}

}  // namespace

std::string format_systems_text(const std::vector<std::string>& names,
                                const std::vector<std::string>& metric_names,
                                const std::vector<std::vector<PairedResult>>& results,
                                const SystemsTextInfo& info) {
  std::vector<std::string> headers = {"System"};
  bool bootstrap = false;  // sacrebleu never resets it between metrics
  for (std::size_t m = 0; m < metric_names.size(); ++m) {
    for (const auto& system : results) bootstrap = bootstrap || system[m].mean.has_value();
    headers.push_back(metric_names[m] + (bootstrap ? " (μ ± 95% CI)" : ""));
  }
  std::vector<std::vector<std::string>> rows;
  for (std::size_t s = 0; s < names.size(); ++s) {
    rows.push_back({names[s]});
    for (const PairedResult& r : results[s]) {
      std::string cell = format_fixed(r.score, info.width);
      if (r.mean) cell += " (" + format_fixed(*r.mean, info.width) + " ± " + format_fixed(*r.ci, info.width) + ")";
      if (r.p_value) cell += "\n(p = " + format_fixed(*r.p_value, 4) + ")" + (*r.p_value > 0.05 ? "" : "*");
      rows.back().push_back(cell);
    }
  }
  std::string out = fancy_grid(headers, rows) + "\n";
  if (info.paired)
    out += paired_explanation(info, names.empty() || !names[0].starts_with("Baseline:") ? "" : names[0]);
  out += "-----------------\nMetric signatures\n-----------------\n";
  for (std::size_t m = 0; m < metric_names.size(); ++m) {
    std::string name = metric_names[m];
    if (name.size() < 10) name.resize(10, ' ');
    out += " - " + name + " " + info.signatures[m] + "\n";
  }
  return out;
}

}  // namespace tfm
