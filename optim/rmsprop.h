// RMSProp (Tieleman & Hinton 2012), as Lasagne writes it (eps inside the
// square root; PyTorch adds eps after it):
//   a <- rho * a + (1 - rho) * g^2
//   p <- p - lr * g / sqrt(a + eps)
//
//   optim::RmsProp opt({.lr = 1e-3, .rho = 0.9});
// State: "<param>.accu" (zeros at first). lr >= 0, 0 <= rho < 1, eps >= 0.
#ifndef THETA_OPTIM_RMSPROP_H_
#define THETA_OPTIM_RMSPROP_H_

#include "optim/optimizer.h"

namespace theta::optim {

struct RmsPropOptions {
  Hyper lr = 1e-3;
  Hyper rho = 0.9;
  Hyper eps = 1e-6;
};

class RmsProp : public Optimizer {
 public:
  explicit RmsProp(RmsPropOptions options = {});

 protected:
  void ApplyOne(const Var& grad, const SharedVar& param,
                Updates& updates) override;

 private:
  void CheckOptions() const;
  RmsPropOptions options_;
};

}  // namespace theta::optim

#endif  // THETA_OPTIM_RMSPROP_H_
