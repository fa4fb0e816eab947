// What the recurrent layers (LSTM, GRU) share: their optional inputs and
// their outputs, in Theano's (timesteps, samples, features) layout.
//
//   RecurrentOutput r = lstm(x, {.mask = m});
//   Var all_h = r.sequence;   // (timesteps, samples, hidden)
//   Var last = r.last;        // (samples, hidden)
#ifndef THETA_MODELS_RECURRENT_H_
#define THETA_MODELS_RECURRENT_H_

#include <string_view>

#include "graph/ir.h"

namespace theta::models {

struct RecurrentInputs {
  // Initial hidden (and, for an LSTM, cell) state, (samples, hidden); zeros
  // when undefined.
  Var h0;
  Var c0;
  // (timesteps, samples), 1 where a sample has a step and 0 past its end:
  // a masked step carries the previous state through unchanged, so `last`
  // is each sample's state after its own last step. Undefined: all steps.
  Var mask;
};

struct RecurrentOutput {
  // The hidden state after every step, in the input's time order (also
  // when the layer runs backwards, as Lasagne returns it).
  Var sequence;
  // The state after the layer's final step (for a backwards layer: after
  // reading step 0).
  Var last;
  // The LSTM's cell state after its final step (undefined for a GRU).
  Var last_cell;
};

// Throws Error naming `layer` unless the optional inputs fit: h0 and c0 of
// x's dtype, rank 2 with `hidden` columns; mask of x's dtype, rank 2.
void CheckRecurrentInputs(const std::string& layer, const Var& x,
                          const RecurrentInputs& inputs, int64_t hidden);

}  // namespace theta::models

#endif  // THETA_MODELS_RECURRENT_H_
