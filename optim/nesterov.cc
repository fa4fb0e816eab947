#include "optim/nesterov.h"

#include "ops/elementwise.h"

namespace theta::optim {

Nesterov::Nesterov(NesterovOptions options)
    : Optimizer("Nesterov"), options_(std::move(options)) {
  CheckHyper(options_.lr, "lr", kNonNegative);
  CheckHyper(options_.momentum, "momentum", kUnitInterval);
}

void Nesterov::ApplyOne(const Var& grad, const SharedVar& param,
                        Updates& updates) {
  CheckHyper(options_.lr, "lr", kNonNegative);
  CheckHyper(options_.momentum, "momentum", kUnitInterval);
  const DType dtype = param.dtype();
  SharedVar velocity = Slot(param, "velocity");
  Var mu = options_.momentum.as_var(dtype);
  Var step = options_.lr.as_var(dtype) * grad;
  Var v = mu * velocity - step;
  updates.emplace_back(velocity, v);
  updates.emplace_back(param, param + mu * v - step);
}

}  // namespace theta::optim
