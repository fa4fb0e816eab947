// The models of //models, each built from the layers as a Model: softmax
// regression, a multilayer perceptron, an LSTM sequence classifier (images
// read row by row) and an LSTM language model. Parameters are drawn from
// `rng`, so one seed fixes a model.
//
//   Rng rng(seed);
//   Model softmax = SoftmaxRegression({.features = 784, .classes = 10}, rng);
//   Model lstm = LstmClassifier({.features = 28, .hidden = 128,
//                                .classes = 10}, rng);
#ifndef THETA_MODELS_CLASSIFIERS_H_
#define THETA_MODELS_CLASSIFIERS_H_

#include <cstdint>
#include <vector>

#include "models/init.h"
#include "models/model.h"

namespace theta::models {

// x (samples, features) float32 -> softmax(x W + b) over `classes`; y
// (samples) int32.
struct SoftmaxRegressionOptions {
  int64_t features = 784;
  int64_t classes = 10;
};
Model SoftmaxRegression(const SoftmaxRegressionOptions& options, Rng& rng);

// x (samples, features) -> ReLU layers of the `hidden` sizes (He normal)
// -> softmax over `classes`.
struct MlpOptions {
  int64_t features = 784;
  std::vector<int64_t> hidden = {512};
  int64_t classes = 10;
};
Model Mlp(const MlpOptions& options, Rng& rng);

// x (timesteps, samples, features) -> (x - input_mean) * input_scale ->
// `layers` stacked LSTMs -> the last layer's last state -> softmax over
// `classes`; y (samples) int32. The standardisation is part of the graph
// (so a checkpoint's model predicts from raw inputs); the defaults leave x
// as it is.
struct LstmClassifierOptions {
  int64_t features = 28;
  int64_t hidden = 128;
  int64_t classes = 10;
  int layers = 1;
  double input_mean = 0.0;
  double input_scale = 1.0;
};
Model LstmClassifier(const LstmClassifierOptions& options, Rng& rng);

// x (timesteps, samples) int32 token ids -> embedding -> LSTM -> a softmax
// over the vocabulary at every step; y (timesteps, samples) int32, the
// next token at each step. cost is the mean cross-entropy per token.
struct LstmLanguageModelOptions {
  int64_t vocabulary = 256;
  int64_t embedding = 32;
  int64_t hidden = 128;
};
Model LstmLanguageModel(const LstmLanguageModelOptions& options, Rng& rng);

}  // namespace theta::models

#endif  // THETA_MODELS_CLASSIFIERS_H_
