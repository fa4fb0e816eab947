// Elementwise operations: arithmetic, math functions, comparisons, logic,
// switch and cast, with Theano's broadcasting, as C++ operators and
// functions on Var.
//
//   Var y = theta::tanh(x * W_scale + b) - 1.0;
//   Var m = theta::switch_(x > 0.0, x, 0.01 * x);
//
// Operands of different rank are aligned on the right (missing leading
// dimensions are added as broadcastable). A dimension broadcasts only where
// its type says its size is 1 (Theano's rule): declare such inputs with
// row()/col()/a static shape, or use dimshuffle with 'x'. Plain C++ numbers
// are "weak": they take the other operand's dtype (x * 2.0 stays float32).
#ifndef THETA_OPS_ELEMENTWISE_H_
#define THETA_OPS_ELEMENTWISE_H_

#include <source_location>

#include "graph/ir.h"
#include "graph/tensor.h"

namespace theta {

// An operand of an elementwise builder: a Var or a plain number; it
// remembers where in the user's code it was written.
class Operand {
 public:
  Operand(const Var& v,
          std::source_location loc = std::source_location::current())
      : var_(v), location_(loc) {}
  Operand(double value,
          std::source_location loc = std::source_location::current())
      : value_(value), weak_(true), location_(loc) {}
  Operand(int value, std::source_location loc = std::source_location::current())
      : value_(value), weak_(true), weak_int_(true), location_(loc) {}
  Operand(int64_t value,
          std::source_location loc = std::source_location::current())
      : value_(static_cast<double>(value)),
        weak_(true),
        weak_int_(true),
        location_(loc) {}

  bool weak() const { return weak_; }
  bool weak_int() const { return weak_int_; }
  double value() const { return value_; }
  const Var& var() const { return var_; }
  std::source_location location() const { return location_; }

 private:
  Var var_;
  double value_ = 0;
  bool weak_ = false;
  bool weak_int_ = false;
  std::source_location location_;
};

// Arithmetic.
Var operator+(const Operand& a, const Operand& b);
Var operator-(const Operand& a, const Operand& b);
Var operator*(const Operand& a, const Operand& b);
// True division: integer operands give float64 (Theano's true_div).
Var operator/(const Operand& a, const Operand& b);
Var operator-(const Var& a);
Var add(const Operand& a, const Operand& b);
Var sub(const Operand& a, const Operand& b);
Var mul(const Operand& a, const Operand& b);
Var true_div(const Operand& a, const Operand& b);
// Floor division and modulo (Python's // and %).
Var floor_div(const Operand& a, const Operand& b);
Var mod(const Operand& a, const Operand& b);
Var pow(const Operand& a, const Operand& b);
Var maximum(const Operand& a, const Operand& b);
Var minimum(const Operand& a, const Operand& b);
Var atan2(const Operand& a, const Operand& b);
Var clip(const Operand& x, const Operand& lo, const Operand& hi);

// Math functions. Integer inputs are computed in float64 (float32 for
// uint8/bool), as in Theano.
Var neg(const Operand& x);
Var abs(const Operand& x);
Var sign(const Operand& x);
Var exp(const Operand& x);
Var log(const Operand& x);
Var log1p(const Operand& x);
Var expm1(const Operand& x);
Var sqrt(const Operand& x);
Var rsqrt(const Operand& x);
Var square(const Operand& x);
Var reciprocal(const Operand& x);
Var tanh(const Operand& x);
Var sigmoid(const Operand& x);
Var softplus(const Operand& x);
Var relu(const Operand& x);
Var sin(const Operand& x);
Var cos(const Operand& x);
Var floor(const Operand& x);
Var ceil(const Operand& x);
// Rounds half to even.
Var round(const Operand& x);
Var trunc(const Operand& x);
Var erf(const Operand& x);

// Comparisons and logic give bool tensors.
Var operator<(const Operand& a, const Operand& b);
Var operator<=(const Operand& a, const Operand& b);
Var operator>(const Operand& a, const Operand& b);
Var operator>=(const Operand& a, const Operand& b);
Var eq(const Operand& a, const Operand& b);
Var neq(const Operand& a, const Operand& b);
Var logical_and(const Operand& a, const Operand& b);
Var logical_or(const Operand& a, const Operand& b);
Var logical_xor(const Operand& a, const Operand& b);
Var logical_not(const Operand& x);
Var operator&&(const Var& a, const Var& b);
Var operator||(const Var& a, const Var& b);
Var operator!(const Var& a);
Var isnan(const Operand& x);
Var isinf(const Operand& x);

// where(cond, a, b): a where cond is nonzero, else b (Theano's switch).
Var switch_(const Operand& cond, const Operand& a, const Operand& b);
Var where(const Operand& cond, const Operand& a, const Operand& b);

// Converts to `dtype` (float to integer truncates toward zero).
Var cast(const Var& x, DType dtype,
         std::source_location loc = std::source_location::current());

// A constant from a C++ value or a Tensor.
Var constant(const Tensor& value, std::string name = "",
             std::source_location loc = std::source_location::current());
Var constant(double value, DType dtype,
             std::source_location loc = std::source_location::current());

}  // namespace theta

#endif  // THETA_OPS_ELEMENTWISE_H_
