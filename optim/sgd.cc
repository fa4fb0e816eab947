#include "optim/sgd.h"

#include "ops/elementwise.h"

namespace theta::optim {

Sgd::Sgd(SgdOptions options) : Optimizer("Sgd"), options_(std::move(options)) {
  CheckHyper(options_.lr, "lr", kNonNegative);
}

void Sgd::ApplyOne(const Var& grad, const SharedVar& param, Updates& updates) {
  CheckHyper(options_.lr, "lr", kNonNegative);
  updates.emplace_back(param, param - options_.lr.as_var(param.dtype()) * grad);
}

}  // namespace theta::optim
