#include "ops/reduce.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "ops/elementwise.h"
#include "ops/elementwise_op.h"
#include "ops/reduce_ops.h"
#include "ops/shape.h"
#include "ops/shape_ops.h"

namespace theta {
namespace {

const char* ReduceName(theta_reduce_op op) {
  switch (op) {
    case THETA_REDUCE_SUM:
      return "Sum";
    case THETA_REDUCE_PROD:
      return "Prod";
    case THETA_REDUCE_MAX:
      return "Max";
    case THETA_REDUCE_MIN:
      return "Min";
    case THETA_REDUCE_ARGMAX:
      return "Argmax";
    case THETA_REDUCE_ARGMIN:
      return "Argmin";
  }
  return "Reduce";
}

std::vector<int> NormalizeAxes(const AxisList& list, int ndim, const char* what,
                               std::source_location loc) {
  std::vector<int> axes;
  if (list.axes().empty()) {
    for (int d = 0; d < ndim; ++d) axes.push_back(d);
    return axes;
  }
  for (int a : list.axes()) {
    int axis = a < 0 ? a + ndim : a;
    if (axis < 0 || axis >= ndim) {
      ThrowAt(
          MakeSourceInfo(loc),
          absl::StrCat(what, ": axis ", a, " out of range for rank ", ndim));
    }
    if (std::find(axes.begin(), axes.end(), axis) != axes.end()) {
      ThrowAt(MakeSourceInfo(loc),
              absl::StrCat(what, ": axis ", a, " repeated"));
    }
    axes.push_back(axis);
  }
  std::sort(axes.begin(), axes.end());
  return axes;
}

// Whether an empty reduction has a value (sum 0, prod 1); max, min, argmax
// and argmin of nothing are errors.
bool HasIdentity(theta_reduce_op op) {
  return op == THETA_REDUCE_SUM || op == THETA_REDUCE_PROD;
}

// The builder's name, as a user wrote it.
const char* UserName(theta_reduce_op op) {
  switch (op) {
    case THETA_REDUCE_SUM:
      return "sum";
    case THETA_REDUCE_PROD:
      return "prod";
    case THETA_REDUCE_MAX:
      return "max";
    case THETA_REDUCE_MIN:
      return "min";
    case THETA_REDUCE_ARGMAX:
      return "argmax";
    case THETA_REDUCE_ARGMIN:
      return "argmin";
  }
  return "reduce";
}

bool Contains(const std::vector<int>& axes, int d) {
  return std::find(axes.begin(), axes.end(), d) != axes.end();
}

// As NumPy and Theano: the maximum of nothing is an error, not -inf. Checked
// where shapes are known (once per plan), so every backend gets it.
absl::Status CheckDefined(theta_reduce_op op, const std::vector<int>& axes,
                          const Dims& x) {
  if (HasIdentity(op)) return absl::OkStatus();
  for (int d : axes) {
    if (d < x.size() && x[d] == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          ReduceName(op), " of an empty dimension ", d, ": input shape (",
          absl::StrJoin(x, ", "), "), reducing axes (",
          absl::StrJoin(axes, ", "), "); ", UserName(op),
          " of zero elements is undefined (it has no identity)"));
    }
  }
  return absl::OkStatus();
}

class ReduceLaunch : public Launch {
 public:
  ReduceLaunch(theta_reduce_op op, const std::vector<int>& axes,
               const ArrayRef& in, const ArrayRef& out)
      : in_(in), out_(out) {
    // The kernel wants the output with the reduced dimensions kept (size 1).
    Dims kept;
    for (int d = 0; d < in.shape.size(); ++d) {
      kept.push_back(Contains(axes, d) ? 1 : in.shape[d]);
    }
    out_.shape = kept;
    out_.strides = ContiguousStrides(kept);
    args_.struct_size = sizeof(args_);
    args_.op = op;
    args_.axes_mask = 0;
    for (int a : axes) args_.axes_mask |= 1u << a;
  }
  absl::Status Run(const ExecContext& ctx) override {
    args_.input = in_.ToAbi(ctx.slots);
    args_.output = out_.ToAbi(ctx.slots);
    return ctx.backend->Check(
        ctx.backend->api().reduce(ctx.backend->stream(), &args_), "reduce");
  }

 private:
  ArrayRef in_;
  ArrayRef out_;
  theta_reduce_args args_;
};

}  // namespace

Reduce::Reduce(theta_reduce_op op, std::vector<int> axes, bool keepdims)
    : op_(op), axes_(std::move(axes)), keepdims_(keepdims) {}

std::string Reduce::name() const {
  return absl::StrCat(ReduceName(op_), "{axes=(", absl::StrJoin(axes_, ","),
                      keepdims_ ? "),keepdims}" : ")}");
}

bool Reduce::IsDifferentiable(int input) const {
  return op_ != THETA_REDUCE_ARGMAX && op_ != THETA_REDUCE_ARGMIN;
}

absl::StatusOr<std::vector<TensorType>> Reduce::OutputTypes(
    std::span<const Var> inputs) const {
  const TensorType& x = inputs[0].type();
  Dims shape;
  for (int d = 0; d < x.ndim(); ++d) {
    if (Contains(axes_, d)) {
      if (keepdims_) shape.push_back(1);
    } else {
      shape.push_back(x.dim(d));
    }
  }
  if ((op_ == THETA_REDUCE_ARGMAX || op_ == THETA_REDUCE_ARGMIN) &&
      axes_.size() != 1) {
    return absl::InvalidArgumentError("argmax/argmin reduce exactly one axis");
  }
  DType dtype = (op_ == THETA_REDUCE_ARGMAX || op_ == THETA_REDUCE_ARGMIN)
                    ? DType::kInt64
                    : x.dtype();
  return std::vector<TensorType>{TensorType(dtype, shape)};
}

absl::Status Reduce::InferShapes(ShapeContext& ctx) const {
  const Dims& x = ctx.input_shapes[0];
  THETA_RETURN_IF_ERROR(CheckDefined(op_, axes_, x));
  Dims shape;
  for (int d = 0; d < x.size(); ++d) {
    if (Contains(axes_, d)) {
      if (keepdims_) shape.push_back(1);
    } else {
      shape.push_back(x[d]);
    }
  }
  ctx.output_shapes[0] = shape;
  return absl::OkStatus();
}

absl::Status Reduce::EvaluateOnHost(HostEvalContext& ctx) const {
  const HostValue& in = *ctx.inputs[0];
  THETA_RETURN_IF_ERROR(CheckDefined(op_, axes_, in.shape));
  HostValue& out = ctx.outputs[0];
  Dims out_shape;
  Dims kept;
  for (int d = 0; d < in.shape.size(); ++d) {
    const bool reduced = Contains(axes_, d);
    kept.push_back(reduced ? 1 : in.shape[d]);
    if (!reduced || keepdims_) out_shape.push_back(reduced ? 1 : in.shape[d]);
  }
  out.shape = out_shape;
  const int64_t n_out = kept.product();
  const Dims in_strides = ContiguousStrides(in.shape);
  const Dims kept_strides = ContiguousStrides(kept);
  std::vector<double> acc(n_out);
  std::vector<int64_t> arg(n_out, -1), count(n_out, 0);
  for (int64_t e = 0; e < in.size(); ++e) {
    int64_t rest = e, o = 0, reduced_pos = 0;
    for (int d = 0; d < in.shape.size(); ++d) {
      const int64_t pos = rest / in_strides[d];
      rest %= in_strides[d];
      if (Contains(axes_, d)) {
        reduced_pos = pos;
      } else {
        o += pos * kept_strides[d];
      }
    }
    const double v = in.AsDouble(static_cast<int>(e));
    double& a = acc[o];
    switch (op_) {
      case THETA_REDUCE_SUM:
        a = count[o] ? a + v : v;
        break;
      case THETA_REDUCE_PROD:
        a = count[o] ? a * v : v;
        break;
      case THETA_REDUCE_MAX:
      case THETA_REDUCE_ARGMAX:
        if (!count[o] || v > a) a = v, arg[o] = reduced_pos;
        break;
      case THETA_REDUCE_MIN:
      case THETA_REDUCE_ARGMIN:
        if (!count[o] || v < a) a = v, arg[o] = reduced_pos;
        break;
    }
    ++count[o];
  }
  for (int64_t o = 0; o < n_out; ++o) {
    if (op_ == THETA_REDUCE_ARGMAX || op_ == THETA_REDUCE_ARGMIN) {
      out.SetInt(static_cast<int>(o), arg[o]);
    } else if (count[o] == 0) {
      out.Set(static_cast<int>(o),
              op_ == THETA_REDUCE_PROD  ? 1.0
              : op_ == THETA_REDUCE_SUM ? 0.0
              : op_ == THETA_REDUCE_MAX
                  ? -std::numeric_limits<double>::infinity()
                  : std::numeric_limits<double>::infinity());
    } else {
      out.Set(static_cast<int>(o), acc[o]);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Launch>> Reduce::MakeLaunch(
    LaunchContext& ctx) const {
  return std::unique_ptr<Launch>(
      new ReduceLaunch(op_, axes_, ctx.inputs[0], ctx.outputs[0]));
}

Var BroadcastBackToInput(const Var& v, const Var& x,
                         const std::vector<int>& axes, bool keepdims) {
  Var expanded = v;
  if (!keepdims) {
    std::vector<int> pattern;
    int next = 0;
    for (int d = 0; d < x.ndim(); ++d) {
      pattern.push_back(Contains(axes, d) ? kNewAxis : next++);
    }
    expanded = dimshuffle(v, pattern);
  }
  std::vector<Var> inputs = {expanded};
  for (int d = 0; d < x.ndim(); ++d) inputs.push_back(shape_i(x, d));
  return ApplyOp1(std::make_shared<Alloc>(x.type().shape()), std::move(inputs),
                  std::source_location::current());
}

std::vector<Var> Reduce::Grad(Node& node,
                              std::span<const Var> output_grads) const {
  const Var& gz = output_grads[0];
  const Var x = node.input(0);
  if (!gz.defined() || !IsFloat(x.dtype())) return {Var()};
  Var out = node.output(0);
  switch (op_) {
    case THETA_REDUCE_SUM:
      return {BroadcastBackToInput(gz, x, axes_, keepdims_)};
    case THETA_REDUCE_PROD:
      // d prod / d x_i = prod / x_i (inputs assumed nonzero).
      return {BroadcastBackToInput(gz * out, x, axes_, keepdims_) / x};
    case THETA_REDUCE_MAX:
    case THETA_REDUCE_MIN: {
      // Every position equal to the extremum receives the gradient.
      Var extreme = BroadcastBackToInput(out, x, axes_, keepdims_);
      Var mask = cast(eq(x, extreme), x.dtype());
      return {BroadcastBackToInput(gz, x, axes_, keepdims_) * mask};
    }
    default:
      return {Var()};
  }
}

// ------------------------------------------------------------------ builders

namespace {

Var BuildReduce(theta_reduce_op op, const Var& x, const AxisList& list,
                bool keepdims, const char* what, std::source_location loc) {
  std::vector<int> axes = NormalizeAxes(list, x.ndim(), what, loc);
  if (axes.empty()) return x;
  return ApplyOp1(std::make_shared<Reduce>(op, axes, keepdims), {x}, loc);
}

// Number of elements reduced, as a scalar of `dtype`.
Var ReducedCount(const Var& x, const std::vector<int>& axes, DType dtype,
                 std::source_location loc) {
  int64_t known = 1;
  Var symbolic;
  for (int a : axes) {
    if (x.type().dim(a) != kUnknownDim) {
      known *= x.type().dim(a);
    } else {
      Var s = shape_i(x, a, loc);
      symbolic = symbolic.defined() ? symbolic * s : s;
    }
  }
  if (!symbolic.defined())
    return constant(static_cast<double>(known), dtype, loc);
  if (known != 1) symbolic = symbolic * Operand(known, loc);
  return cast(symbolic, dtype, loc);
}

}  // namespace

Var sum(const Var& x, AxisList axes, bool keepdims, std::source_location loc) {
  Var in = x;
  // Integer sums accumulate in int64 (Theano's accumulator upcast).
  if (x.dtype() == DType::kBool || x.dtype() == DType::kUInt8 ||
      x.dtype() == DType::kInt32) {
    in = cast(x, DType::kInt64, loc);
  }
  return BuildReduce(THETA_REDUCE_SUM, in, axes, keepdims, "sum", loc);
}

Var prod(const Var& x, AxisList axes, bool keepdims, std::source_location loc) {
  Var in = x;
  if (x.dtype() == DType::kBool || x.dtype() == DType::kUInt8 ||
      x.dtype() == DType::kInt32) {
    in = cast(x, DType::kInt64, loc);
  }
  return BuildReduce(THETA_REDUCE_PROD, in, axes, keepdims, "prod", loc);
}

Var max(const Var& x, AxisList axes, bool keepdims, std::source_location loc) {
  return BuildReduce(THETA_REDUCE_MAX, x, axes, keepdims, "max", loc);
}

Var min(const Var& x, AxisList axes, bool keepdims, std::source_location loc) {
  return BuildReduce(THETA_REDUCE_MIN, x, axes, keepdims, "min", loc);
}

Var mean(const Var& x, AxisList axes, bool keepdims, std::source_location loc) {
  std::vector<int> normalized = NormalizeAxes(axes, x.ndim(), "mean", loc);
  Var in = IsFloat(x.dtype()) ? x : cast(x, DType::kFloat64, loc);
  if (normalized.empty()) return in;
  Var total =
      BuildReduce(THETA_REDUCE_SUM, in, normalized, keepdims, "mean", loc);
  return true_div(Operand(total, loc),
                  Operand(ReducedCount(x, normalized, in.dtype(), loc), loc));
}

Var var(const Var& x, AxisList axes, bool keepdims, std::source_location loc) {
  std::vector<int> normalized = NormalizeAxes(axes, x.ndim(), "var", loc);
  Var m = mean(x, normalized, /*keepdims=*/true, loc);
  Var centered = sub(Operand(x, loc), Operand(m, loc));
  return mean(square(Operand(centered, loc)), normalized, keepdims, loc);
}

Var std(const Var& x, AxisList axes, bool keepdims, std::source_location loc) {
  return sqrt(Operand(var(x, axes, keepdims, loc), loc));
}

namespace {

Var ArgReduce(theta_reduce_op op, const Var& x, int axis, bool keepdims,
              const char* what, std::source_location loc) {
  if (axis == kAllAxes) {
    Var flat = flatten(x, 1, loc);
    Var r =
        ApplyOp1(std::make_shared<Reduce>(op, std::vector<int>{0}, keepdims),
                 {flat}, loc);
    return r;
  }
  std::vector<int> axes = NormalizeAxes(axis, x.ndim(), what, loc);
  return ApplyOp1(std::make_shared<Reduce>(op, axes, keepdims), {x}, loc);
}

}  // namespace

Var argmax(const Var& x, int axis, bool keepdims, std::source_location loc) {
  return ArgReduce(THETA_REDUCE_ARGMAX, x, axis, keepdims, "argmax", loc);
}

Var argmin(const Var& x, int axis, bool keepdims, std::source_location loc) {
  return ArgReduce(THETA_REDUCE_ARGMIN, x, axis, keepdims, "argmin", loc);
}

}  // namespace theta
