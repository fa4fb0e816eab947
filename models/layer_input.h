// Input checks shared by the layers: a layer given a variable or a tensor of
// the wrong rank, dtype or size throws theta::Error naming the layer, the
// expected layout and shape, and the given one, e.g.
//   lstm "encoder": input must be float32 (timesteps, samples, features) =
//   (?, ?, 28); given float64(?, ?, 30)
//
//   CheckLayerInput("dense \"out\"", x, DType::kFloat32,
//                   {"samples", "features"}, {kUnknownDim, 512});
#ifndef THETA_MODELS_LAYER_INPUT_H_
#define THETA_MODELS_LAYER_INPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "graph/dtype.h"
#include "graph/ir.h"
#include "graph/tensor.h"

namespace theta::models {

// What a layer accepts: dtype, one name per dimension and its size
// (kUnknownDim: any size).
struct InputSpec {
  DType dtype = DType::kFloat32;
  std::vector<std::string> layout;  // e.g. {"timesteps", "samples", "features"}
  std::vector<int64_t> shape;       // same length as layout
  // "float32 (timesteps, samples, features) = (?, ?, 28)"
  std::string ToString() const;
};

// Throws Error unless `x`'s type fits `spec`: same rank and dtype, and every
// size the spec fixes equal to the variable's when that is known.
void CheckLayerInput(const std::string& layer, const Var& x,
                     const InputSpec& spec);
// The same for a value (every size is known): for checks before a call.
void CheckLayerInput(const std::string& layer, const Tensor& x,
                     const InputSpec& spec);

}  // namespace theta::models

#endif  // THETA_MODELS_LAYER_INPUT_H_
