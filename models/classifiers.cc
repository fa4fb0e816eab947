#include "models/classifiers.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "graph/type.h"
#include "models/dense.h"
#include "models/embedding.h"
#include "models/lstm.h"
#include "ops/ops.h"

namespace theta::models {
namespace {

// Cost, predictions and counts of a classifier from its logits (rows of
// class scores) and the flat int32 targets.
void AddClassifierHead(const Var& logits, const Var& targets, Model& model) {
  model.cost =
      mean(nnet::categorical_crossentropy(nnet::softmax(logits), targets));
  Var predicted = argmax(logits, 1);
  model.predictions = predicted;
  model.correct = sum(cast(eq(predicted, targets), DType::kFloat32));
  model.count = cast(shape_i(targets, 0), DType::kFloat32);
}

void Append(std::vector<SharedVar>& to, const std::vector<SharedVar>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

}  // namespace

Model SoftmaxRegression(const SoftmaxRegressionOptions& options, Rng& rng) {
  Dense layer(options.features, options.classes, rng, {.name = "softmax"});
  Model m;
  m.name = "softmax regression";
  m.x = tensor(DType::kFloat32, {kUnknownDim, options.features}, "x");
  m.y = ivector("y");
  AddClassifierHead(layer(m.x), m.y, m);
  m.params = layer.params();
  m.input_layer = "dense \"softmax\"";
  m.input_spec = layer.input_spec();
  return m;
}

Model Mlp(const MlpOptions& options, Rng& rng) {
  Model m;
  m.name = "mlp";
  m.x = tensor(DType::kFloat32, {kUnknownDim, options.features}, "x");
  m.y = ivector("y");
  Var h = m.x;
  int64_t width = options.features;
  for (size_t i = 0; i < options.hidden.size(); ++i) {
    Dense layer(width, options.hidden[i], rng,
                {.activation = Activation::kRelu,
                 .init = WeightInit::kHeNormal,
                 .name = absl::StrCat("hidden", i + 1)});
    if (i == 0) {
      m.input_layer = absl::StrCat("dense \"hidden1\"");
      m.input_spec = layer.input_spec();
    }
    h = layer(h);
    Append(m.params, layer.params());
    width = options.hidden[i];
  }
  Dense out(width, options.classes, rng, {.name = "output"});
  if (options.hidden.empty()) {
    m.input_layer = "dense \"output\"";
    m.input_spec = out.input_spec();
  }
  AddClassifierHead(out(h), m.y, m);
  Append(m.params, out.params());
  return m;
}

Model LstmClassifier(const LstmClassifierOptions& options, Rng& rng) {
  if (options.layers < 1) {
    throw Error(absl::StrCat("LstmClassifier: layers must be >= 1; given ",
                             options.layers));
  }
  if (!std::isfinite(options.input_mean) ||
      !std::isfinite(options.input_scale) || options.input_scale == 0) {
    throw Error(absl::StrCat("LstmClassifier: input_mean=", options.input_mean,
                             " and input_scale=", options.input_scale,
                             " must be finite, input_scale non-zero"));
  }
  Model m;
  m.name = "lstm";
  m.x = tensor(DType::kFloat32, {kUnknownDim, kUnknownDim, options.features},
               "x");
  m.y = ivector("y");
  Var sequence = m.x, last;
  if (options.input_mean != 0.0 || options.input_scale != 1.0) {
    sequence = (m.x - options.input_mean) * options.input_scale;
  }
  int64_t width = options.features;
  for (int i = 0; i < options.layers; ++i) {
    const std::string name =
        options.layers == 1 ? "lstm" : absl::StrCat("lstm", i + 1);
    Lstm lstm(width, options.hidden, rng, {.name = name});
    if (i == 0) {
      m.input_layer = absl::StrCat("lstm \"", name, "\"");
      m.input_spec = lstm.input_spec();
    }
    RecurrentOutput r = lstm(sequence);
    sequence = r.sequence;
    last = r.last;
    Append(m.params, lstm.params());
    width = options.hidden;
  }
  Dense out(options.hidden, options.classes, rng, {.name = "output"});
  AddClassifierHead(out(last), m.y, m);
  Append(m.params, out.params());
  return m;
}

Model LstmLanguageModel(const LstmLanguageModelOptions& options, Rng& rng) {
  Embedding embed(options.vocabulary, options.embedding, rng, "embedding");
  Lstm lstm(options.embedding, options.hidden, rng, {.name = "lstm"});
  Dense out(options.hidden, options.vocabulary, rng, {.name = "output"});
  Model m;
  m.name = "lstm language model";
  m.x = imatrix("x");
  m.y = imatrix("y");
  Var states = lstm(embed(m.x)).sequence;  // (timesteps, samples, hidden)
  Var logits = reshape(out(states), {-1, options.vocabulary});
  AddClassifierHead(logits, flatten(m.y, 1), m);
  m.predictions = reshape(m.predictions, {shape_i(m.x, 0), shape_i(m.x, 1)});
  m.params = embed.params();
  Append(m.params, lstm.params());
  Append(m.params, out.params());
  m.input_layer = "embedding \"embedding\"";
  m.input_spec = {.dtype = DType::kInt32,
                  .layout = {"timesteps", "samples"},
                  .shape = {kUnknownDim, kUnknownDim}};
  return m;
}

}  // namespace theta::models
