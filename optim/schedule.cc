#include "optim/schedule.h"

#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "backends/error.h"

namespace theta::optim {
namespace {

void CheckRate(absl::string_view fn, absl::string_view arg, double value) {
  if (!std::isfinite(value) || value < 0) {
    throw Error(
        absl::StrCat(fn, ": ", arg, " must be finite and >= 0, got ", value));
  }
}

}  // namespace

ScheduleFn constant_rate(double lr) {
  CheckRate("constant_rate", "lr", lr);
  return [lr](int64_t) { return lr; };
}

ScheduleFn step_decay(double lr, int64_t step_size, double gamma) {
  CheckRate("step_decay", "lr", lr);
  CheckRate("step_decay", "gamma", gamma);
  if (step_size <= 0) {
    throw Error(
        absl::StrCat("step_decay: step_size must be > 0, got ", step_size));
  }
  return [lr, step_size, gamma](int64_t step) {
    return lr * std::pow(gamma, static_cast<double>(step / step_size));
  };
}

ScheduleFn exponential_decay(double lr, double gamma) {
  CheckRate("exponential_decay", "lr", lr);
  CheckRate("exponential_decay", "gamma", gamma);
  return [lr, gamma](int64_t step) {
    return lr * std::pow(gamma, static_cast<double>(step));
  };
}

ScheduleFn cosine_decay(double lr, int64_t total_steps, double min_lr) {
  CheckRate("cosine_decay", "lr", lr);
  CheckRate("cosine_decay", "min_lr", min_lr);
  if (total_steps <= 0) {
    throw Error(absl::StrCat("cosine_decay: total_steps must be > 0, got ",
                             total_steps));
  }
  return [lr, total_steps, min_lr](int64_t step) {
    const double progress =
        static_cast<double>(std::min(step, total_steps)) / total_steps;
    return min_lr +
           (lr - min_lr) * (1 + std::cos(std::numbers::pi * progress)) / 2;
  };
}

ScheduleFn linear_warmup(int64_t warmup_steps, ScheduleFn after) {
  if (warmup_steps <= 0) {
    throw Error(absl::StrCat("linear_warmup: warmup_steps must be > 0, got ",
                             warmup_steps));
  }
  if (!after) throw Error("linear_warmup: the schedule after warm-up is empty");
  return [warmup_steps, after = std::move(after)](int64_t step) {
    if (step < warmup_steps) {
      return after(0) * static_cast<double>(step + 1) / warmup_steps;
    }
    return after(step - warmup_steps);
  };
}

Schedule::Schedule(ScheduleFn fn, std::string name, DType dtype)
    : fn_(std::move(fn)) {
  if (!fn_) throw Error(absl::StrCat("Schedule '", name, "': empty function"));
  if (!IsFloat(dtype)) {
    throw Error(absl::StrCat("Schedule '", name, "': dtype ", DTypeName(dtype),
                             " is not a float dtype"));
  }
  value_ = Tensor::ScalarOf(dtype, value_at(0));
  var_ = shared(value_, std::move(name), {.static_shape = true});
}

double Schedule::value_at(int64_t step) const {
  if (step < 0) {
    throw Error(absl::StrCat("Schedule '", var_.defined() ? var_.name() : "",
                             "': step must be >= 0, got ", step));
  }
  const double v = fn_(step);
  if (!std::isfinite(v)) {
    throw Error(absl::StrCat("Schedule '", var_.defined() ? var_.name() : "",
                             "': the rate at step ", step, " is ", v));
  }
  return v;
}

void Schedule::advance(int64_t step) {
  const double v = value_at(step);
  if (value_.dtype() == DType::kFloat64) {
    *value_.data<double>() = v;
  } else {
    *value_.data<float>() = static_cast<float>(v);
  }
  var_.set_value(value_);
}

}  // namespace theta::optim
