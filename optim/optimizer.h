// Optimizer: given a cost (or its gradients) and the parameters, builds the
// updates that take one step to minimise the cost, as Lasagne's update
// functions do. The updates pass to function(..., {.updates = ...}); the
// optimizer's state (velocities, moments, step counters) lives in shared
// variables it creates on the first apply() and exposes through state() for
// checkpoints, each named "<param name>.<slot>".
//
//   optim::Adam adam({.lr = 1e-3});
//   Function step = function({x, y}, {cost},
//                            {.updates = adam.minimize(cost, {W, b})});
//   std::vector<SharedVar> to_save = adam.state();  // W.m, W.v, W.step, ...
//
// Every update is computed from the values before the step (Theano's rule).
// Errors (a parameter that is not a float shared variable, an unnamed or
// duplicated parameter name, grads and params of different lengths, a
// gradient whose dtype or rank differs from its parameter, a hyperparameter
// out of range) throw theta::Error naming the optimizer and the parameter.
// Concrete optimizers: sgd.h, momentum.h, nesterov.h, adagrad.h, adadelta.h,
// rmsprop.h, adam.h, adamw.h; gradient clipping and L2 decay:
// gradient_transforms.h; learning-rate schedules: schedule.h.
#ifndef THETA_OPTIM_OPTIMIZER_H_
#define THETA_OPTIM_OPTIMIZER_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "graph/ir.h"
#include "graph/shared.h"
#include "optim/hyper.h"

namespace theta::optim {

// (shared variable, new value) pairs; converts to FunctionOptions::updates.
using Updates = std::vector<std::pair<SharedVar, Var>>;

// Transforms applied by minimize() to the gradients before the step, in
// PyTorch's order: clip the raw gradients to a global norm (as
// torch.nn.utils.clip_grad_norm_ before optimizer.step()), then add the L2
// term l2 * param (as the weight_decay argument of torch.optim.SGD/Adam).
struct GradientOptions {
  std::optional<Hyper> max_norm;
  std::optional<Hyper> l2;
};

class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates of params and of this optimizer's state that take one step to
  // minimise cost (a float scalar).
  Updates minimize(const Var& cost, const std::vector<SharedVar>& params,
                   const GradientOptions& options = {});
  // The same from precomputed gradients: grads[i] is d cost / d params[i].
  // Calling it again for a parameter reuses that parameter's state.
  Updates apply(const std::vector<Var>& grads,
                const std::vector<SharedVar>& params);
  // Every shared variable of the state created so far, in creation order.
  std::vector<SharedVar> state() const { return state_; }
  // "Adam", for messages.
  const std::string& name() const { return name_; }

 protected:
  explicit Optimizer(std::string name) : name_(std::move(name)) {}

  // Appends the updates of one parameter (and of its state) to `updates`.
  // `grad` has the parameter's dtype and rank.
  virtual void ApplyOne(const Var& grad, const SharedVar& param,
                        Updates& updates) = 0;

  // The state variable "<param name>.<slot>" of param's dtype and shape,
  // created filled with `fill` on first use.
  SharedVar Slot(const SharedVar& param, absl::string_view slot,
                 double fill = 0.0);
  // A scalar state variable "<param name>.<slot>" of param's dtype.
  SharedVar ScalarSlot(const SharedVar& param, absl::string_view slot,
                       double fill = 0.0);
  // Throws Error naming this optimizer and `name` when `hyper` is outside
  // `range` (numbers and shared scalars' current values).
  void CheckHyper(const Hyper& hyper, absl::string_view name,
                  const HyperRange& range) const;

 private:
  SharedVar MakeSlot(const SharedVar& param, absl::string_view slot,
                     const Tensor& value, bool static_shape);

  struct SlotEntry {
    const SharedStorage* owner;  // the parameter's storage
    SharedVar var;
  };
  std::string name_;
  std::vector<SharedVar> state_;
  std::map<std::string, SlotEntry> slots_;  // by full name
};

// Throws Error unless params are distinct, named, float shared variables
// (`owner` names the caller in the message).
void CheckParams(absl::string_view owner, const std::vector<SharedVar>& params);
// Throws Error unless grads match params in number, dtype and rank.
void CheckGrads(absl::string_view owner, const std::vector<Var>& grads,
                const std::vector<SharedVar>& params);

}  // namespace theta::optim

#endif  // THETA_OPTIM_OPTIMIZER_H_
