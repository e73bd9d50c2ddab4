#include "tfm/core/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "tfm/core/cli.h"

namespace tfm {

ProgressBar::ProgressBar(std::string label, std::uint64_t total, bool force)
    : label_(std::move(label)), total_(total), enabled_(force || ::isatty(STDERR_FILENO)) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

ProgressBar::~ProgressBar() {
  if (enabled_ && !finished_) std::fputc('\n', stderr);
}

void ProgressBar::update(std::uint64_t done, const std::string& status) {
  done_ = done;
  status_ = status;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw();
}

void ProgressBar::finish() {
  if (!enabled_ || finished_) return;
  draw();
  std::fputc('\n', stderr);
  finished_ = true;
}

void ProgressBar::draw() {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = fmt::format("\r{}: {}", tool_name(), label_);
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    line += fmt::format(" [{}{}] {:3.0f}% {}/{}", std::string(filled, '#'),
                        std::string(kWidth - filled, '.'), fraction * 100, done_, total_);
    if (done_ > 0 && done_ < total_)
      line += " ETA " + format_duration(elapsed * static_cast<double>(total_ - done_) /
                                        static_cast<double>(done_));
  } else {
    line += fmt::format(" {}", done_);
  }
  line += " " + format_duration(elapsed);
  if (!status_.empty()) line += " " + status_;
  line += "\x1b[K";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace tfm
