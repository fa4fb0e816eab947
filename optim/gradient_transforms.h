// Gradient transforms applied before an optimizer's step (Optimizer::minimize
// applies them through GradientOptions; apply() callers can chain them):
//
//   std::vector<Var> g = grad(cost, wrt);
//   g = optim::clip_by_global_norm(g, 5.0);
//   g = optim::add_l2(g, params, 1e-4);
//   Updates u = adam.apply(g, params);
#ifndef THETA_OPTIM_GRADIENT_TRANSFORMS_H_
#define THETA_OPTIM_GRADIENT_TRANSFORMS_H_

#include <vector>

#include "graph/ir.h"
#include "graph/shared.h"
#include "optim/hyper.h"

namespace theta::optim {

// Global-norm clipping, as torch.nn.utils.clip_grad_norm_:
//   norm = sqrt(sum_i sum(g_i^2)),  scale = min(1, max_norm / (norm + 1e-6)),
//   g_i <- g_i * scale.
// max_norm must be > 0. Throws Error for undefined or non-float gradients.
std::vector<Var> clip_by_global_norm(const std::vector<Var>& grads,
                                     const Hyper& max_norm);

// The global norm sqrt(sum_i sum(g_i^2)), a scalar of the gradients' common
// dtype (for logging).
Var global_norm(const std::vector<Var>& grads);

// Coupled L2 weight decay: g_i <- g_i + l2 * p_i, the gradient of
// cost + l2/2 * sum(p^2) (PyTorch's weight_decay argument of SGD and Adam).
// l2 must be >= 0; grads and params are checked as Optimizer::apply does.
std::vector<Var> add_l2(const std::vector<Var>& grads,
                        const std::vector<SharedVar>& params, const Hyper& l2);

}  // namespace theta::optim

#endif  // THETA_OPTIM_GRADIENT_TRANSFORMS_H_
