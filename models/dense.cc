#include "models/dense.h"

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "graph/type.h"
#include "ops/ops.h"

namespace theta::models {

Var Activate(Activation activation, const Var& x) {
  switch (activation) {
    case Activation::kLinear:
      return x;
    case Activation::kRelu:
      return relu(x);
    case Activation::kTanh:
      return tanh(x);
    case Activation::kSigmoid:
      return sigmoid(x);
  }
  throw Error("Activate: unknown Activation");
}

Dense::Dense(int64_t inputs, int64_t units, Rng& rng, DenseOptions options)
    : inputs_(inputs), units_(units), options_(std::move(options)) {
  if (inputs < 1 || units < 1) {
    throw Error(absl::StrCat("dense \"", options_.name,
                             "\": inputs and units must be >= 1; given ",
                             inputs, " inputs, ", units, " units"));
  }
  w_ = shared(Initialize(options_.init, {inputs, units}, rng),
              options_.name + "/W");
  b_ = shared(Constant({units}, 0.0), options_.name + "/b");
}

InputSpec Dense::input_spec() const {
  return {.dtype = DType::kFloat32,
          .layout = {"samples", "features"},
          .shape = {kUnknownDim, inputs_}};
}

Var Dense::operator()(const Var& x) const { return Apply(x, w_, b_); }

Var Dense::Apply(const Var& x, const Var& w, const Var& b) const {
  const std::string layer = absl::StrCat("dense \"", options_.name, "\"");
  InputSpec spec = input_spec();
  spec.dtype = w.dtype();
  if (x.defined() && x.ndim() == 3) {
    spec.layout = {"timesteps", "samples", "features"};
    spec.shape = {kUnknownDim, kUnknownDim, inputs_};
    CheckLayerInput(layer, x, spec);
    Var rows = reshape(x, {-1, inputs_});
    Var y = Activate(options_.activation, dot(rows, w) + b);
    return reshape(y, {shape_i(x, 0), shape_i(x, 1), units_});
  }
  CheckLayerInput(layer, x, spec);
  return Activate(options_.activation, dot(x, w) + b);
}

}  // namespace theta::models
