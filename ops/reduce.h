// Reductions over one axis, several axes, or all (an empty axis list), with
// keepdims: sum, mean, prod, max, min, argmax, argmin, var, std.
//
//   Var total = sum(x);                    // scalar
//   Var rows  = mean(x, {1}, true);        // shape (n, 1)
//   Var label = argmax(scores, 1);         // int64
#ifndef THETA_OPS_REDUCE_H_
#define THETA_OPS_REDUCE_H_

#include <initializer_list>
#include <source_location>
#include <vector>

#include "graph/ir.h"

namespace theta {

// Axes to reduce; empty means all. Negative axes count from the end.
class AxisList {
 public:
  AxisList() = default;
  AxisList(int axis) : axes_{axis} {}  // NOLINT: implicit on purpose
  AxisList(std::initializer_list<int> axes) : axes_(axes) {}
  AxisList(std::vector<int> axes) : axes_(std::move(axes)) {}  // NOLINT
  const std::vector<int>& axes() const { return axes_; }

 private:
  std::vector<int> axes_;
};

Var sum(const Var& x, AxisList axes = {}, bool keepdims = false,
        std::source_location loc = std::source_location::current());
Var mean(const Var& x, AxisList axes = {}, bool keepdims = false,
         std::source_location loc = std::source_location::current());
Var prod(const Var& x, AxisList axes = {}, bool keepdims = false,
         std::source_location loc = std::source_location::current());
Var max(const Var& x, AxisList axes = {}, bool keepdims = false,
        std::source_location loc = std::source_location::current());
Var min(const Var& x, AxisList axes = {}, bool keepdims = false,
        std::source_location loc = std::source_location::current());
// Population variance and standard deviation (ddof = 0, as Theano).
Var var(const Var& x, AxisList axes = {}, bool keepdims = false,
        std::source_location loc = std::source_location::current());
Var std(const Var& x, AxisList axes = {}, bool keepdims = false,
        std::source_location loc = std::source_location::current());
// Index of the first maximum/minimum along one axis (int64); over the
// flattened tensor when axis is kAllAxes.
inline constexpr int kAllAxes = 1 << 20;
Var argmax(const Var& x, int axis = kAllAxes, bool keepdims = false,
           std::source_location loc = std::source_location::current());
Var argmin(const Var& x, int axis = kAllAxes, bool keepdims = false,
           std::source_location loc = std::source_location::current());

}  // namespace theta

#endif  // THETA_OPS_REDUCE_H_
