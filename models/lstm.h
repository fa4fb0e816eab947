// Lstm: a long short-term memory layer built with scan over (timesteps,
// samples, features) inputs, as Theano's LSTM tutorial and Lasagne's
// LSTMLayer build it (no peepholes):
//   [i f o g] = x_t W + h_{t-1} U + b      (gates side by side, 4 * hidden)
//   c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
//   h_t = sigmoid(o) * tanh(c_t)
// W (inputs, 4h) is Glorot uniform, U (h, 4h) four orthogonal blocks, b zero
// except the forget gate's 1 (Jozefowicz et al.). Shared variables are
// "<name>/W", "<name>/U", "<name>/b". Layers stack: one's `sequence` is the
// next one's input.
//
//   Lstm lstm(28, 128, rng, {.name = "lstm"});
//   RecurrentOutput r = lstm(x);          // x (28, samples, 28)
//   Var logits = classifier(r.last);
#ifndef THETA_MODELS_LSTM_H_
#define THETA_MODELS_LSTM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/shared.h"
#include "models/init.h"
#include "models/layer_input.h"
#include "models/recurrent.h"

namespace theta::models {

struct LstmOptions {
  std::string name = "lstm";
  // Read the sequence from its last step to its first.
  bool go_backwards = false;
  double forget_bias = 1.0;
};

class Lstm {
 public:
  // Draws W and U from `rng`; sizes below 1 are an Error.
  Lstm(int64_t inputs, int64_t hidden, Rng& rng, LstmOptions options = {});

  // Throws Error naming the layer when x is not float32 (timesteps,
  // samples, inputs) or an optional input does not fit.
  RecurrentOutput operator()(const Var& x,
                             const RecurrentInputs& inputs = {}) const {
    return Apply(x, w_, u_, b_, inputs);
  }
  // The same with the parameters given (for gradient checks, other dtypes).
  RecurrentOutput Apply(const Var& x, const Var& w, const Var& u, const Var& b,
                        const RecurrentInputs& inputs = {}) const;

  std::vector<SharedVar> params() const { return {w_, u_, b_}; }
  const SharedVar& w() const { return w_; }
  const SharedVar& u() const { return u_; }
  const SharedVar& b() const { return b_; }
  int64_t inputs() const { return inputs_; }
  int64_t hidden() const { return hidden_; }
  InputSpec input_spec() const;

 private:
  int64_t inputs_, hidden_;
  LstmOptions options_;
  SharedVar w_, u_, b_;
};

// Two LSTMs over the same input, one forwards and one backwards; `sequence`
// concatenates their states per step (2 * hidden features: forwards first),
// `last` their final states, `last_cell` their final cells.
class BidirectionalLstm {
 public:
  BidirectionalLstm(int64_t inputs, int64_t hidden, Rng& rng,
                    std::string name = "bilstm");
  RecurrentOutput operator()(const Var& x,
                             const RecurrentInputs& inputs = {}) const;
  std::vector<SharedVar> params() const;
  const Lstm& forwards() const { return forwards_; }
  const Lstm& backwards() const { return backwards_; }

 private:
  Lstm forwards_, backwards_;
};

}  // namespace theta::models

#endif  // THETA_MODELS_LSTM_H_
