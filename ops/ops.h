// The op library: everything a user builds expressions from.
//
//   #include "ops/ops.h"
//   Var y = theta::nnet::softmax(theta::dot(x, W) + b);
#ifndef THETA_OPS_OPS_H_
#define THETA_OPS_OPS_H_

#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/nnet.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/subtensor.h"
#include "ops/tensor_types.h"

#endif  // THETA_OPS_OPS_H_
