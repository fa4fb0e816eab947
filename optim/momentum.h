// Classical momentum (Lasagne's momentum; torch.optim.SGD with momentum
// scales differently, v <- mu v + g, p <- p - lr v, and equals this one for a
// constant lr):
//   v <- mu * v - lr * g
//   p <- p + v
//
//   optim::Momentum opt({.lr = 0.05, .momentum = 0.9});
// State: "<param>.velocity" (zeros at first). lr >= 0, 0 <= momentum < 1.
#ifndef THETA_OPTIM_MOMENTUM_H_
#define THETA_OPTIM_MOMENTUM_H_

#include "optim/optimizer.h"

namespace theta::optim {

struct MomentumOptions {
  Hyper lr = 0.01;
  Hyper momentum = 0.9;
};

class Momentum : public Optimizer {
 public:
  explicit Momentum(MomentumOptions options = {});

 protected:
  void ApplyOne(const Var& grad, const SharedVar& param,
                Updates& updates) override;

 private:
  MomentumOptions options_;
};

}  // namespace theta::optim

#endif  // THETA_OPTIM_MOMENTUM_H_
