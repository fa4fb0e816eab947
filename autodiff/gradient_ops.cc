#include "autodiff/gradient_ops.h"

#include "graph/rewrite.h"
#include "ops/shape.h"

namespace theta {

std::vector<Var> GradientOverride::Grad(
    Node& node, std::span<const Var> output_grads) const {
  if (mode_ == Mode::kDisconnected || !output_grads[0].defined())
    return {Var()};
  return {zeros_like(node.input(0))};
}

namespace {

// After differentiation the overrides are plain identities.
std::optional<std::vector<Var>> RemoveGradientOverride(FunctionGraph&,
                                                       Node& node) {
  if (dynamic_cast<const GradientOverride*>(&node.op()) == nullptr) {
    return std::nullopt;
  }
  return std::vector<Var>{node.input(0)};
}

}  // namespace

THETA_REGISTER_NODE_REWRITE_FOR(kCanonicalize, "remove_gradient_overrides", 0,
                                GradientOverride, RemoveGradientOverride);

}  // namespace theta
