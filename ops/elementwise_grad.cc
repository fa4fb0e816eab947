// Gradients of the single-operation Elementwise ops (fused programs exist only
// after compilation and are never differentiated).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "backends/api/elementwise_semantics.h"
#include "ops/elementwise.h"
#include "ops/elementwise_op.h"
#include "ops/grad_util.h"
#include "ops/shape.h"

namespace theta {

bool Elementwise::IsDifferentiable(int input) const {
  const int op = program_.single_opcode();
  if (ew::IsPredicate(op)) return false;
  if (op == THETA_EW_SELECT && input == 0) return false;
  return true;
}

std::vector<Var> Elementwise::Grad(Node& node,
                                   std::span<const Var> output_grads) const {
  const int op = program_.single_opcode();
  std::vector<Var> grads(node.num_inputs());
  const Var& gz = output_grads[0];
  if (!gz.defined()) return grads;
  if (op < 0) {
    ThrowAt(
        node.source(),
        absl::StrCat("grad: ", name(),
                     " is a fused program; differentiate before compiling"));
  }
  // Integer and bool outputs carry no gradient (Theano's zero gradient of
  // comparisons, rounding to integers, casts to integers).
  if (!IsFloat(output_dtypes_[0]) || ew::IsPredicate(op)) return grads;

  Var out = node.output(0);
  auto in = [&](int i) { return node.input(i); };
  switch (op) {
    case THETA_EW_COPY:  // identity and casts between floats
      grads[0] = gz;
      break;
    case THETA_EW_NEG:
      grads[0] = -gz;
      break;
    case THETA_EW_ABS:
      grads[0] = gz * sign(in(0));
      break;
    case THETA_EW_SIGN:
    case THETA_EW_FLOOR:
    case THETA_EW_CEIL:
    case THETA_EW_ROUND:
    case THETA_EW_TRUNC:
      // Piecewise constant: zero almost everywhere.
      grads[0] = zeros_like(in(0));
      break;
    case THETA_EW_EXP:
      grads[0] = gz * out;
      break;
    case THETA_EW_LOG:
      grads[0] = gz / in(0);
      break;
    case THETA_EW_LOG1P:
      grads[0] = gz / (in(0) + 1.0);
      break;
    case THETA_EW_EXPM1:
      grads[0] = gz * (out + 1.0);
      break;
    case THETA_EW_SQRT:
      grads[0] = gz * 0.5 / out;
      break;
    case THETA_EW_RSQRT:
      grads[0] = gz * -0.5 * out * out * out;
      break;
    case THETA_EW_SQUARE:
      grads[0] = gz * 2.0 * in(0);
      break;
    case THETA_EW_RECIPROCAL:
      grads[0] = -gz * out * out;
      break;
    case THETA_EW_TANH:
      grads[0] = gz * (1.0 - out * out);
      break;
    case THETA_EW_SIGMOID:
      grads[0] = gz * out * (1.0 - out);
      break;
    case THETA_EW_SOFTPLUS:
      grads[0] = gz * sigmoid(in(0));
      break;
    case THETA_EW_RELU:
      grads[0] = gz * cast(in(0) > 0.0, out.dtype());
      break;
    case THETA_EW_SIN:
      grads[0] = gz * cos(in(0));
      break;
    case THETA_EW_COS:
      grads[0] = -gz * sin(in(0));
      break;
    case THETA_EW_ERF:
      grads[0] = gz * (2.0 / std::sqrt(M_PI)) * exp(-square(in(0)));
      break;
    case THETA_EW_ADD:
      grads[0] = gz;
      grads[1] = gz;
      break;
    case THETA_EW_SUB:
      grads[0] = gz;
      grads[1] = -gz;
      break;
    case THETA_EW_MUL:
      grads[0] = gz * in(1);
      grads[1] = gz * in(0);
      break;
    case THETA_EW_DIV:
      grads[0] = gz / in(1);
      grads[1] = -gz * out / in(1);
      break;
    case THETA_EW_MOD:
      grads[0] = gz;
      grads[1] = -gz * floor(in(0) / in(1));
      break;
    case THETA_EW_POW:
      grads[0] = gz * in(1) * pow(in(0), in(1) - 1.0);
      // d/db a^b = a^b log a; defined as 0 where a == 0.
      grads[1] = gz * out * log(switch_(eq(in(0), 0.0), 1.0, in(0)));
      break;
    case THETA_EW_MAX: {
      Var first = cast(in(0) >= in(1), out.dtype());
      grads[0] = gz * first;
      grads[1] = gz * (1.0 - first);
      break;
    }
    case THETA_EW_MIN: {
      Var first = cast(in(0) <= in(1), out.dtype());
      grads[0] = gz * first;
      grads[1] = gz * (1.0 - first);
      break;
    }
    case THETA_EW_ATAN2: {
      Var denom = square(in(0)) + square(in(1));
      grads[0] = gz * in(1) / denom;
      grads[1] = -gz * in(0) / denom;
      break;
    }
    case THETA_EW_SELECT:
      grads[1] = switch_(in(0), gz, 0.0);
      grads[2] = switch_(in(0), 0.0, gz);
      break;
    case THETA_EW_CLIP: {
      Var inside = logical_and(in(0) >= in(1), in(0) <= in(2));
      grads[0] = switch_(inside, gz, 0.0);
      grads[1] = switch_(in(0) < in(1), gz, 0.0);
      grads[2] = switch_(in(0) > in(2), gz, 0.0);
      break;
    }
    default:
      ThrowAt(node.source(),
              absl::StrCat("grad: ", name(), " has no gradient defined"));
  }
  for (int i = 0; i < node.num_inputs(); ++i) {
    if (!grads[i].defined()) continue;
    if (!IsFloat(in(i).dtype())) {
      grads[i] = Var();  // integer inputs receive no gradient
      continue;
    }
    grads[i] = SumToBroadcast(grads[i], in(i).type());
  }
  return grads;
}

}  // namespace theta
