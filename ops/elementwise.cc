// Builders of elementwise nodes: operand resolution (weak numbers, rank
// alignment) and Theano's dtype rules per kind of operation.
#include "ops/elementwise.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "backends/api/elementwise_semantics.h"
#include "base/error.h"
#include "ops/elementwise_op.h"
#include "ops/shape.h"

namespace theta {
namespace {

enum class Kind {
  kArith,      // result: the operands' upcast
  kTrueDiv,    // as kArith, integers giving float64
  kFloatFn,    // floats; integers computed as float64 (uint8/bool: float32)
  kPredicate,  // bool result, computed in the operands' upcast
  kSelect,     // first operand is a condition; result: upcast of the others
};

DType ComputeTypeFor(DType t) {
  if (t == DType::kBool || t == DType::kUInt8) return DType::kInt32;
  return t;
}

DType FloatFor(DType t) {
  if (IsFloat(t)) return t;
  if (t == DType::kBool || t == DType::kUInt8) return DType::kFloat32;
  return DType::kFloat64;
}

// The dtype the strong (Var) operands agree on, if any.
std::optional<DType> StrongType(std::span<const Operand* const> operands) {
  std::optional<DType> t;
  for (const Operand* o : operands) {
    if (o->weak()) continue;
    if (!o->var().defined()) {
      throw Error("elementwise operation on an undefined Var");
    }
    t = t ? Upcast(*t, o->var().dtype()) : o->var().dtype();
  }
  return t;
}

// A plain number takes the dtype of the Vars it meets (x * 2.0 stays
// float32); a float number meeting only integer Vars becomes floatX. It is
// built with `ndim` dimensions of size 1, so that it needs no DimShuffle.
Var WeakConstant(const Operand& o, std::optional<DType> strong, int ndim,
                 std::source_location loc) {
  DType dtype;
  if (!strong.has_value()) {
    dtype = o.weak_int() ? DType::kInt64 : floatX();
  } else if (o.weak_int()) {
    dtype = *strong == DType::kBool ? DType::kInt64 : *strong;
  } else {
    dtype = IsFloat(*strong) ? *strong : floatX();
  }
  Tensor value = Tensor::ScalarOf(dtype, o.value());
  if (ndim > 0) value = value.reshape(std::vector<int64_t>(ndim, 1));
  return MakeConstant(std::move(value), "", loc);
}

std::vector<Var> Resolve(std::span<const Operand* const> operands,
                         std::source_location loc) {
  std::optional<DType> strong = StrongType(operands);
  int ndim = 0;
  for (const Operand* o : operands) {
    if (!o->weak()) ndim = std::max(ndim, o->var().ndim());
  }
  std::vector<Var> vars;
  for (const Operand* o : operands) {
    vars.push_back(o->weak() ? WeakConstant(*o, strong, ndim, loc)
                             : PadRank(o->var(), ndim, loc));
  }
  return vars;
}

Var Build(int opcode, Kind kind, std::initializer_list<const Operand*> list) {
  std::span<const Operand* const> operands(list.begin(), list.size());
  std::source_location loc = operands[0]->location();
  std::vector<Var> vars = Resolve(operands, loc);
  DType upcast = vars[kind == Kind::kSelect ? 1 : 0].dtype();
  for (size_t i = kind == Kind::kSelect ? 2 : 1; i < vars.size(); ++i) {
    upcast = Upcast(upcast, vars[i].dtype());
  }
  DType out = upcast;
  DType compute = ComputeTypeFor(upcast);
  switch (kind) {
    case Kind::kArith:
    case Kind::kSelect:
      break;
    case Kind::kTrueDiv:
      out = IsFloat(upcast) ? upcast : DType::kFloat64;
      compute = out;
      break;
    case Kind::kFloatFn:
      out = FloatFor(upcast);
      compute = out;
      break;
    case Kind::kPredicate:
      out = DType::kBool;
      break;
  }
  return MakeElementwise(opcode, std::move(vars), compute, out, loc);
}

Var Unary(int opcode, Kind kind, const Operand& x) {
  return Build(opcode, kind, {&x});
}
Var Binary(int opcode, Kind kind, const Operand& a, const Operand& b) {
  return Build(opcode, kind, {&a, &b});
}

}  // namespace

Var constant(const Tensor& value, std::string name, std::source_location loc) {
  return MakeConstant(value, std::move(name), loc);
}

Var constant(double value, DType dtype, std::source_location loc) {
  return MakeConstant(Tensor::ScalarOf(dtype, value), "", loc);
}

Var operator+(const Operand& a, const Operand& b) { return add(a, b); }
Var operator-(const Operand& a, const Operand& b) { return sub(a, b); }
Var operator*(const Operand& a, const Operand& b) { return mul(a, b); }
Var operator/(const Operand& a, const Operand& b) { return true_div(a, b); }
Var operator-(const Var& a) { return neg(Operand(a)); }

Var add(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_ADD, Kind::kArith, a, b);
}
Var sub(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_SUB, Kind::kArith, a, b);
}
Var mul(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_MUL, Kind::kArith, a, b);
}
Var true_div(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_DIV, Kind::kTrueDiv, a, b);
}
Var floor_div(const Operand& a, const Operand& b) {
  Var q = Binary(THETA_EW_DIV, Kind::kArith, a, b);
  return IsFloat(q.dtype()) ? floor(q) : q;
}
Var mod(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_MOD, Kind::kArith, a, b);
}
Var pow(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_POW, Kind::kArith, a, b);
}
Var maximum(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_MAX, Kind::kArith, a, b);
}
Var minimum(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_MIN, Kind::kArith, a, b);
}
Var atan2(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_ATAN2, Kind::kFloatFn, a, b);
}
Var clip(const Operand& x, const Operand& lo, const Operand& hi) {
  return Build(THETA_EW_CLIP, Kind::kArith, {&x, &lo, &hi});
}

Var neg(const Operand& x) { return Unary(THETA_EW_NEG, Kind::kArith, x); }
Var abs(const Operand& x) { return Unary(THETA_EW_ABS, Kind::kArith, x); }
Var sign(const Operand& x) { return Unary(THETA_EW_SIGN, Kind::kArith, x); }
Var exp(const Operand& x) { return Unary(THETA_EW_EXP, Kind::kFloatFn, x); }
Var log(const Operand& x) { return Unary(THETA_EW_LOG, Kind::kFloatFn, x); }
Var log1p(const Operand& x) { return Unary(THETA_EW_LOG1P, Kind::kFloatFn, x); }
Var expm1(const Operand& x) { return Unary(THETA_EW_EXPM1, Kind::kFloatFn, x); }
Var sqrt(const Operand& x) { return Unary(THETA_EW_SQRT, Kind::kFloatFn, x); }
Var rsqrt(const Operand& x) { return Unary(THETA_EW_RSQRT, Kind::kFloatFn, x); }
Var square(const Operand& x) { return Unary(THETA_EW_SQUARE, Kind::kArith, x); }
Var reciprocal(const Operand& x) {
  return Unary(THETA_EW_RECIPROCAL, Kind::kFloatFn, x);
}
Var tanh(const Operand& x) { return Unary(THETA_EW_TANH, Kind::kFloatFn, x); }
Var sigmoid(const Operand& x) {
  return Unary(THETA_EW_SIGMOID, Kind::kFloatFn, x);
}
Var softplus(const Operand& x) {
  return Unary(THETA_EW_SOFTPLUS, Kind::kFloatFn, x);
}
Var relu(const Operand& x) { return Unary(THETA_EW_RELU, Kind::kArith, x); }
Var sin(const Operand& x) { return Unary(THETA_EW_SIN, Kind::kFloatFn, x); }
Var cos(const Operand& x) { return Unary(THETA_EW_COS, Kind::kFloatFn, x); }
Var floor(const Operand& x) { return Unary(THETA_EW_FLOOR, Kind::kArith, x); }
Var ceil(const Operand& x) { return Unary(THETA_EW_CEIL, Kind::kArith, x); }
Var round(const Operand& x) { return Unary(THETA_EW_ROUND, Kind::kArith, x); }
Var trunc(const Operand& x) { return Unary(THETA_EW_TRUNC, Kind::kArith, x); }
Var erf(const Operand& x) { return Unary(THETA_EW_ERF, Kind::kFloatFn, x); }

Var operator<(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_LT, Kind::kPredicate, a, b);
}
Var operator<=(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_LE, Kind::kPredicate, a, b);
}
Var operator>(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_GT, Kind::kPredicate, a, b);
}
Var operator>=(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_GE, Kind::kPredicate, a, b);
}
Var eq(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_EQ, Kind::kPredicate, a, b);
}
Var neq(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_NE, Kind::kPredicate, a, b);
}
Var logical_and(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_AND, Kind::kPredicate, a, b);
}
Var logical_or(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_OR, Kind::kPredicate, a, b);
}
Var logical_xor(const Operand& a, const Operand& b) {
  return Binary(THETA_EW_XOR, Kind::kPredicate, a, b);
}
Var logical_not(const Operand& x) {
  return Unary(THETA_EW_NOT, Kind::kPredicate, x);
}
Var operator&&(const Var& a, const Var& b) { return logical_and(a, b); }
Var operator||(const Var& a, const Var& b) { return logical_or(a, b); }
Var operator!(const Var& a) { return logical_not(a); }
Var isnan(const Operand& x) {
  return Unary(THETA_EW_ISNAN, Kind::kPredicate, x);
}
Var isinf(const Operand& x) {
  return Unary(THETA_EW_ISINF, Kind::kPredicate, x);
}

Var switch_(const Operand& cond, const Operand& a, const Operand& b) {
  return Build(THETA_EW_SELECT, Kind::kSelect, {&cond, &a, &b});
}
Var where(const Operand& cond, const Operand& a, const Operand& b) {
  return switch_(cond, a, b);
}

Var cast(const Var& x, DType dtype, std::source_location loc) {
  if (!x.defined()) throw Error("cast of an undefined Var");
  if (x.dtype() == dtype) return x;
  DType from = x.dtype();
  DType compute;
  if (IsFloat(from) && IsFloat(dtype)) {
    compute = Upcast(from, dtype);
  } else if (IsFloat(from)) {
    compute = from;  // the store truncates toward zero
  } else if (IsFloat(dtype)) {
    compute = dtype;
  } else {
    compute = (from == DType::kInt64 || dtype == DType::kInt64) ? DType::kInt64
                                                                : DType::kInt32;
  }
  return MakeElementwise(THETA_EW_COPY, {x}, compute, dtype, loc);
}

}  // namespace theta
