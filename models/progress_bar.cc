#include "models/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace theta::models {
namespace {

constexpr int kBarWidth = 24;

}  // namespace

bool UseProgressBar(std::FILE* out) { return isatty(fileno(out)) == 1; }

ProgressBar::ProgressBar(std::FILE* out, const Options& options)
    : out_(out), options_(options), start_(Clock::now()), last_draw_(start_) {}

std::string_view ProgressBar::Render(int64_t step, double loss,
                                     double seconds) {
  const int64_t total = std::max<int64_t>(options_.total_steps, 1);
  const double done = std::clamp(static_cast<double>(step) / total, 0.0, 1.0);
  char bar[kBarWidth + 1];
  const int filled = static_cast<int>(done * kBarWidth);
  for (int i = 0; i < kBarWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kBarWidth] = '\0';
  const int64_t steps_here = step - options_.first_step;
  const double rate =
      seconds > 0 ? steps_here * options_.batch_size / seconds : 0;
  char left[32] = "-:-- left";
  if (steps_here > 0 && seconds > 0) {
    const int64_t s =
        std::llround(seconds / steps_here * std::max<int64_t>(total - step, 0));
    if (s >= 3600) {
      std::snprintf(left, sizeof(left), "%lld:%02lld:%02lld left",
                    static_cast<long long>(s / 3600),
                    static_cast<long long>(s / 60 % 60),
                    static_cast<long long>(s % 60));
    } else {
      std::snprintf(left, sizeof(left), "%lld:%02lld left",
                    static_cast<long long>(s / 60),
                    static_cast<long long>(s % 60));
    }
  }
  const int n =
      std::snprintf(line_, sizeof(line_),
                    "[%s] %3d%%  step %lld/%lld  loss %.4f  %.0f ex/s  %s", bar,
                    static_cast<int>(done * 100), static_cast<long long>(step),
                    static_cast<long long>(total), loss, rate, left);
  return std::string_view(line_, std::clamp<int>(n, 0, sizeof(line_) - 1));
}

void ProgressBar::Update(int64_t step, double loss) {
  loss_sum_ += loss;
  ++loss_count_;
  const Clock::time_point now = Clock::now();
  if (std::chrono::duration<double>(now - last_draw_).count() <
          options_.min_interval &&
      step < options_.total_steps) {
    return;
  }
  last_draw_ = now;
  const std::string_view line =
      Render(step, loss_sum_ / loss_count_,
             std::chrono::duration<double>(now - start_).count());
  loss_sum_ = 0;
  loss_count_ = 0;
  const int width = static_cast<int>(line.size());
  // Pad with spaces over the end of a longer previous line.
  std::fprintf(out_, "\r%.*s%*s", width, line.data(),
               std::max(drawn_width_ - width, 0), "");
  std::fflush(out_);
  drawn_width_ = std::max(drawn_width_, width);
}

void ProgressBar::Clear() {
  if (drawn_width_ == 0) return;
  std::fprintf(out_, "\r%*s\r", drawn_width_, "");
  std::fflush(out_);
  drawn_width_ = 0;
}

}  // namespace theta::models
