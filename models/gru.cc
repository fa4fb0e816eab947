#include "models/gru.h"

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "graph/type.h"
#include "ops/ops.h"
#include "scan/scan.h"

namespace theta::models {

Gru::Gru(int64_t inputs, int64_t hidden, Rng& rng, GruOptions options)
    : inputs_(inputs), hidden_(hidden), options_(std::move(options)) {
  if (inputs < 1 || hidden < 1) {
    throw Error(absl::StrCat("gru \"", options_.name,
                             "\": inputs and hidden must be >= 1; given ",
                             inputs, " inputs, ", hidden, " hidden"));
  }
  w_ = shared(GlorotUniform({inputs, 3 * hidden}, rng), options_.name + "/W");
  u_ = shared(Orthogonal({hidden, 3 * hidden}, rng), options_.name + "/U");
  b_ = shared(Constant({3 * hidden}, 0.0), options_.name + "/b");
}

InputSpec Gru::input_spec() const {
  return {.dtype = DType::kFloat32,
          .layout = {"timesteps", "samples", "features"},
          .shape = {kUnknownDim, kUnknownDim, inputs_}};
}

RecurrentOutput Gru::Apply(const Var& x, const Var& w, const Var& u,
                           const Var& b, const RecurrentInputs& inputs) const {
  const std::string layer = absl::StrCat("gru \"", options_.name, "\"");
  InputSpec spec = input_spec();
  spec.dtype = w.dtype();
  CheckLayerInput(layer, x, spec);
  if (inputs.c0.defined()) {
    throw Error(absl::StrCat(layer, ": a GRU has no cell state; c0 given"));
  }
  CheckRecurrentInputs(layer, x, inputs, hidden_);
  const int64_t h = hidden_;
  const bool masked = inputs.mask.defined();
  Var h0 =
      inputs.h0.defined() ? inputs.h0 : zeros({shape_i(x, 1), h}, x.dtype());
  std::vector<Sequence> sequences = {x};
  if (masked) sequences.push_back(inputs.mask);
  ScanResult r = scan(
      [&](const std::vector<Var>& in) {
        // in = {x_t, [m_t,] h_{t-1}, W, U, b}
        const int s = masked ? 2 : 1;
        const Var& h_prev = in[s];
        Var gx = dot(in[0], in[s + 1]) + in[s + 3];
        Var gh = dot(h_prev, in[s + 2]);
        auto part = [&](const Var& g, int k) {
          return slice(g, {Slice::All(), Slice(k * h, (k + 1) * h)});
        };
        Var reset = sigmoid(part(gx, 0) + part(gh, 0));
        Var update = sigmoid(part(gx, 1) + part(gh, 1));
        Var candidate = tanh(part(gx, 2) + reset * part(gh, 2));
        Var h_new = (1.0 - update) * candidate + update * h_prev;
        if (!masked) return StepResult{{h_new}};
        Var m = expand_dims(in[1], 1);
        return StepResult{{m * h_new + (1.0 - m) * h_prev}};
      },
      {.sequences = sequences,
       .outputs_info = {h0},
       .non_sequences = {w, u, b},
       .go_backwards = options_.go_backwards,
       .name = options_.name});
  RecurrentOutput out;
  out.last = index(r.outputs[0], -1);
  out.sequence = options_.go_backwards
                     ? slice(r.outputs[0], {Slice(kNone, kNone, -1)})
                     : r.outputs[0];
  return out;
}

}  // namespace theta::models
