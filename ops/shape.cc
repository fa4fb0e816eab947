// Builders of the shape operations.
#include "ops/shape.h"

#include <numeric>

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "graph/text.h"
#include "ops/elementwise_op.h"
#include "ops/shape_ops.h"
#include "ops/subtensor.h"

namespace theta {
namespace {

int NormalizeAxis(int axis, int ndim, const char* what,
                  std::source_location loc) {
  if (axis < 0) axis += ndim;
  if (axis < 0 || axis >= ndim) {
    ThrowAt(MakeSourceInfo(loc),
            absl::StrCat(what, ": axis out of range for rank ", ndim));
  }
  return axis;
}

Var Int64Scalar(const Var& v, std::source_location loc) {
  if (v.ndim() != 0 || IsFloat(v.dtype())) {
    ThrowAt(MakeSourceInfo(loc),
            absl::StrCat("a dimension size must be an integer scalar, got ",
                         v.type().ToString()));
  }
  return v.dtype() == DType::kInt64 ? v : cast(v, DType::kInt64, loc);
}

}  // namespace

Var DimArgToVar(const DimArg& d, std::source_location loc) {
  if (d.is_var()) return Int64Scalar(d.var(), loc);
  return constant(static_cast<double>(d.size()), DType::kInt64, loc);
}

Var dimshuffle(const Var& x, std::vector<int> pattern,
               std::source_location loc) {
  bool identity = static_cast<int>(pattern.size()) == x.ndim();
  for (size_t i = 0; identity && i < pattern.size(); ++i) {
    identity = pattern[i] == static_cast<int>(i);
  }
  if (identity) return x;
  return ApplyOp1(std::make_shared<DimShuffle>(std::move(pattern), x.ndim()),
                  {x}, loc);
}

Var PadRank(const Var& x, int ndim, std::source_location loc) {
  if (x.ndim() >= ndim) return x;
  std::vector<int> pattern(ndim - x.ndim(), kNewAxis);
  for (int d = 0; d < x.ndim(); ++d) pattern.push_back(d);
  return dimshuffle(x, pattern, loc);
}

Var transpose(const Var& x, std::vector<int> axes, std::source_location loc) {
  if (axes.empty()) {
    for (int d = x.ndim() - 1; d >= 0; --d) axes.push_back(d);
  }
  if (static_cast<int>(axes.size()) != x.ndim()) {
    ThrowAt(
        MakeSourceInfo(loc),
        absl::StrCat("transpose: ",
                     Count(static_cast<int64_t>(axes.size()), "axis", "axes"),
                     " for a rank-", x.ndim(), " tensor"));
  }
  for (int& a : axes) a = NormalizeAxis(a, x.ndim(), "transpose", loc);
  return dimshuffle(x, axes, loc);
}

Var expand_dims(const Var& x, int axis, std::source_location loc) {
  if (axis < 0) axis += x.ndim() + 1;
  if (axis < 0 || axis > x.ndim()) {
    ThrowAt(MakeSourceInfo(loc), "expand_dims: axis out of range");
  }
  std::vector<int> pattern;
  for (int d = 0; d < x.ndim(); ++d) {
    if (d == axis) pattern.push_back(kNewAxis);
    pattern.push_back(d);
  }
  if (axis == x.ndim()) pattern.push_back(kNewAxis);
  return dimshuffle(x, pattern, loc);
}

Var squeeze(const Var& x, std::source_location loc) {
  std::vector<int> pattern;
  for (int d = 0; d < x.ndim(); ++d) {
    if (!x.type().broadcastable(d)) pattern.push_back(d);
  }
  return dimshuffle(x, pattern, loc);
}

Var shape(const Var& x, std::source_location loc) {
  return ApplyOp1(std::make_shared<Shape>(-1), {x}, loc);
}

Var shape_i(const Var& x, int axis, std::source_location loc) {
  axis = NormalizeAxis(axis, x.ndim(), "shape_i", loc);
  if (x.type().dim(axis) != kUnknownDim) {
    return constant(static_cast<double>(x.type().dim(axis)), DType::kInt64,
                    loc);
  }
  return ApplyOp1(std::make_shared<Shape>(axis), {x}, loc);
}

Var reshape(const Var& x, std::vector<DimArg> dims, std::source_location loc) {
  bool all_constant = true;
  for (const DimArg& d : dims) all_constant &= !d.is_var();
  Var target;
  if (all_constant) {
    std::vector<int64_t> values;
    for (const DimArg& d : dims) values.push_back(d.size());
    target = MakeConstant(Tensor(values), "", loc);
  } else {
    std::vector<Var> parts;
    for (const DimArg& d : dims) parts.push_back(DimArgToVar(d, loc));
    target = stack(parts, 0, loc);
  }
  return reshape(x, target, loc);
}

Var reshape(const Var& x, const Var& target, std::source_location loc) {
  if (target.ndim() != 1 || target.type().dim(0) == kUnknownDim) {
    ThrowAt(MakeSourceInfo(loc),
            absl::StrCat("reshape: the target shape must be an integer vector "
                         "of static length, got ",
                         target.type().ToString()));
  }
  Var t = target.dtype() == DType::kInt64 ? target
                                          : cast(target, DType::kInt64, loc);
  return ApplyOp1(std::make_shared<Reshape>(static_cast<int>(t.type().dim(0))),
                  {x, t}, loc);
}

Var flatten(const Var& x, int outdim, std::source_location loc) {
  if (outdim < 1 || outdim > std::max(x.ndim(), 1)) {
    ThrowAt(MakeSourceInfo(loc),
            absl::StrCat("flatten: outdim ", outdim, " for a rank-", x.ndim(),
                         " tensor"));
  }
  std::vector<DimArg> dims;
  for (int d = 0; d < outdim - 1; ++d) dims.push_back(shape_i(x, d, loc));
  dims.push_back(-1);
  return reshape(x, dims, loc);
}

Var concatenate(const std::vector<Var>& xs, int axis,
                std::source_location loc) {
  if (xs.empty()) ThrowAt(MakeSourceInfo(loc), "concatenate: no inputs");
  if (xs.size() == 1) return xs[0];
  axis = NormalizeAxis(axis, xs[0].ndim(), "concatenate", loc);
  DType dtype = xs[0].dtype();
  for (const Var& x : xs) dtype = Upcast(dtype, x.dtype());
  std::vector<Var> inputs;
  for (const Var& x : xs) inputs.push_back(cast(x, dtype, loc));
  return ApplyOp1(std::make_shared<Join>(axis), std::move(inputs), loc);
}

Var stack(const std::vector<Var>& xs, int axis, std::source_location loc) {
  if (xs.empty()) ThrowAt(MakeSourceInfo(loc), "stack: no inputs");
  const int ndim = xs[0].ndim();
  if (axis < 0) axis += ndim + 1;
  std::vector<Var> expanded;
  for (const Var& x : xs) expanded.push_back(expand_dims(x, axis, loc));
  if (expanded.size() == 1) return expanded[0];
  DType dtype = expanded[0].dtype();
  for (const Var& x : expanded) dtype = Upcast(dtype, x.dtype());
  for (Var& x : expanded) x = cast(x, dtype, loc);
  return ApplyOp1(std::make_shared<Join>(axis), std::move(expanded), loc);
}

std::vector<Var> split(const Var& x, const std::vector<int64_t>& sizes,
                       int axis, std::source_location loc) {
  axis = NormalizeAxis(axis, x.ndim(), "split", loc);
  std::vector<Var> parts;
  int64_t start = 0;
  for (int64_t size : sizes) {
    std::vector<Slice> slices(x.ndim(), Slice::All());
    slices[axis] = Slice(start, start + size);
    parts.push_back(slice(x, slices, loc));
    start += size;
  }
  return parts;
}

Var alloc(const Operand& value, std::vector<DimArg> dims,
          std::source_location loc) {
  Var v = value.weak()
              ? constant(value.value(),
                         value.weak_int() ? DType::kInt64 : floatX(), loc)
              : value.var();
  std::vector<Var> inputs = {v};
  Dims static_shape = Dims::Filled(static_cast<int>(dims.size()), kUnknownDim);
  for (const DimArg& d : dims) inputs.push_back(DimArgToVar(d, loc));
  return ApplyOp1(std::make_shared<Alloc>(static_shape), std::move(inputs),
                  loc);
}

Var alloc_like(const Var& value, std::vector<DimArg> dims,
               const TensorType& like, std::source_location loc) {
  std::vector<Var> inputs = {value};
  for (const DimArg& d : dims) inputs.push_back(DimArgToVar(d, loc));
  return ApplyOp1(std::make_shared<Alloc>(like.shape()), std::move(inputs),
                  loc);
}

Var fill(std::vector<DimArg> dims, double value, DType dtype,
         std::source_location loc) {
  return alloc(Operand(constant(value, dtype, loc), loc), std::move(dims), loc);
}

Var zeros(std::vector<DimArg> dims, DType dtype, std::source_location loc) {
  return fill(std::move(dims), 0.0, dtype, loc);
}

Var ones(std::vector<DimArg> dims, DType dtype, std::source_location loc) {
  return fill(std::move(dims), 1.0, dtype, loc);
}

namespace {

Var FillLike(const Var& x, double value, std::source_location loc) {
  std::vector<Var> inputs = {constant(value, x.dtype(), loc)};
  for (int d = 0; d < x.ndim(); ++d) inputs.push_back(shape_i(x, d, loc));
  return ApplyOp1(std::make_shared<Alloc>(x.type().shape()), std::move(inputs),
                  loc);
}

}  // namespace

Var zeros_like(const Var& x, std::source_location loc) {
  return FillLike(x, 0.0, loc);
}

Var ones_like(const Var& x, std::source_location loc) {
  return FillLike(x, 1.0, loc);
}

Var arange(const Operand& start, const Operand& stop, const Operand& step,
           std::source_location loc) {
  auto to_var = [&](const Operand& o) {
    return o.weak() ? constant(o.value(),
                               o.weak_int() ? DType::kInt64 : floatX(), loc)
                    : o.var();
  };
  Var a = to_var(start), b = to_var(stop), c = to_var(step);
  DType dtype = Upcast(Upcast(a.dtype(), b.dtype()), c.dtype());
  if (dtype == DType::kBool || dtype == DType::kUInt8 ||
      dtype == DType::kInt32) {
    dtype = DType::kInt64;
  }
  return ApplyOp1(std::make_shared<Arange>(dtype), {a, b, c}, loc);
}

Var eye(DimArg n, DimArg m, int64_t k, DType dtype, std::source_location loc) {
  Var nv = DimArgToVar(n, loc);
  Var mv = (!m.is_var() && m.size() < 0) ? nv : DimArgToVar(m, loc);
  return ApplyOp1(std::make_shared<Eye>(k, dtype), {nv, mv}, loc);
}

}  // namespace theta
