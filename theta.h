// Theta: Theano's model of computation in C++. Including this header (and
// linking //:theta) gives the whole public API; each part can also be used
// alone through its own package (//graph, //compile, //ops, //autodiff,
// //scan, //optim, //backends, //models).
//
//   #include "theta.h"
//   using namespace theta;
//   Var x = fmatrix("x");
//   SharedVar w = shared(Tensor(DType::kFloat32, {784, 10}), "W");
//   Var cost = mean(nnet::categorical_crossentropy(
//       nnet::softmax(dot(x, w)), ivector("y")));
//   ...
#ifndef THETA_THETA_H_
#define THETA_THETA_H_

// Tensors, symbolic variables, shared variables, compiled functions.
#include "compile/debugprint.h"
#include "compile/function.h"
#include "graph/dtype.h"
#include "graph/ir.h"
#include "graph/shared.h"
#include "graph/tensor.h"
#include "graph/warning.h"
// The op library (elementwise math, shapes, indexing, reductions, linear
// algebra, neural-network ops) and tensor variable constructors.
#include "ops/ops.h"
// Symbolic differentiation and numeric gradient checks.
#include "autodiff/grad.h"
#include "autodiff/verify_grad.h"
// Symbolic loops.
#include "scan/scan.h"
// Backend selection: theta::backends::use("cuda"), available().
#include "backends/backend.h"
#include "backends/registry.h"
// Optimisers: a cost and parameters to updates.
#include "optim/optim.h"
// Layers, models, the training loop, checkpoints, data sets, training logs.
#include "models/checkpoint.h"
#include "models/classifiers.h"
#include "models/dense.h"
#include "models/embedding.h"
#include "models/fashion_mnist.h"
#include "models/gru.h"
#include "models/lstm.h"
#include "models/trainer.h"
#include "models/training_log.h"

#endif  // THETA_THETA_H_
