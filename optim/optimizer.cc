#include "optim/optimizer.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "autodiff/grad.h"
#include "backends/error.h"
#include "optim/gradient_transforms.h"

namespace theta::optim {

Optimizer::~Optimizer() = default;

void CheckParams(absl::string_view owner,
                 const std::vector<SharedVar>& params) {
  std::set<std::string> names;
  for (size_t i = 0; i < params.size(); ++i) {
    const SharedVar& p = params[i];
    if (!p.defined()) {
      throw Error(absl::StrCat(owner, ": parameter ", i, " is undefined"));
    }
    if (p->kind() != VarKind::kShared) {
      throw Error(absl::StrCat(owner, ": parameter ", i, " ('",
                               p->DisplayName(),
                               "') is not a shared variable; parameters "
                               "must be created with shared()"));
    }
    if (!IsFloat(p.dtype())) {
      throw Error(absl::StrCat(owner, ": parameter '", p.name(), "' is ",
                               DTypeName(p.dtype()),
                               "; only float parameters can be optimised"));
    }
    if (p.name().empty()) {
      throw Error(absl::StrCat(
          owner, ": parameter ", i,
          " has no name; name it (shared(value, \"W\")) so that its "
          "optimizer state can be named and checkpointed"));
    }
    if (!names.insert(p.name()).second) {
      throw Error(absl::StrCat(owner, ": two parameters are named '", p.name(),
                               "'; parameter names must be unique"));
    }
  }
}

void CheckGrads(absl::string_view owner, const std::vector<Var>& grads,
                const std::vector<SharedVar>& params) {
  if (grads.size() != params.size()) {
    throw Error(absl::StrCat(owner, ": ", grads.size(), " gradients for ",
                             params.size(),
                             " parameters; grads[i] must be the gradient of "
                             "params[i]"));
  }
  for (size_t i = 0; i < grads.size(); ++i) {
    const Var& g = grads[i];
    const SharedVar& p = params[i];
    if (!g.defined()) {
      throw Error(absl::StrCat(owner, ": the gradient of parameter '", p.name(),
                               "' is undefined"));
    }
    if (g.dtype() != p.dtype() || g.ndim() != p.ndim()) {
      throw Error(absl::StrCat(owner, ": the gradient of parameter '", p.name(),
                               "' is ", g.type().ToString(),
                               ", the parameter is ", p.type().ToString(),
                               "; they must have the same dtype and rank"));
    }
  }
}

Updates Optimizer::minimize(const Var& cost,
                            const std::vector<SharedVar>& params,
                            const GradientOptions& options) {
  CheckParams(name_, params);
  if (!cost.defined()) {
    throw Error(absl::StrCat(name_, ": minimize of an undefined cost"));
  }
  if (cost.ndim() != 0 || !IsFloat(cost.dtype())) {
    throw Error(absl::StrCat(name_, ": the cost '", cost->DisplayName(),
                             "' is ", cost.type().ToString(),
                             "; it must be a float scalar"));
  }
  std::vector<Var> wrt(params.begin(), params.end());
  std::vector<Var> grads = grad(cost, wrt);
  if (options.max_norm.has_value()) {
    grads = clip_by_global_norm(grads, *options.max_norm);
  }
  if (options.l2.has_value()) grads = add_l2(grads, params, *options.l2);
  return apply(grads, params);
}

Updates Optimizer::apply(const std::vector<Var>& grads,
                         const std::vector<SharedVar>& params) {
  CheckParams(name_, params);
  CheckGrads(name_, grads, params);
  Updates updates;
  for (size_t i = 0; i < params.size(); ++i) {
    ApplyOne(grads[i], params[i], updates);
  }
  return updates;
}

SharedVar Optimizer::MakeSlot(const SharedVar& param, absl::string_view slot,
                              const Tensor& value, bool static_shape) {
  const std::string full = absl::StrCat(param.name(), ".", slot);
  auto it = slots_.find(full);
  if (it != slots_.end()) {
    if (it->second.owner != param->shared().get()) {
      throw Error(absl::StrCat(name_, ": state '", full,
                               "' already belongs to another parameter named '",
                               param.name(), "'"));
    }
    return it->second.var;
  }
  SharedVar var = shared(value, full, {.static_shape = static_shape});
  slots_.emplace(full, SlotEntry{param->shared().get(), var});
  state_.push_back(var);
  return var;
}

SharedVar Optimizer::Slot(const SharedVar& param, absl::string_view slot,
                          double fill) {
  Tensor value = Tensor(DType::kFloat64, param.value_shape());
  double* data = value.data<double>();
  for (int64_t i = 0; i < value.size(); ++i) data[i] = fill;
  return MakeSlot(param, slot, value.astype(param.dtype()),
                  param.type().fully_known());
}

SharedVar Optimizer::ScalarSlot(const SharedVar& param, absl::string_view slot,
                                double fill) {
  return MakeSlot(param, slot, Tensor::ScalarOf(param.dtype(), fill), true);
}

void Optimizer::CheckHyper(const Hyper& hyper, absl::string_view name,
                           const HyperRange& range) const {
  hyper.Check(name_, name, range);
}

}  // namespace theta::optim
