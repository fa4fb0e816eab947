#include "models/char_lstm_sampler.h"

#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "models/dense.h"
#include "models/embedding.h"
#include "models/lstm.h"
#include "ops/ops.h"

namespace theta::models {
namespace {

// The model's parameter `name`, checked against the shape the options give.
const SharedVar& Param(const Model& model, const std::string& name,
                       const std::vector<int64_t>& shape) {
  for (const SharedVar& p : model.params) {
    if (p.name() != name) continue;
    if (p.value_shape().ToVector() != shape) {
      throw Error(
          absl::StrCat("CharSampler: parameter '", name, "' has shape ",
                       p.value_shape().ToString(), "; the options give ",
                       Dims(std::span<const int64_t>(shape)).ToString()));
    }
    return p;
  }
  throw Error(absl::StrCat("CharSampler: model '", model.name,
                           "' has no parameter '", name,
                           "'; it must be built by LstmLanguageModel"));
}

}  // namespace

CharSampler::CharSampler(const Model& model,
                         const LstmLanguageModelOptions& options)
    : vocabulary_(options.vocabulary), hidden_(options.hidden) {
  const int64_t v = options.vocabulary, e = options.embedding,
                h = options.hidden;
  const SharedVar& table = Param(model, "embedding/E", {v, e});
  const SharedVar& w = Param(model, "lstm/W", {e, 4 * h});
  const SharedVar& u = Param(model, "lstm/U", {h, 4 * h});
  const SharedVar& b = Param(model, "lstm/b", {4 * h});
  const SharedVar& out_w = Param(model, "output/W", {h, v});
  const SharedVar& out_b = Param(model, "output/b", {v});
  // Layers of the same shapes, applied to the model's parameters (their
  // own freshly drawn ones stay unused).
  Rng unused(0);
  Embedding embed(v, e, unused, "embedding");
  Lstm lstm(e, h, unused, {.name = "lstm"});
  Dense out(h, v, unused, {.name = "output"});

  h_ = shared(Tensor(DType::kFloat32, {1, h}), "sampler/h");
  c_ = shared(Tensor(DType::kFloat32, {1, h}), "sampler/c");
  Var id = imatrix("id");  // (1 step, 1 sample)
  RecurrentOutput r =
      lstm.Apply(embed.Apply(id, table), w, u, b, {.h0 = h_, .c0 = c_});
  Var logits = out.Apply(r.last, out_w, out_b);
  step_ = function({id}, {logits},
                   {.updates = {{h_, r.last}, {c_, r.last_cell}},
                    .name = "char_lstm_sample_step"});
  input_ = Tensor(DType::kInt32, {1, 1});
  weights_.resize(static_cast<size_t>(v));
}

void CharSampler::Step(int32_t id) {
  input_.data<int32_t>()[0] = id;
  step_.Call(std::span<const Tensor>(&input_, 1), outputs_);
}

int32_t CharSampler::Draw(double temperature, Rng& rng) {
  const float* logits = outputs_[0].data<float>();
  double top = logits[0];
  for (int64_t i = 1; i < vocabulary_; ++i)
    top = std::max<double>(top, logits[i]);
  double total = 0;
  for (int64_t i = 0; i < vocabulary_; ++i) {
    weights_[i] = std::exp((logits[i] - top) / temperature);
    total += weights_[i];
  }
  double r = std::uniform_real_distribution<double>(0.0, total)(rng);
  for (int64_t i = 0; i < vocabulary_; ++i) {
    r -= weights_[i];
    if (r < 0) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(vocabulary_ - 1);  // rounding at the top end
}

std::string CharSampler::Sample(const CharVocabulary& vocabulary,
                                std::string_view prime, int64_t count,
                                double temperature, Rng& rng) {
  if (vocabulary.size() != vocabulary_) {
    throw Error(absl::StrCat("CharSampler: a vocabulary of ", vocabulary.size(),
                             " characters for a model of ", vocabulary_));
  }
  if (prime.empty()) throw Error("CharSampler: the prime text is empty");
  for (char c : prime) {
    if (!vocabulary.contains(static_cast<unsigned char>(c))) {
      throw Error(absl::StrCat("CharSampler: the prime character '",
                               absl::CEscape(std::string(1, c)),
                               "' is not in the text's vocabulary"));
    }
  }
  if (count < 0) {
    throw Error(absl::StrCat("CharSampler: count=", count, " must be >= 0"));
  }
  if (!std::isfinite(temperature) || temperature <= 0) {
    throw Error(absl::StrCat("CharSampler: temperature=", temperature,
                             " must be finite and > 0"));
  }
  h_.set_value(Tensor(DType::kFloat32, {1, hidden_}));
  c_.set_value(Tensor(DType::kFloat32, {1, hidden_}));
  for (char c : prime) Step(vocabulary.id(static_cast<unsigned char>(c)));
  std::string text;
  text.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int32_t id = Draw(temperature, rng);
    text.push_back(static_cast<char>(vocabulary.byte(id)));
    if (i + 1 < count) Step(id);
  }
  return text;
}

}  // namespace theta::models
