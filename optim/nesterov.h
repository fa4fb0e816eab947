// Nesterov momentum, in Lasagne's formulation (nesterov_momentum), which
// evaluates the gradient at the current parameters and looks ahead in the
// update:
//   v <- mu * v - lr * g
//   p <- p + mu * v - lr * g        (with the new v)
//
//   optim::Nesterov opt({.lr = 0.05, .momentum = 0.9});
// State: "<param>.velocity". lr >= 0, 0 <= momentum < 1.
#ifndef THETA_OPTIM_NESTEROV_H_
#define THETA_OPTIM_NESTEROV_H_

#include "optim/optimizer.h"

namespace theta::optim {

struct NesterovOptions {
  Hyper lr = 0.01;
  Hyper momentum = 0.9;
};

class Nesterov : public Optimizer {
 public:
  explicit Nesterov(NesterovOptions options = {});

 protected:
  void ApplyOne(const Var& grad, const SharedVar& param,
                Updates& updates) override;

 private:
  NesterovOptions options_;
};

}  // namespace theta::optim

#endif  // THETA_OPTIM_NESTEROV_H_
