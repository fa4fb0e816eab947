// Adadelta (Zeiler 2012), as Lasagne writes it:
//   a  <- rho * a + (1 - rho) * g^2
//   dx <- g * sqrt(d + eps) / sqrt(a + eps)
//   p  <- p - lr * dx
//   d  <- rho * d + (1 - rho) * dx^2
//
//   optim::Adadelta opt({.lr = 1.0, .rho = 0.95});
// State: "<param>.accu" (a) and "<param>.delta_accu" (d), zeros at first.
// lr >= 0, 0 <= rho < 1, eps >= 0.
#ifndef THETA_OPTIM_ADADELTA_H_
#define THETA_OPTIM_ADADELTA_H_

#include "optim/optimizer.h"

namespace theta::optim {

struct AdadeltaOptions {
  Hyper lr = 1.0;
  Hyper rho = 0.95;
  Hyper eps = 1e-6;
};

class Adadelta : public Optimizer {
 public:
  explicit Adadelta(AdadeltaOptions options = {});

 protected:
  void ApplyOne(const Var& grad, const SharedVar& param,
                Updates& updates) override;

 private:
  void CheckOptions() const;
  AdadeltaOptions options_;
};

}  // namespace theta::optim

#endif  // THETA_OPTIM_ADADELTA_H_
