// Helpers shared by the ops' gradient rules. SumToBroadcast undoes a
// broadcast: the gradient of an input that was broadcast to a larger shape is
// the output's gradient summed over the broadcast dimensions.
//
//   grads[1] = SumToBroadcast(output_grads[0], node.input(1).type());
//
// Builds graph nodes only; never fails (an undefined gradient stays
// undefined).
#ifndef THETA_OPS_GRAD_UTIL_H_
#define THETA_OPS_GRAD_UTIL_H_

#include "graph/ir.h"
#include "graph/type.h"

namespace theta {

// Sums `grad` over the dimensions where `type` broadcasts but `grad` does
// not, so that it has `type`'s shape (the gradient of broadcasting), and
// casts it to `type`'s dtype. Returns `grad` itself when it is undefined.
Var SumToBroadcast(const Var& grad, const TensorType& type);

}  // namespace theta

#endif  // THETA_OPS_GRAD_UTIL_H_
