// Op: one kind of computation in the graph. An op knows, in one place, its
// type rule (build time), its shape rule (plan time), how to run it on a
// backend (a Launch of plugin calls), and its gradient.
//
//   class Exp : public Op { ... };                       // in //ops
//   Var y = ApplyOp1(std::make_shared<Exp>(), {x}, loc);
//
// Ops are immutable and shared between nodes; every method is const.
#ifndef THETA_GRAPH_OP_H_
#define THETA_GRAPH_OP_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/backend.h"
#include "graph/dims.h"
#include "graph/ir.h"
#include "graph/runtime.h"
#include "graph/type.h"

namespace theta {

// Plan time: the shapes of a node's inputs, and the values of those inputs
// that are known on the host (shape parameters, scalars), if any.
struct ShapeContext {
  const Node& node;
  std::span<const Dims> input_shapes;
  std::span<const HostValue* const> input_values;  // null where not known
  std::span<Dims> output_shapes;                   // to be filled
  // The backend the plan is for (ops with a compiled body infer shapes by
  // planning it); null when shapes are inferred on the host alone.
  backends::Backend* backend = nullptr;
};

// Host evaluation of small values (shapes, scalar arithmetic).
struct HostEvalContext {
  const Node& node;
  std::span<const Dims> input_shapes;
  std::span<const HostValue* const> inputs;  // null where !HostNeedsValue
  std::span<HostValue> outputs;              // to be filled
};

// Plan time, for a view op: the output array is input ViewOf() seen with
// another shape, strides or offset. `output` arrives with the shape from
// InferShapes and the input's slot; the op sets offset and strides.
struct ViewContext {
  const Node& node;
  std::span<const ArrayRef> inputs;
  std::span<const HostValue* const> input_values;
  ArrayRef& output;
};

// Plan time, for an op that copies some inputs verbatim into parts of its
// output 0 (`output`, placed): the shapes and host values of its inputs.
struct WindowContext {
  const Node& node;
  std::span<const Dims> input_shapes;
  std::span<const HostValue* const> input_values;
  const ArrayRef& output;
};

// Plan time: everything needed to prepare a node's kernel calls.
struct LaunchContext {
  const Node& node;
  // Device arrays of the inputs. An input the op consumes as a host value
  // (ConsumesHostValue) or a shape parameter has slot -1.
  std::span<const ArrayRef> inputs;
  // For host-known inputs: the index of their value in
  // ExecContext::host_values (read at run time); -1 otherwise.
  std::span<const int32_t> input_host_slots;
  // Plan-time values of host-known inputs; null otherwise.
  std::span<const HostValue* const> input_values;
  std::span<const ArrayRef> outputs;
  backends::Backend& backend;
  // Per output, whether nothing reads it (only its shape is used): a launch
  // may then leave its array unwritten. Empty: every output is read.
  std::span<const bool> outputs_unread = {};
  // Per input, whether the launch may overwrite its array: a block of the
  // plan's own that this node reads last, through this input only (never a
  // caller's tensor, a shared variable or a view of another value). Empty:
  // none.
  std::span<const bool> inputs_dying = {};
  // The function is compiled with the NaN guard (compile/nan_guard.h): an
  // op that runs a compiled body (scan) runs the body guarded too.
  bool nan_guard = false;
};

class Op {
 public:
  virtual ~Op() = default;

  // Shown by debugprint and in errors: "Elemwise{add}", "Dot",
  // "Sum{axes=(0,)}".
  virtual std::string name() const = 0;

  // Same computation on the same inputs (merging equal subgraphs relies on
  // it). The default compares the dynamic type and name().
  virtual bool Equals(const Op& other) const;
  virtual size_t Hash() const;

  // Build time: checks the inputs and returns the output types, or an error
  // whose message says what was wrong (the caller adds where).
  virtual absl::StatusOr<std::vector<TensorType>> OutputTypes(
      std::span<const Var> inputs) const = 0;

  // Plan time: the output shapes; an error names the mismatch.
  virtual absl::Status InferShapes(ShapeContext& ctx) const = 0;

  // Inputs whose values determine the output shapes (a reshape's target
  // shape, n_steps); they must be computable on the host from input shapes,
  // constants and scalar inputs.
  virtual bool IsShapeParameter(int input) const { return false; }

  // Inputs the op reads as host values instead of device arrays (scalars
  // passed to a kernel as parameters).
  virtual bool ConsumesHostValue(const Node& node, int input) const {
    return false;
  }

  // Host evaluation: ops that can compute small outputs on the host.
  virtual bool HostEvaluable() const { return false; }
  virtual bool HostNeedsValue(int input) const { return true; }
  virtual absl::Status EvaluateOnHost(HostEvalContext& ctx) const;

  // Views: output 0 is a view of input ViewOf() (-1: not a view op).
  virtual int ViewOf() const { return -1; }
  virtual absl::Status MakeView(ViewContext& ctx) const;

  // True when the kernel may write output 0 over input `input` (identical
  // shape, dtype and contiguous layout).
  virtual bool CanRunInPlace(int input) const { return false; }

  // Windows: for each input, the part of output 0 (at ctx.output) that
  // holds its value verbatim and that the launch writes with nothing else,
  // or nullopt. The planner may then compute the input there directly (when
  // nothing else reads it and its op WritesAnyLayout), and the launch leaves
  // a window that already holds its input alone. Empty: none (the default).
  virtual std::vector<std::optional<ArrayRef>> OutputWindows(
      const WindowContext& ctx) const {
    return {};
  }
  // Whether the launch writes its outputs in any layout (strided windows of
  // other arrays), not only contiguous ones.
  virtual bool WritesAnyLayout() const { return false; }

  // Plan time: the prepared kernel calls for this node's shapes and buffers;
  // null when there is nothing to run (every value is where it belongs).
  virtual absl::StatusOr<std::unique_ptr<Launch>> MakeLaunch(
      LaunchContext& ctx) const = 0;

  // The gradient: one Var per input, given one gradient per output (an
  // undefined Var where an output's gradient is zero). Returns an undefined
  // Var for an input that receives no gradient. Throws Error when the op is
  // not differentiable with respect to an input that needs a gradient.
  virtual std::vector<Var> Grad(Node& node,
                                std::span<const Var> output_grads) const;

  // Whether constant folding may evaluate this op at compile time (false
  // for ops whose result would be a large constant, or is random).
  virtual bool Foldable() const { return true; }

  // Whether input `input` can carry a gradient at all (false for integer
  // index inputs, shape parameters, conditions).
  virtual bool IsDifferentiable(int input) const { return true; }

 protected:
  Op() = default;
  // Copies do not share the cached hash (a copy may be changed).
  Op(const Op&) : name_hash_(0) {}
  Op& operator=(const Op&) {
    name_hash_.store(0, std::memory_order_relaxed);
    return *this;
  }

 private:
  // Hash() of the name, once computed (0: not yet).
  mutable std::atomic<size_t> name_hash_{0};
};

// What MakeView returns when the input's layout cannot be viewed that way
// (a reshape of a transposed array); the executor then allocates the output
// and calls MakeLaunch, which copies.
absl::Status ViewNeedsCopy();
bool IsViewNeedsCopy(const absl::Status& status);

// A Launch that runs nothing (views, host-evaluated nodes).
class NoLaunch : public Launch {
 public:
  absl::Status Run(const ExecContext&) override { return absl::OkStatus(); }
};

}  // namespace theta

#endif  // THETA_GRAPH_OP_H_
