#include "optim/momentum.h"

#include "ops/elementwise.h"

namespace theta::optim {

Momentum::Momentum(MomentumOptions options)
    : Optimizer("Momentum"), options_(std::move(options)) {
  CheckHyper(options_.lr, "lr", kNonNegative);
  CheckHyper(options_.momentum, "momentum", kUnitInterval);
}

void Momentum::ApplyOne(const Var& grad, const SharedVar& param,
                        Updates& updates) {
  CheckHyper(options_.lr, "lr", kNonNegative);
  CheckHyper(options_.momentum, "momentum", kUnitInterval);
  const DType dtype = param.dtype();
  SharedVar velocity = Slot(param, "velocity");
  Var v = options_.momentum.as_var(dtype) * velocity -
          options_.lr.as_var(dtype) * grad;
  updates.emplace_back(velocity, v);
  updates.emplace_back(param, param + v);
}

}  // namespace theta::optim
