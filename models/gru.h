// Gru: a gated recurrent unit layer built with scan over (timesteps,
// samples, features) inputs, with PyTorch's nn.GRU equations (the reset
// gate applied after the recurrent product, as Lasagne's GRULayer also
// does):
//   [r z n]_x = x_t W + b,  [r z n]_h = h_{t-1} U       (3 * hidden each)
//   r = sigmoid(r_x + r_h), z = sigmoid(z_x + z_h)
//   n = tanh(n_x + r * n_h)
//   h_t = (1 - z) * n + z * h_{t-1}
// W (inputs, 3h) Glorot uniform, U (h, 3h) three orthogonal blocks, b zero;
// shared variables "<name>/W", "<name>/U", "<name>/b".
//
//   Gru gru(28, 64, rng, {.name = "gru"});
//   RecurrentOutput r = gru(x, {.mask = m});
#ifndef THETA_MODELS_GRU_H_
#define THETA_MODELS_GRU_H_

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/shared.h"
#include "models/init.h"
#include "models/layer_input.h"
#include "models/recurrent.h"

namespace theta::models {

struct GruOptions {
  std::string name = "gru";
  bool go_backwards = false;
};

class Gru {
 public:
  Gru(int64_t inputs, int64_t hidden, Rng& rng, GruOptions options = {});

  // Throws Error naming the layer when x is not float32 (timesteps,
  // samples, inputs) or h0 / mask do not fit (c0 must be undefined).
  RecurrentOutput operator()(const Var& x,
                             const RecurrentInputs& inputs = {}) const {
    return Apply(x, w_, u_, b_, inputs);
  }
  RecurrentOutput Apply(const Var& x, const Var& w, const Var& u, const Var& b,
                        const RecurrentInputs& inputs = {}) const;

  std::vector<SharedVar> params() const { return {w_, u_, b_}; }
  int64_t inputs() const { return inputs_; }
  int64_t hidden() const { return hidden_; }
  InputSpec input_spec() const;

 private:
  int64_t inputs_, hidden_;
  GruOptions options_;
  SharedVar w_, u_, b_;
};

}  // namespace theta::models

#endif  // THETA_MODELS_GRU_H_
