// function(): compiles symbolic outputs into a Function that runs on the
// selected backend, as theano.function does.
//
//   Var x = matrix("x");
//   SharedVar W = shared(w0, "W");
//   Var cost = sum(square(dot(x, W)));
//   Function step = function({x}, {cost},
//                            {.updates = {{W, W - 0.1 * grad(cost, W)}}});
//   Tensor c = step({batch})[0];
//
// Compilation clones the graph, applies `givens`, rewrites it (canonical
// forms, constant folding, merging, stabilisation, GEMM, fusion, loops), and
// fixes the order of kernel calls. The first call with new input shapes
// plans memory and prepares every kernel call; later calls with the same
// shapes only copy inputs in, run the prepared calls and copy outputs out,
// allocating nothing.
#ifndef THETA_COMPILE_FUNCTION_H_
#define THETA_COMPILE_FUNCTION_H_

#include <initializer_list>
#include <memory>
#include <ranges>
#include <source_location>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "graph/ir.h"
#include "graph/tensor.h"

namespace theta {

namespace backends {
class Backend;
}

class FunctionGraph;
class CompiledFunction;

// FunctionOptions::updates: (shared variable, new value) pairs, from a
// braced list {{W, W - lr * gW}, {b, b - lr * gb}} or any range of pairs
// whose members convert to Var (std::vector<std::pair<SharedVar, Var>>,
// ScanResult::updates, an optimizer's result).
class UpdateList : public std::vector<std::pair<Var, Var>> {
 public:
  using Base = std::vector<std::pair<Var, Var>>;
  UpdateList() = default;
  UpdateList(std::initializer_list<std::pair<Var, Var>> pairs)  // NOLINT
      : Base(pairs) {}
  UpdateList(Base pairs) : Base(std::move(pairs)) {}  // NOLINT: implicit
  template <typename Range>
  requires(!std::is_convertible_v<const Range&, const Base&> &&
           std::ranges::input_range<const Range> &&
           std::is_convertible_v<std::ranges::range_reference_t<const Range>,
                                 std::pair<Var, Var>>)
      UpdateList(const Range& pairs) {  // NOLINT: implicit
    for (const auto& pair : pairs) emplace_back(pair);
  }
};

// What function() does with an input that no output or update depends on
// (Theano's on_unused_input).
enum class OnUnusedInput {
  kRaise,  // throw Error naming the input (Theano's default)
  kWarn,   // warn through theta::Warn (graph/warning.h) and compile
  kIgnore,
};

// The fields are in the order of theano.function's keyword arguments
// (updates, givens, name, on_unused_input), then Theta's own. Designated
// initializers must follow this order: {.updates = ..., .givens = ...}.
struct FunctionOptions {
  // (shared variable, new value) pairs: after the outputs are computed, each
  // shared variable takes its new value; every new value is computed from
  // the old values.
  UpdateList updates;
  // (variable, replacement) pairs substituted before compiling.
  std::vector<std::pair<Var, Var>> givens;
  // Shown in errors and by debugprint.
  std::string name;
  // An input no output or update depends on (after givens) is an error by
  // default, as in Theano; kWarn or kIgnore allow it (the function still
  // takes a value for it, which is checked and unused).
  OnUnusedInput on_unused_input = OnUnusedInput::kRaise;
  // Backend to run on: "cpu", "cuda", a plugin path; empty: the current
  // backend (theta::backends::use / $THETA_BACKEND).
  std::string backend;
  // Skip graph rewrites entirely (debugging).
  bool rewrite = true;
  // Rewrites to skip by name ("fusion", "gemm", "inplace", ...).
  std::vector<std::string> excluded_rewrites;
  // NaN / Inf guard, as Theano's NanGuardMode: after every kernel whose
  // output is floating point, check on the backend whether the output holds
  // a NaN or Inf that none of its inputs held; the first such kernel makes
  // the call throw Error naming the node, its op, its inputs and the source
  // line where that expression was built (inside scan also the step). Costs
  // two small reductions per checked array and a synchronize per node. Off
  // by default, and then the plan is exactly what it is without the guard;
  // $THETA_NAN_GUARD=1 turns it on for every function.
  bool nan_guard = false;
};

// Counters of one Function, for tests and benchmarks.
struct FunctionStats {
  int64_t calls = 0;
  int64_t plans_built = 0;  // first calls with new input shapes
  int kernel_launches = 0;  // in the current plan
  int64_t arena_bytes = 0;  // device memory of the current plan
  int inplace_outputs = 0;  // outputs written over a dead input
  // Host tensor inputs copied to the device per call: 0 on a backend whose
  // memory is the host's, where kernels read them in place.
  int inputs_copied = 0;
  int nan_guard_launches = 0;  // checks the NaN guard added (0 when off)
  std::vector<std::string> rewrites_applied;  // in order
};

class Function {
 public:
  Function() = default;

  // Runs the function on `inputs` (one per input variable, in order) and
  // returns the outputs. Throws Error naming the input or node at fault.
  // Updates are all or nothing: when a call throws, every shared variable
  // keeps the value it had before the call (new values are computed into
  // buffers of the plan and swapped in only after every kernel and every
  // output copy succeeded).
  std::vector<Tensor> operator()(std::span<const Tensor> inputs);
  std::vector<Tensor> operator()(std::initializer_list<Tensor> inputs) {
    return (*this)(std::span<const Tensor>(inputs.begin(), inputs.size()));
  }

  // As operator(), writing into `outputs`: an output Tensor whose storage is
  // held only by `outputs` (and is not one of `inputs`) and has the right
  // size is reused, so a call with the same shapes as the previous one
  // allocates nothing. When a call throws, the contents of `outputs` are
  // unspecified.
  void Call(std::span<const Tensor> inputs, std::vector<Tensor>& outputs);

  const std::string& name() const;
  // The rewritten graph.
  FunctionGraph& graph() const;
  const std::vector<Var>& inputs() const;
  // Names of the shared variables this function updates, in order.
  std::vector<std::string> update_target_names() const;
  backends::Backend& backend() const;
  FunctionStats stats() const;
  // One line per kernel call of the current plan (after a first call).
  std::string DescribePlan() const;

  bool defined() const { return impl_ != nullptr; }

 private:
  friend Function function(std::vector<Var>, std::vector<Var>, FunctionOptions,
                           std::source_location);
  std::shared_ptr<CompiledFunction> impl_;
};

// Compiles `outputs` as a function of `inputs`. Throws Error when an output
// depends on a variable that is neither an input nor shared, an input is
// unused (unless options.on_unused_input says otherwise), an update targets
// a non-shared variable or changes its type, or a shared variable is updated
// twice.
Function function(
    std::vector<Var> inputs, std::vector<Var> outputs,
    FunctionOptions options = {},
    std::source_location location = std::source_location::current());

}  // namespace theta

#endif  // THETA_COMPILE_FUNCTION_H_
