// Model: the symbolic graph of one model (Theano's build_model step): its
// inputs, its mean training cost, its predictions, and its parameters. The
// builders in classifiers.h return one; a Trainer compiles and trains it.
//
//   Rng rng(1);
//   Model m = Mlp({.features = 784, .hidden = {512}, .classes = 10}, rng);
//   Trainer trainer(m, adam);
#ifndef THETA_MODELS_MODEL_H_
#define THETA_MODELS_MODEL_H_

#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/shared.h"
#include "graph/tensor.h"
#include "models/layer_input.h"

namespace theta::models {

struct Model {
  std::string name;  // "mlp", for messages and logs
  Var x;             // the input
  Var y;             // the targets (int32 class ids)
  Var cost;          // mean loss over the batch's predictions, scalar
  Var predictions;   // the predicted class ids, y's shape
  Var correct;       // float32 scalar: correct predictions in the batch
  Var count;         // float32 scalar: predictions in the batch
  std::vector<SharedVar> params;  // in a fixed order, uniquely named
  // What x must be, and the layer that reads it (for the error a Trainer
  // throws before running on a wrong tensor).
  std::string input_layer;
  InputSpec input_spec;
};

// Throws Error naming the model's input layer, its expected and the given
// shape when `x` does not fit the model's input.
void CheckModelInput(const Model& model, const Tensor& x);

}  // namespace theta::models

#endif  // THETA_MODELS_MODEL_H_
