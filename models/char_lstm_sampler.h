// CharSampler: generates text from a trained models::LstmLanguageModel, one
// character at a time. It compiles one LSTM step over the model's own
// parameters (shared variables, so it sees the trained values) with the
// state (h, c) carried in shared variables between calls; each character
// is drawn from softmax(logits / temperature) with the caller's generator.
//
//   CharSampler sampler(model, {.vocabulary = v.size(), .hidden = 128});
//   std::string s = sampler.Sample(vocabulary, "It", 200, 0.8, rng);
#ifndef THETA_MODELS_CHAR_LSTM_SAMPLER_H_
#define THETA_MODELS_CHAR_LSTM_SAMPLER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compile/function.h"
#include "graph/shared.h"
#include "graph/tensor.h"
#include "models/char_lstm_data.h"
#include "models/classifiers.h"
#include "models/init.h"
#include "models/model.h"

namespace theta::models {

class CharSampler {
 public:
  // `model` was built by LstmLanguageModel(options, ...). Throws Error
  // naming a parameter the model lacks or whose shape does not fit.
  CharSampler(const Model& model, const LstmLanguageModelOptions& options);

  // Starts from zero state, reads `prime` (non-empty, every byte in the
  // vocabulary, else Error naming the byte), then draws `count` characters,
  // each fed back as the next input. temperature must be finite and > 0.
  // The same generator state gives the same characters.
  std::string Sample(const CharVocabulary& vocabulary, std::string_view prime,
                     int64_t count, double temperature, Rng& rng);

 private:
  // Feeds one id; leaves the logits of the next character in outputs_.
  void Step(int32_t id);
  int32_t Draw(double temperature, Rng& rng);

  int64_t vocabulary_, hidden_;
  SharedVar h_, c_;
  Function step_;
  Tensor input_;                 // (1, 1) int32
  std::vector<Tensor> outputs_;  // {logits (1, vocabulary)}
  std::vector<double> weights_;  // scratch for Draw
};

}  // namespace theta::models

#endif  // THETA_MODELS_CHAR_LSTM_SAMPLER_H_
