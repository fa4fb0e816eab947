// Dense: the fully connected layer y = f(x W + b), W of shape (inputs,
// units), b of shape (units), both float32 shared variables named
// "<name>/W" and "<name>/b". Rank-2 inputs are (samples, inputs); rank-3
// inputs (timesteps, samples, inputs) are mapped row by row.
//
//   Rng rng(1);
//   Dense hidden(784, 512, rng, {.activation = Activation::kRelu,
//                                .init = WeightInit::kHeNormal,
//                                .name = "hidden"});
//   Var h = hidden(x);   // (samples, 512)
#ifndef THETA_MODELS_DENSE_H_
#define THETA_MODELS_DENSE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/shared.h"
#include "models/init.h"
#include "models/layer_input.h"

namespace theta::models {

enum class Activation { kLinear, kRelu, kTanh, kSigmoid };

// f(x) for the activation.
Var Activate(Activation activation, const Var& x);

struct DenseOptions {
  Activation activation = Activation::kLinear;
  WeightInit init = WeightInit::kGlorotUniform;  // b starts at 0
  std::string name = "dense";
};

class Dense {
 public:
  // Draws W from `rng`; an inputs or units count below 1 is an Error.
  Dense(int64_t inputs, int64_t units, Rng& rng, DenseOptions options = {});

  // f(x W + b); throws Error naming the layer when x is not float32 of
  // rank 2 or 3 with `inputs` features.
  Var operator()(const Var& x) const;
  // The same computation with W and b given (for gradient checks and
  // other dtypes): x's dtype must be W's.
  Var Apply(const Var& x, const Var& w, const Var& b) const;

  const SharedVar& w() const { return w_; }
  const SharedVar& b() const { return b_; }
  std::vector<SharedVar> params() const { return {w_, b_}; }
  int64_t inputs() const { return inputs_; }
  int64_t units() const { return units_; }
  // What operator() accepts for a rank-2 input.
  InputSpec input_spec() const;

 private:
  int64_t inputs_, units_;
  DenseOptions options_;
  SharedVar w_, b_;
};

}  // namespace theta::models

#endif  // THETA_MODELS_DENSE_H_
