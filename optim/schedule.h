// Learning-rate schedules: a shared scalar that the training loop advances
// between calls, so one compiled function trains with a changing rate.
//
//   optim::Schedule lr(optim::cosine_decay(0.1, 1000), "lr");
//   optim::Sgd sgd({.lr = lr.var()});
//   for (int64_t step = 0; step < 1000; ++step) { lr.advance(step); f(...); }
//
// A ScheduleFn maps the number of steps already taken (0 before the first)
// to a rate; the factories below check their arguments (throwing Error
// naming the argument) and return such functions:
//   constant_rate(lr):                 lr
//   step_decay(lr, step_size, gamma):  lr * gamma^floor(step / step_size)
//   exponential_decay(lr, gamma):      lr * gamma^step
//   cosine_decay(lr, total, min_lr):   min_lr + (lr - min_lr) *
//                                        (1 + cos(pi * min(step, total) /
//                                        total)) / 2
//   linear_warmup(warmup, after):      after(0) * (step + 1) / warmup while
//                                        step < warmup, then after(step -
//                                        warmup)
#ifndef THETA_OPTIM_SCHEDULE_H_
#define THETA_OPTIM_SCHEDULE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "graph/dtype.h"
#include "graph/shared.h"
#include "graph/tensor.h"

namespace theta::optim {

using ScheduleFn = std::function<double(int64_t step)>;

ScheduleFn constant_rate(double lr);
ScheduleFn step_decay(double lr, int64_t step_size, double gamma);
ScheduleFn exponential_decay(double lr, double gamma);
ScheduleFn cosine_decay(double lr, int64_t total_steps, double min_lr = 0.0);
ScheduleFn linear_warmup(int64_t warmup_steps, ScheduleFn after);

class Schedule {
 public:
  // A shared scalar of `dtype` named `name`, holding fn(0).
  explicit Schedule(ScheduleFn fn, std::string name = "lr",
                    DType dtype = DType::kFloat64);
  Schedule(const Schedule&) = delete;
  Schedule& operator=(const Schedule&) = delete;

  // The shared scalar: pass it as a Hyper (.lr = schedule.var()).
  const SharedVar& var() const { return var_; }
  // Sets the shared scalar to fn(step) for the step about to be taken
  // (steps already taken: 0 before the first). Throws Error for a negative
  // step or a rate that is not finite. Allocates nothing once a function
  // has placed the variable on its backend.
  void advance(int64_t step);
  // fn(step), without changing the shared scalar.
  double value_at(int64_t step) const;
  // The value last set.
  double value() const { return value_.GetAsDouble(0); }

 private:
  ScheduleFn fn_;
  SharedVar var_;
  Tensor value_;  // scalar, reused by advance()
};

}  // namespace theta::optim

#endif  // THETA_OPTIM_SCHEDULE_H_
