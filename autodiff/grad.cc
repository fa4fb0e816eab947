#include "autodiff/grad.h"

#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "autodiff/gradient_ops.h"
#include "base/error.h"
#include "graph/function_graph.h"
#include "graph/op.h"
#include "graph/text.h"
#include "graph/warning.h"
#include "ops/ops.h"

namespace theta {
namespace {

bool BlocksGradient(const Node& node) {
  const auto* g = dynamic_cast<const GradientOverride*>(&node.op());
  return g != nullptr && g->mode() == GradientOverride::Mode::kDisconnected;
}

// Variables the roots structurally depend on, not crossing blocked edges.
absl::flat_hash_set<const Variable*> Reachable(
    const std::vector<Var>& roots,
    const absl::flat_hash_set<const Variable*>& constant) {
  absl::flat_hash_set<const Variable*> seen;
  std::vector<const Variable*> stack;
  for (const Var& r : roots) {
    if (seen.insert(r.get()).second) stack.push_back(r.get());
  }
  while (!stack.empty()) {
    const Variable* v = stack.back();
    stack.pop_back();
    Node* owner = v->owner();
    if (owner == nullptr || constant.contains(v) || BlocksGradient(*owner)) {
      continue;
    }
    for (const Var& in : owner->inputs()) {
      if (seen.insert(in.get()).second) stack.push_back(in.get());
    }
  }
  return seen;
}

Var SumContributions(std::vector<Var>& parts) {
  if (parts.empty()) return Var();
  Var total = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) total = total + parts[i];
  return total;
}

SymbolicJacobianFn& SymbolicJacobian() {
  static auto* fn = new SymbolicJacobianFn();
  return *fn;
}

}  // namespace

std::vector<Var> grad(const Var& cost, const std::vector<Var>& wrt,
                      const GradOptions& options, std::source_location loc) {
  const SourceInfo where = MakeSourceInfo(loc);
  std::vector<Var> roots;
  absl::flat_hash_map<const Variable*, std::vector<Var>> contributions;
  if (cost.defined()) {
    if (cost.ndim() != 0) {
      ThrowAt(where, absl::StrCat("grad: the cost must be a scalar, got ",
                                  cost.type().ToString(),
                                  " (reduce it, e.g. with sum() or mean())"));
    }
    if (!IsFloat(cost.dtype())) {
      ThrowAt(where, absl::StrCat("grad: the cost must be a float, got ",
                                  cost.type().ToString()));
    }
    roots.push_back(cost);
    contributions[cost.get()].push_back(constant(1.0, cost.dtype(), loc));
  } else if (options.known_grads.empty()) {
    ThrowAt(where, "grad: no cost and no known_grads");
  }
  for (const auto& [v, g] : options.known_grads) {
    if (!v.defined() || !g.defined()) {
      ThrowAt(where, "grad: known_grads has an undefined Var");
    }
    if (g.ndim() != v.ndim()) {
      ThrowAt(where, absl::StrCat("grad: known gradient of '", v->DisplayName(),
                                  "' has type ", g.type().ToString(),
                                  ", the variable ", v.type().ToString()));
    }
    roots.push_back(v);
    contributions[v.get()].push_back(
        g.dtype() == v.dtype() ? g : cast(g, v.dtype()));
  }
  for (const Var& w : wrt) {
    if (!w.defined()) ThrowAt(where, "grad: a wrt variable is undefined");
    if (!IsFloat(w.dtype())) {
      ThrowAt(where,
              absl::StrCat("grad: cannot differentiate with respect to '",
                           w->DisplayName(), "' of integer type ",
                           w.type().ToString(),
                           "; integer variables are not differentiable"));
    }
  }
  absl::flat_hash_set<const Variable*> constant_set;
  for (const Var& c : options.consider_constant) constant_set.insert(c.get());

  // Which variables depend on some wrt variable (forward), so that only the
  // nodes between wrt and the roots are differentiated.
  std::vector<Node*> order = TopologicalNodes(roots);
  absl::flat_hash_set<const Variable*> depends;
  for (const Var& w : wrt) depends.insert(w.get());
  for (Node* node : order) {
    if (BlocksGradient(*node)) continue;
    bool any = false;
    for (const Var& in : node->inputs()) {
      if (depends.contains(in.get()) && !constant_set.contains(in.get()))
        any = true;
    }
    if (!any) continue;
    for (int o = 0; o < node->num_outputs(); ++o) {
      depends.insert(node->output_variable(o));
    }
  }

  absl::flat_hash_set<const Variable*> wrt_set;
  for (const Var& w : wrt) wrt_set.insert(w.get());
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    bool relevant = false;
    std::vector<Var> output_grads(node->num_outputs());
    for (int o = 0; o < node->num_outputs(); ++o) {
      const Variable* out = node->output_variable(o);
      if (!depends.contains(out)) continue;
      auto found = contributions.find(out);
      if (found == contributions.end() || found->second.empty()) continue;
      output_grads[o] = SumContributions(found->second);
      found->second = {output_grads[o]};
      relevant = true;
    }
    if (!relevant) continue;
    bool needed = false;
    for (const Var& in : node->inputs()) {
      if (depends.contains(in.get()) && !constant_set.contains(in.get())) {
        needed = true;
      }
    }
    if (!needed) continue;
    std::vector<Var> input_grads = node->op().Grad(*node, output_grads);
    if (static_cast<int>(input_grads.size()) != node->num_inputs()) {
      ThrowAt(node->source(),
              absl::StrCat("grad: internal error: ", node->op().name(),
                           " returned ", input_grads.size(), " gradients for ",
                           node->num_inputs(), " inputs"));
    }
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Var& in = node->input(i);
      Var& g = input_grads[i];
      if (!g.defined() || !depends.contains(in.get()) ||
          constant_set.contains(in.get()) || !IsFloat(in.dtype())) {
        continue;
      }
      if (g.ndim() != in.ndim()) {
        ThrowAt(node->source(),
                absl::StrCat("grad: internal error: the gradient of ",
                             node->op().name(), " for input ", i, " has type ",
                             g.type().ToString(), ", the input ",
                             in.type().ToString()));
      }
      if (g.dtype() != in.dtype()) g = cast(g, in.dtype());
      contributions[in.get()].push_back(g);
    }
  }

  absl::flat_hash_set<const Variable*> reachable =
      Reachable(roots, constant_set);
  std::vector<Var> result;
  for (const Var& w : wrt) {
    auto found = contributions.find(w.get());
    if (found != contributions.end() && !found->second.empty()) {
      result.push_back(SumContributions(found->second));
      continue;
    }
    if (!reachable.contains(w.get())) {
      const std::string message = absl::StrCat(
          "grad: the cost does not depend on '", w->DisplayName(), "' (",
          w.type().ToString(), ", created at ", w->source().ToString(), ")");
      if (options.disconnected_inputs == DisconnectedInputs::kRaise) {
        ThrowAt(where, message +
                           "; pass disconnected_inputs = "
                           "DisconnectedInputs::kIgnore to allow it");
      }
      if (options.disconnected_inputs == DisconnectedInputs::kWarn) {
        Warn(message);
      }
    }
    result.push_back(options.return_disconnected == ReturnDisconnected::kZero
                         ? zeros_like(w)
                         : Var());
  }
  return result;
}

Var grad(const Var& cost, const Var& wrt, const GradOptions& options,
         std::source_location loc) {
  return grad(cost, std::vector<Var>{wrt}, options, loc)[0];
}

Var disconnected_grad(const Var& x, std::source_location loc) {
  return ApplyOp1(
      std::make_shared<GradientOverride>(GradientOverride::Mode::kDisconnected),
      {x}, loc);
}

Var zero_grad(const Var& x, std::source_location loc) {
  return ApplyOp1(
      std::make_shared<GradientOverride>(GradientOverride::Mode::kZero), {x},
      loc);
}

std::vector<Var> Lop(const std::vector<Var>& f, const std::vector<Var>& wrt,
                     const std::vector<Var>& eval_points,
                     std::source_location loc) {
  if (f.size() != eval_points.size()) {
    ThrowAt(
        MakeSourceInfo(loc),
        absl::StrCat(
            "Lop: ", Count(static_cast<int64_t>(f.size()), "output"), " but ",
            Count(static_cast<int64_t>(eval_points.size()), "eval point")));
  }
  GradOptions options;
  for (size_t i = 0; i < f.size(); ++i) {
    options.known_grads.push_back({f[i], eval_points[i]});
  }
  options.disconnected_inputs = DisconnectedInputs::kIgnore;
  return grad(Var(), wrt, options, loc);
}

std::vector<Var> Rop(const std::vector<Var>& f, const std::vector<Var>& wrt,
                     const std::vector<Var>& eval_points,
                     std::source_location loc) {
  if (wrt.size() != eval_points.size()) {
    ThrowAt(MakeSourceInfo(loc),
            absl::StrCat("Rop: ", wrt.size(), " wrt variables but ",
                         eval_points.size(), " eval points"));
  }
  // J v = (d (J^T u) / d u)^T v for a placeholder u: two reverse passes.
  std::vector<Var> placeholders;
  for (const Var& out : f) {
    placeholders.push_back(MakeInput(
        TensorType(out.dtype(), Dims::Filled(out.ndim(), kUnknownDim)),
        "rop_placeholder", loc));
  }
  std::vector<Var> jt_u = Lop(f, wrt, placeholders, loc);
  GradOptions options;
  for (size_t i = 0; i < wrt.size(); ++i) {
    options.known_grads.push_back({jt_u[i], eval_points[i]});
  }
  options.disconnected_inputs = DisconnectedInputs::kIgnore;
  std::vector<Var> jv = grad(Var(), placeholders, options, loc);
  // The result is linear in u's gradient only; any remaining use of the
  // placeholders has no effect on the value, so give them zeros.
  std::vector<std::pair<Var, Var>> replacements;
  for (size_t i = 0; i < f.size(); ++i) {
    replacements.push_back({placeholders[i], zeros_like(f[i])});
  }
  return CloneReplace(jv, replacements);
}

void RegisterSymbolicJacobian(SymbolicJacobianFn fn) {
  SymbolicJacobian() = std::move(fn);
}

Var jacobian(const Var& expression, const Var& wrt, std::source_location loc) {
  Var flat = flatten(expression, 1, loc);
  const TensorType& t = expression.type();
  std::vector<DimArg> out_shape;
  for (int d = 0; d < expression.ndim(); ++d) {
    out_shape.push_back(shape_i(expression, d, loc));
  }
  for (int d = 0; d < wrt.ndim(); ++d)
    out_shape.push_back(shape_i(wrt, d, loc));
  Var rows;
  if (t.fully_known()) {
    const int64_t n = t.shape().product();
    GradOptions options;
    options.disconnected_inputs = DisconnectedInputs::kIgnore;
    std::vector<Var> per_output;
    for (int64_t i = 0; i < n; ++i) {
      per_output.push_back(grad(index(flat, i, loc), wrt, options, loc));
    }
    if (per_output.empty()) {
      rows = zeros({0, 1}, wrt.dtype(), loc);
    } else {
      rows = stack(per_output, 0, loc);
    }
  } else if (SymbolicJacobian()) {
    rows = SymbolicJacobian()(flat, wrt);
  } else {
    ThrowAt(MakeSourceInfo(loc),
            absl::StrCat("jacobian: the size of ", t.ToString(),
                         " is not known statically; link //scan for the "
                         "scan-based jacobian, or give the expression a static "
                         "shape"));
  }
  return reshape(rows, out_shape, loc);
}

Var hessian(const Var& cost, const Var& wrt, std::source_location loc) {
  return jacobian(grad(cost, wrt, {}, loc), wrt, loc);
}

}  // namespace theta
