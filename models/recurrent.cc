#include "models/recurrent.h"

#include "graph/type.h"
#include "models/layer_input.h"

namespace theta::models {

void CheckRecurrentInputs(const std::string& layer, const Var& x,
                          const RecurrentInputs& inputs, int64_t hidden) {
  const InputSpec state{.dtype = x.dtype(),
                        .layout = {"samples", "hidden"},
                        .shape = {kUnknownDim, hidden}};
  const std::string& name = layer;
  if (inputs.h0.defined()) CheckLayerInput(name + " h0", inputs.h0, state);
  if (inputs.c0.defined()) CheckLayerInput(name + " c0", inputs.c0, state);
  if (inputs.mask.defined()) {
    CheckLayerInput(name + " mask", inputs.mask,
                    {.dtype = x.dtype(),
                     .layout = {"timesteps", "samples"},
                     .shape = {kUnknownDim, kUnknownDim}});
  }
}

}  // namespace theta::models
