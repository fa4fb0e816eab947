// Symbolic differentiation, as Theano's theano.gradient: grad builds the
// gradient graph of a scalar cost by reverse accumulation over the graph,
// each op contributing its own gradient rule. The result is an ordinary
// graph: it is rewritten, fused and compiled like any other.
//
//   Var cost = mean(categorical_crossentropy(softmax(dot(x, W) + b), y));
//   std::vector<Var> g = grad(cost, {W, b});
//   Function step = function({x, y}, {cost},
//       {.updates = {{W, W - 0.1 * g[0]}, {b, b - 0.1 * g[1]}}});
#ifndef THETA_AUTODIFF_GRAD_H_
#define THETA_AUTODIFF_GRAD_H_

#include <functional>
#include <ranges>
#include <source_location>
#include <type_traits>
#include <utility>
#include <vector>

#include "graph/ir.h"

namespace theta {

// What grad() does with a wrt variable the cost does not depend on.
enum class DisconnectedInputs {
  kRaise,  // throw Error naming it (Theano's default)
  kWarn,   // warn through theta::Warn (graph/warning.h)
  kIgnore,
};

// What grad() returns for such a variable.
enum class ReturnDisconnected {
  kZero,  // zeros of its shape (Theano's default)
  kNone,  // an undefined Var
};

struct GradOptions {
  // Gradients known for some variables (start of the backward pass).
  // cost may then be undefined, as in Theano's grad(cost=None, ...).
  std::vector<std::pair<Var, Var>> known_grads;
  // Variables treated as constants: no gradient flows through them.
  std::vector<Var> consider_constant;
  DisconnectedInputs disconnected_inputs = DisconnectedInputs::kRaise;
  ReturnDisconnected return_disconnected = ReturnDisconnected::kZero;
};

// d cost / d wrt[i] for each i; `cost` must be a float scalar. Throws Error
// when cost is not a float scalar, a wrt variable is an integer, or a
// gradient must flow through an op without a gradient rule.
std::vector<Var> grad(
    const Var& cost, const std::vector<Var>& wrt,
    const GradOptions& options = {},
    std::source_location loc = std::source_location::current());
Var grad(const Var& cost, const Var& wrt, const GradOptions& options = {},
         std::source_location loc = std::source_location::current());
// As above for any range of variables: std::vector<SharedVar> params,
// std::array<Var, 3>, ...
//
//   std::vector<SharedVar> params = {W, b};
//   std::vector<Var> g = grad(cost, params);
template <typename Range>
requires(
    !std::is_convertible_v<const Range&, const Var&> &&
    std::ranges::input_range<const Range> &&
    std::is_convertible_v<std::ranges::range_reference_t<const Range>, Var>)
    std::vector<Var> grad(
        const Var& cost, const Range& wrt, const GradOptions& options = {},
        std::source_location loc = std::source_location::current()) {
  std::vector<Var> vars;
  for (const auto& v : wrt) vars.push_back(v);
  return grad(cost, vars, options, loc);
}

// Identity in the forward pass; no gradient flows back through it
// (Theano's disconnected_grad / consider_constant).
Var disconnected_grad(
    const Var& x, std::source_location loc = std::source_location::current());
// Identity in the forward pass; its gradient is zero (Theano's zero_grad).
Var zero_grad(const Var& x,
              std::source_location loc = std::source_location::current());

// Vector-Jacobian product: for outputs f and vectors v (one per output, of
// its shape), sum_j v_j^T d f_j / d wrt_i for each i.
std::vector<Var> Lop(
    const std::vector<Var>& f, const std::vector<Var>& wrt,
    const std::vector<Var>& eval_points,
    std::source_location loc = std::source_location::current());
// Jacobian-vector product: for each output f_j, sum_i d f_j / d wrt_i v_i,
// with v one vector per wrt variable, of its shape.
std::vector<Var> Rop(
    const std::vector<Var>& f, const std::vector<Var>& wrt,
    const std::vector<Var>& eval_points,
    std::source_location loc = std::source_location::current());

// The Jacobian of `expression` (any rank) with respect to `wrt`: shape
// expression.shape + wrt.shape. Built with one gradient per element of the
// expression when its size is known statically, else with scan (link
// //scan).
Var jacobian(const Var& expression, const Var& wrt,
             std::source_location loc = std::source_location::current());
// The Hessian of a scalar cost: jacobian(grad(cost, wrt), wrt).
Var hessian(const Var& cost, const Var& wrt,
            std::source_location loc = std::source_location::current());

// How //scan provides jacobian for expressions of unknown size.
using SymbolicJacobianFn =
    std::function<Var(const Var& expression_flat, const Var& wrt)>;
void RegisterSymbolicJacobian(SymbolicJacobianFn fn);

}  // namespace theta

#endif  // THETA_AUTODIFF_GRAD_H_
