#include "optim/adagrad.h"

#include "ops/elementwise.h"

namespace theta::optim {

Adagrad::Adagrad(AdagradOptions options)
    : Optimizer("Adagrad"), options_(std::move(options)) {
  CheckHyper(options_.lr, "lr", kNonNegative);
  CheckHyper(options_.eps, "eps", kNonNegative);
}

void Adagrad::ApplyOne(const Var& grad, const SharedVar& param,
                       Updates& updates) {
  CheckHyper(options_.lr, "lr", kNonNegative);
  CheckHyper(options_.eps, "eps", kNonNegative);
  const DType dtype = param.dtype();
  SharedVar accu = Slot(param, "accu");
  Var a = accu + square(grad);
  updates.emplace_back(accu, a);
  updates.emplace_back(param, param - options_.lr.as_var(dtype) * grad /
                                          sqrt(a + options_.eps.as_var(dtype)));
}

}  // namespace theta::optim
