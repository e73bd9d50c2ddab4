#include "tfm/core/error.h"

#include <cstring>

#include <fmt/format.h>

namespace tfm {

namespace {
std::string one_line(const std::string& message) {
  std::string line;
  line.reserve(message.size());
  for (const char c : message) {
    switch (c) {
      case '\n': line += "\\n"; break;
      case '\r': line += "\\r"; break;
      case '\v': line += "\\v"; break;
      case '\f': line += "\\f"; break;
      default: line += c;
    }
  }
  return line;
}

std::string input_message(const std::string& file, std::size_t line, const std::string& message) {
  if (line == 0) return fmt::format("{}: {}", display_name(file), message);
  return fmt::format("{}:{}: {}", display_name(file), line, message);
}
}  // namespace

Error::Error(const std::string& message) : std::runtime_error(one_line(message)) {}

InputError::InputError(const std::string& file, std::size_t line, const std::string& message)
    : Error(input_message(file, line, message)), file_(file), line_(line) {}

IoError::IoError(const std::string& path, const std::string& message, int errno_value)
    : Error(fmt::format("{}: {}: {}", display_name(path), message, std::strerror(errno_value))) {}

IoError::IoError(const std::string& path, const std::string& message)
    : Error(fmt::format("{}: {}", display_name(path), message)) {}

std::string display_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

}  // namespace tfm
