// A progress line on stderr for long work: shown only when stderr is a
// terminal or when forced (--progress), redrawn at most ten times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tfm {

class ProgressBar {
 public:
  // `total` 0 means unknown (a counter without a bar). `force` shows it even
  // when stderr is not a terminal.
  ProgressBar(std::string label, std::uint64_t total, bool force = false);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Sets the amount done and a short free-form status shown after the bar.
  void update(std::uint64_t done, const std::string& status = "");
  // Draws the final state and ends the line.
  void finish();
  bool enabled() const { return enabled_; }

 private:
  void draw();
  std::string label_;
  std::uint64_t total_, done_ = 0;
  std::string status_;
  bool enabled_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Formats seconds as "1h02m03s" / "2m03s" / "3s".
std::string format_duration(double seconds);

}  // namespace tfm
