// Adagrad (Duchi et al. 2011), as Lasagne writes it (eps inside the square
// root; PyTorch adds eps after it):
//   a <- a + g^2
//   p <- p - lr * g / sqrt(a + eps)
//
//   optim::Adagrad opt({.lr = 0.1});
// State: "<param>.accu" (zeros at first). lr >= 0, eps >= 0.
#ifndef THETA_OPTIM_ADAGRAD_H_
#define THETA_OPTIM_ADAGRAD_H_

#include "optim/optimizer.h"

namespace theta::optim {

struct AdagradOptions {
  Hyper lr = 1.0;
  Hyper eps = 1e-6;
};

class Adagrad : public Optimizer {
 public:
  explicit Adagrad(AdagradOptions options = {});

 protected:
  void ApplyOne(const Var& grad, const SharedVar& param,
                Updates& updates) override;

 private:
  AdagradOptions options_;
};

}  // namespace theta::optim

#endif  // THETA_OPTIM_ADAGRAD_H_
