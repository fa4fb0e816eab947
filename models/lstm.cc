#include "models/lstm.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "graph/type.h"
#include "ops/ops.h"
#include "scan/scan.h"

namespace theta::models {

Lstm::Lstm(int64_t inputs, int64_t hidden, Rng& rng, LstmOptions options)
    : inputs_(inputs), hidden_(hidden), options_(std::move(options)) {
  if (inputs < 1 || hidden < 1) {
    throw Error(absl::StrCat("lstm \"", options_.name,
                             "\": inputs and hidden must be >= 1; given ",
                             inputs, " inputs, ", hidden, " hidden"));
  }
  w_ = shared(GlorotUniform({inputs, 4 * hidden}, rng), options_.name + "/W");
  u_ = shared(Orthogonal({hidden, 4 * hidden}, rng), options_.name + "/U");
  Tensor bias = Constant({4 * hidden}, 0.0);
  std::fill_n(bias.data<float>() + hidden, hidden,
              static_cast<float>(options_.forget_bias));
  b_ = shared(bias, options_.name + "/b");
}

InputSpec Lstm::input_spec() const {
  return {.dtype = DType::kFloat32,
          .layout = {"timesteps", "samples", "features"},
          .shape = {kUnknownDim, kUnknownDim, inputs_}};
}

RecurrentOutput Lstm::Apply(const Var& x, const Var& w, const Var& u,
                            const Var& b, const RecurrentInputs& inputs) const {
  const std::string layer = absl::StrCat("lstm \"", options_.name, "\"");
  InputSpec spec = input_spec();
  spec.dtype = w.dtype();
  CheckLayerInput(layer, x, spec);
  CheckRecurrentInputs(layer, x, inputs, hidden_);
  const int64_t h = hidden_;
  const bool masked = inputs.mask.defined();
  Var zero = zeros({shape_i(x, 1), h}, x.dtype());
  Var h0 = inputs.h0.defined() ? inputs.h0 : zero;
  Var c0 = inputs.c0.defined() ? inputs.c0 : zero;
  std::vector<Sequence> sequences = {x};
  if (masked) sequences.push_back(inputs.mask);
  ScanResult r = scan(
      [&](const std::vector<Var>& in) {
        // in = {x_t, [m_t,] h_{t-1}, c_{t-1}, W, U, b}
        const int s = masked ? 2 : 1;
        const Var& h_prev = in[s];
        const Var& c_prev = in[s + 1];
        Var gates = dot(in[0], in[s + 2]) + dot(h_prev, in[s + 3]) + in[s + 4];
        auto gate = [&](int k) {
          return slice(gates, {Slice::All(), Slice(k * h, (k + 1) * h)});
        };
        Var c = sigmoid(gate(1)) * c_prev + sigmoid(gate(0)) * tanh(gate(3));
        Var h_new = sigmoid(gate(2)) * tanh(c);
        if (!masked) return StepResult{{h_new, c}};
        Var m = expand_dims(in[1], 1);  // (samples, 1)
        return StepResult{
            {m * h_new + (1.0 - m) * h_prev, m * c + (1.0 - m) * c_prev}};
      },
      {.sequences = sequences,
       .outputs_info = {h0, c0},
       .non_sequences = {w, u, b},
       .go_backwards = options_.go_backwards,
       .name = options_.name});
  RecurrentOutput out;
  out.last = index(r.outputs[0], -1);
  out.last_cell = index(r.outputs[1], -1);
  out.sequence = options_.go_backwards
                     ? slice(r.outputs[0], {Slice(kNone, kNone, -1)})
                     : r.outputs[0];
  return out;
}

BidirectionalLstm::BidirectionalLstm(int64_t inputs, int64_t hidden, Rng& rng,
                                     std::string name)
    : forwards_(inputs, hidden, rng, {.name = name + "/forwards"}),
      backwards_(inputs, hidden, rng,
                 {.name = name + "/backwards", .go_backwards = true}) {}

RecurrentOutput BidirectionalLstm::operator()(
    const Var& x, const RecurrentInputs& inputs) const {
  RecurrentOutput f = forwards_(x, inputs);
  RecurrentOutput b = backwards_(x, inputs);
  return {.sequence = concatenate({f.sequence, b.sequence}, 2),
          .last = concatenate({f.last, b.last}, 1),
          .last_cell = concatenate({f.last_cell, b.last_cell}, 1)};
}

std::vector<SharedVar> BidirectionalLstm::params() const {
  std::vector<SharedVar> p = forwards_.params();
  for (const SharedVar& v : backwards_.params()) p.push_back(v);
  return p;
}

}  // namespace theta::models
