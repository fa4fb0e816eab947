#include "optim/adamw.h"

#include "ops/elementwise.h"

namespace theta::optim {

AdamW::AdamW(AdamWOptions options)
    : Adam("AdamW", std::move(options.adam)),
      weight_decay_(std::move(options.weight_decay)) {
  CheckHyper(weight_decay_, "weight_decay", kNonNegative);
}

void AdamW::ApplyOne(const Var& grad, const SharedVar& param,
                     Updates& updates) {
  CheckOptions();
  CheckHyper(weight_decay_, "weight_decay", kNonNegative);
  const DType dtype = param.dtype();
  Var decayed = param * (1.0 - adam_options().lr.as_var(dtype) *
                                   weight_decay_.as_var(dtype));
  updates.emplace_back(param, AdamStep(grad, param, decayed, updates));
}

}  // namespace theta::optim
