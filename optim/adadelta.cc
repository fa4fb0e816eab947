#include "optim/adadelta.h"

#include "ops/elementwise.h"

namespace theta::optim {

Adadelta::Adadelta(AdadeltaOptions options)
    : Optimizer("Adadelta"), options_(std::move(options)) {
  CheckOptions();
}

void Adadelta::CheckOptions() const {
  CheckHyper(options_.lr, "lr", kNonNegative);
  CheckHyper(options_.rho, "rho", kUnitInterval);
  CheckHyper(options_.eps, "eps", kNonNegative);
}

void Adadelta::ApplyOne(const Var& grad, const SharedVar& param,
                        Updates& updates) {
  CheckOptions();
  const DType dtype = param.dtype();
  SharedVar accu = Slot(param, "accu");
  SharedVar delta_accu = Slot(param, "delta_accu");
  Var rho = options_.rho.as_var(dtype);
  Var eps = options_.eps.as_var(dtype);
  Var a = rho * accu + (1.0 - rho) * square(grad);
  Var dx = grad * sqrt(delta_accu + eps) / sqrt(a + eps);
  updates.emplace_back(accu, a);
  updates.emplace_back(param, param - options_.lr.as_var(dtype) * dx);
  updates.emplace_back(delta_accu, rho * delta_accu + (1.0 - rho) * square(dx));
}

}  // namespace theta::optim
