#include "optim/rmsprop.h"

#include "ops/elementwise.h"

namespace theta::optim {

RmsProp::RmsProp(RmsPropOptions options)
    : Optimizer("RmsProp"), options_(std::move(options)) {
  CheckOptions();
}

void RmsProp::CheckOptions() const {
  CheckHyper(options_.lr, "lr", kNonNegative);
  CheckHyper(options_.rho, "rho", kUnitInterval);
  CheckHyper(options_.eps, "eps", kNonNegative);
}

void RmsProp::ApplyOne(const Var& grad, const SharedVar& param,
                       Updates& updates) {
  CheckOptions();
  const DType dtype = param.dtype();
  SharedVar accu = Slot(param, "accu");
  Var rho = options_.rho.as_var(dtype);
  Var a = rho * accu + (1.0 - rho) * square(grad);
  updates.emplace_back(accu, a);
  updates.emplace_back(param, param - options_.lr.as_var(dtype) * grad /
                                          sqrt(a + options_.eps.as_var(dtype)));
}

}  // namespace theta::optim
