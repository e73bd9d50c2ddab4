#include "tfm/core/error.h"

#include <cstring>

#include <fmt/format.h>

namespace tfm {

namespace {
std::string input_message(const std::string& file, std::size_t line, const std::string& message) {
  if (line == 0) return fmt::format("{}: {}", display_name(file), message);
  return fmt::format("{}:{}: {}", display_name(file), line, message);
}
}  // namespace

InputError::InputError(const std::string& file, std::size_t line, const std::string& message)
    : Error(input_message(file, line, message)), file_(file), line_(line) {}

IoError::IoError(const std::string& path, const std::string& message, int errno_value)
    : Error(fmt::format("{}: {}: {}", display_name(path), message, std::strerror(errno_value))) {}

IoError::IoError(const std::string& path, const std::string& message)
    : Error(fmt::format("{}: {}", display_name(path), message)) {}

std::string display_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

}  // namespace tfm
