#include "models/model.h"

namespace theta::models {

void CheckModelInput(const Model& model, const Tensor& x) {
  CheckLayerInput(model.input_layer, x, model.input_spec);
}

}  // namespace theta::models
