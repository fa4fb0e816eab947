// ProgressBar: a one-line training progress display for a terminal (a bar,
// the mean loss since the last redraw, examples/s and time left), redrawn
// in place with '\r' at most every `min_interval` seconds. It writes only
// to `out`, keeps its text in a fixed buffer (Update allocates nothing),
// and Clear() blanks the line so that other output can be printed.
//
//   ProgressBar bar(stderr, {.total_steps = 2811, .batch_size = 64});
//   options.on_step = [&](const StepReport& r) { bar.Update(r.step, r.loss); };
//   bar.Clear();  // before printing a line of the log
//
// Only for terminals: UseProgressBar(stderr) says whether `out` is one.
// Not thread-safe.
#ifndef THETA_MODELS_PROGRESS_BAR_H_
#define THETA_MODELS_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace theta::models {

// True when `out` is a terminal (isatty).
bool UseProgressBar(std::FILE* out);

class ProgressBar {
 public:
  struct Options {
    int64_t total_steps = 1;    // the step the run ends at
    int64_t first_step = 0;     // the step it starts from (after a resume)
    int64_t batch_size = 1;     // examples per step
    double min_interval = 0.1;  // seconds between redraws
  };
  ProgressBar(std::FILE* out, const Options& options);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Records step `step`'s loss; redraws when min_interval has passed since
  // the last redraw, or at the last step.
  void Update(int64_t step, double loss);
  // Blanks the line when something was drawn.
  void Clear();

  // The line for `step` after `seconds` of training, with `loss`: e.g.
  // "[#####.....]  50%  step 5/10  loss 0.4321  1280 ex/s  0:12 left".
  // Valid until the next call.
  std::string_view Render(int64_t step, double loss, double seconds);

 private:
  using Clock = std::chrono::steady_clock;
  std::FILE* out_;
  Options options_;
  Clock::time_point start_, last_draw_;
  double loss_sum_ = 0;
  int64_t loss_count_ = 0;
  int drawn_width_ = 0;
  char line_[160] = {};
};

}  // namespace theta::models

#endif  // THETA_MODELS_PROGRESS_BAR_H_
