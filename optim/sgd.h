// Stochastic gradient descent (Lasagne's sgd, torch.optim.SGD without
// momentum):
//   p <- p - lr * g
//
//   optim::Sgd sgd({.lr = 0.1});
//   Function step = function({x, y}, {cost},
//                            {.updates = sgd.minimize(cost, params)});
// No state. lr >= 0 (a number or a shared scalar, hyper.h).
#ifndef THETA_OPTIM_SGD_H_
#define THETA_OPTIM_SGD_H_

#include "optim/optimizer.h"

namespace theta::optim {

struct SgdOptions {
  Hyper lr = 0.01;
};

class Sgd : public Optimizer {
 public:
  explicit Sgd(SgdOptions options = {});

 protected:
  void ApplyOne(const Var& grad, const SharedVar& param,
                Updates& updates) override;

 private:
  SgdOptions options_;
};

}  // namespace theta::optim

#endif  // THETA_OPTIM_SGD_H_
