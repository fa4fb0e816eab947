// Adam (Kingma & Ba 2015, Algorithm 1), as torch.optim.Adam computes it
// (eps added after the square root of the bias-corrected second moment):
//   t <- t + 1
//   m <- beta1 * m + (1 - beta1) * g
//   v <- beta2 * v + (1 - beta2) * g^2
//   m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)
//   p <- p - lr * m_hat / (sqrt(v_hat) + eps)
//
//   optim::Adam adam({.lr = 1e-3});
// State: "<param>.m", "<param>.v" (zeros) and "<param>.step" (the scalar t,
// 0 at first; one per parameter, as PyTorch's state). lr >= 0,
// 0 <= beta1, beta2 < 1, eps >= 0.
#ifndef THETA_OPTIM_ADAM_H_
#define THETA_OPTIM_ADAM_H_

#include "optim/optimizer.h"

namespace theta::optim {

struct AdamOptions {
  Hyper lr = 1e-3;
  Hyper beta1 = 0.9;
  Hyper beta2 = 0.999;
  Hyper eps = 1e-8;
};

class Adam : public Optimizer {
 public:
  explicit Adam(AdamOptions options = {});

 protected:
  Adam(std::string name, AdamOptions options);
  void ApplyOne(const Var& grad, const SharedVar& param,
                Updates& updates) override;
  // The Adam step applied to `from` (the parameter, or for AdamW the
  // decayed parameter): appends the state updates and returns the new
  // parameter value.
  Var AdamStep(const Var& grad, const SharedVar& param, const Var& from,
               Updates& updates);
  void CheckOptions() const;
  const AdamOptions& adam_options() const { return options_; }

 private:
  AdamOptions options_;
};

}  // namespace theta::optim

#endif  // THETA_OPTIM_ADAM_H_
