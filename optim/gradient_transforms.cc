#include "optim/gradient_transforms.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/error.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "optim/optimizer.h"

namespace theta::optim {
namespace {

void CheckFloatGrads(absl::string_view owner, const std::vector<Var>& grads) {
  if (grads.empty()) {
    throw Error(absl::StrCat(owner, ": no gradients"));
  }
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) {
      throw Error(absl::StrCat(owner, ": gradient ", i, " is undefined"));
    }
    if (!IsFloat(grads[i].dtype())) {
      throw Error(absl::StrCat(
          owner, ": gradient ", i, " ('", grads[i]->DisplayName(), "') is ",
          DTypeName(grads[i].dtype()), "; gradients must be float"));
    }
  }
}

}  // namespace

Var global_norm(const std::vector<Var>& grads) {
  CheckFloatGrads("global_norm", grads);
  DType dtype = grads[0].dtype();
  for (const Var& g : grads) dtype = Upcast(dtype, g.dtype());
  Var total;
  for (const Var& g : grads) {
    Var s = sum(square(g.dtype() == dtype ? g : cast(g, dtype)));
    total = total.defined() ? total + s : s;
  }
  return sqrt(total);
}

std::vector<Var> clip_by_global_norm(const std::vector<Var>& grads,
                                     const Hyper& max_norm) {
  CheckFloatGrads("clip_by_global_norm", grads);
  max_norm.Check("clip_by_global_norm", "max_norm", kPositive);
  Var norm = global_norm(grads);
  Var scale = minimum(1.0, max_norm.as_var(norm.dtype()) / (norm + 1e-6));
  std::vector<Var> clipped;
  clipped.reserve(grads.size());
  for (const Var& g : grads) {
    clipped.push_back(g.dtype() == scale.dtype() ? g * scale
                                                 : g * cast(scale, g.dtype()));
  }
  return clipped;
}

std::vector<Var> add_l2(const std::vector<Var>& grads,
                        const std::vector<SharedVar>& params, const Hyper& l2) {
  CheckParams("add_l2", params);
  CheckGrads("add_l2", grads, params);
  l2.Check("add_l2", "l2", kNonNegative);
  std::vector<Var> out;
  out.reserve(grads.size());
  for (size_t i = 0; i < grads.size(); ++i) {
    out.push_back(grads[i] + l2.as_var(params[i].dtype()) * params[i]);
  }
  return out;
}

}  // namespace theta::optim
