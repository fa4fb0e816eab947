// AdamW (Loshchilov & Hutter 2019), as torch.optim.AdamW: weight decay
// decoupled from the gradient, applied to the parameter before the Adam step
// of adam.h:
//   p <- p * (1 - lr * weight_decay)
//   then Adam's update of p with g (m, v, t as in adam.h)
//
//   optim::AdamW opt({.adam = {.lr = 1e-3}, .weight_decay = 1e-2});
// State as Adam: "<param>.m", "<param>.v", "<param>.step".
// weight_decay >= 0; the Adam hyperparameters as in adam.h.
#ifndef THETA_OPTIM_ADAMW_H_
#define THETA_OPTIM_ADAMW_H_

#include "optim/adam.h"

namespace theta::optim {

struct AdamWOptions {
  AdamOptions adam;
  Hyper weight_decay = 1e-2;
};

class AdamW : public Adam {
 public:
  explicit AdamW(AdamWOptions options = {});

 protected:
  void ApplyOne(const Var& grad, const SharedVar& param,
                Updates& updates) override;

 private:
  Hyper weight_decay_;
};

}  // namespace theta::optim

#endif  // THETA_OPTIM_ADAMW_H_
