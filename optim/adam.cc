#include "optim/adam.h"

#include "ops/elementwise.h"

namespace theta::optim {

Adam::Adam(AdamOptions options) : Adam("Adam", std::move(options)) {}

Adam::Adam(std::string name, AdamOptions options)
    : Optimizer(std::move(name)), options_(std::move(options)) {
  CheckOptions();
}

void Adam::CheckOptions() const {
  CheckHyper(options_.lr, "lr", kNonNegative);
  CheckHyper(options_.beta1, "beta1", kUnitInterval);
  CheckHyper(options_.beta2, "beta2", kUnitInterval);
  CheckHyper(options_.eps, "eps", kNonNegative);
}

Var Adam::AdamStep(const Var& grad, const SharedVar& param, const Var& from,
                   Updates& updates) {
  const DType dtype = param.dtype();
  SharedVar m = Slot(param, "m");
  SharedVar v = Slot(param, "v");
  SharedVar step = ScalarSlot(param, "step");
  Var beta1 = options_.beta1.as_var(dtype);
  Var beta2 = options_.beta2.as_var(dtype);
  Var t = step + 1.0;
  Var m_new = beta1 * m + (1.0 - beta1) * grad;
  Var v_new = beta2 * v + (1.0 - beta2) * square(grad);
  Var m_hat = m_new / (1.0 - pow(beta1, t));
  Var v_hat = v_new / (1.0 - pow(beta2, t));
  updates.emplace_back(step, t);
  updates.emplace_back(m, m_new);
  updates.emplace_back(v, v_new);
  return from - options_.lr.as_var(dtype) * m_hat /
                    (sqrt(v_hat) + options_.eps.as_var(dtype));
}

void Adam::ApplyOne(const Var& grad, const SharedVar& param, Updates& updates) {
  CheckOptions();
  Var p = AdamStep(grad, param, param, updates);
  updates.emplace_back(param, p);
}

}  // namespace theta::optim
