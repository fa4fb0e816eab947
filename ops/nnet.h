// Neural-network ops, as Theano's tensor.nnet: softmax and log_softmax over
// the last axis (dim 1 of a matrix, exactly as nnet.softmax), cross-entropies,
// and the activation functions.
//
//   Var p    = softmax(dot(x, W) + b);
//   Var loss = mean(categorical_crossentropy(p, labels));  // stable: fused
#ifndef THETA_OPS_NNET_H_
#define THETA_OPS_NNET_H_

#include <source_location>

#include "graph/ir.h"
#include "ops/elementwise.h"

namespace theta::nnet {

// exp(x - max) / sum(exp(x - max)) along the last axis.
Var softmax(const Var& x,
            std::source_location loc = std::source_location::current());
// x - max - log(sum(exp(x - max))) along the last axis.
Var log_softmax(const Var& x,
                std::source_location loc = std::source_location::current());

// -sum(t * log(p)) along the last axis, where `targets` is either integer
// labels (one per row of p) or a distribution of p's shape. When
// `coding_dist` is softmax(x), the result is computed from x directly by one
// stable op whose gradient is softmax(x) - one_hot(labels).
Var categorical_crossentropy(
    const Var& coding_dist, const Var& targets,
    std::source_location loc = std::source_location::current());

// -(t log p + (1 - t) log(1 - p)), elementwise; stable when p = sigmoid(x).
Var binary_crossentropy(
    const Var& output, const Operand& target,
    std::source_location loc = std::source_location::current());

using theta::relu;
using theta::sigmoid;
using theta::softplus;

}  // namespace theta::nnet

#endif  // THETA_OPS_NNET_H_
