// CharSampler: its step reads the model's own (trained) parameters and
// carries the LSTM state, so that with a temperature near 0 it picks what
// the whole-sequence model predicts after the same prefix; samples have the
// requested length, come from the vocabulary and follow the generator; bad
// arguments and models of another shape are errors that say so.
#include "models/char_lstm_sampler.h"

#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "compile/function.h"
#include "gtest/gtest.h"
#include "ops/test_util.h"

namespace theta::models {
namespace {

using theta::testing::ErrorOf;

const std::string kText = "one two three, one two three; four five six.\n";
const LstmLanguageModelOptions kOptions = {
    .vocabulary = 0, .embedding = 6, .hidden = 10};

LstmLanguageModelOptions OptionsFor(const CharVocabulary& v) {
  LstmLanguageModelOptions o = kOptions;
  o.vocabulary = v.size();
  return o;
}

TEST(CharSamplerTest, GreedyStepsMatchTheWholeSequenceModel) {
  const CharVocabulary v(kText);
  Rng rng(3);
  Model model = LstmLanguageModel(OptionsFor(v), rng);
  // Change a parameter after building: the sampler must read its value.
  for (const SharedVar& p : model.params) {
    if (p.name() != "output/b") continue;
    Tensor b = p.get_value();
    for (int64_t i = 0; i < b.size(); ++i) {
      b.data<float>()[i] = 0.01f * static_cast<float>(i % 3);
    }
    p.set_value(b);
  }
  CharSampler sampler(model, OptionsFor(v));
  Function predict = function({model.x}, {model.predictions});
  const std::string prefix = "one two t";
  const int64_t t = static_cast<int64_t>(prefix.size());
  Tensor x(DType::kInt32, {t, 1});
  for (int64_t i = 0; i < t; ++i) x.data<int32_t>()[i] = v.id(prefix[i]);
  const std::vector<int32_t> predicted =  // (t, 1) class ids
      predict({x})[0].astype(DType::kInt32).to_vector<int32_t>();
  // The predictions vary along the prefix, so a sampler that dropped its
  // state between steps would not match them.
  EXPECT_GE(std::set<int32_t>(predicted.begin(), predicted.end()).size(), 3u);
  for (int64_t i = 1; i <= t; ++i) {
    Rng sample_rng(1);
    const std::string next =
        sampler.Sample(v, prefix.substr(0, i), 1, 1e-4, sample_rng);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0], static_cast<char>(v.byte(predicted[i - 1])))
        << "after \"" << prefix.substr(0, i) << "\"";
  }
}

TEST(CharSamplerTest, SamplesFollowTheGenerator) {
  const CharVocabulary v(kText);
  Rng rng(4);
  Model model = LstmLanguageModel(OptionsFor(v), rng);
  CharSampler sampler(model, OptionsFor(v));
  Rng a(7), b(7), c(8);
  const std::string first = sampler.Sample(v, "on", 200, 1.0, a);
  EXPECT_EQ(first.size(), 200u);
  for (char ch : first) EXPECT_TRUE(v.contains(ch)) << int{ch};
  // An untrained model at temperature 1 draws many different characters.
  EXPECT_GT(std::set<char>(first.begin(), first.end()).size(), 5u);
  EXPECT_EQ(sampler.Sample(v, "on", 200, 1.0, b), first);
  EXPECT_NE(sampler.Sample(v, "on", 200, 1.0, c), first);
  EXPECT_EQ(sampler.Sample(v, "on", 0, 1.0, c), "");
}

TEST(CharSamplerTest, BadArguments) {
  const CharVocabulary v(kText);
  Rng rng(5);
  Model model = LstmLanguageModel(OptionsFor(v), rng);
  CharSampler sampler(model, OptionsFor(v));
  EXPECT_EQ(ErrorOf([&] { sampler.Sample(v, "", 3, 1.0, rng); }),
            "CharSampler: the prime text is empty");
  EXPECT_EQ(ErrorOf([&] { sampler.Sample(v, "oz", 3, 1.0, rng); }),
            "CharSampler: the prime character 'z' is not in the text's "
            "vocabulary");
  EXPECT_EQ(ErrorOf([&] { sampler.Sample(v, "o", -1, 1.0, rng); }),
            "CharSampler: count=-1 must be >= 0");
  EXPECT_EQ(ErrorOf([&] { sampler.Sample(v, "o", 3, 0.0, rng); }),
            "CharSampler: temperature=0 must be finite and > 0");
  EXPECT_EQ(
      ErrorOf([&] { sampler.Sample(CharVocabulary("ab"), "a", 3, 1.0, rng); }),
      "CharSampler: a vocabulary of 2 characters for a model of 18");
}

TEST(CharSamplerTest, ModelsOfAnotherShape) {
  const CharVocabulary v(kText);
  Rng rng(6);
  Model model = LstmLanguageModel(OptionsFor(v), rng);
  LstmLanguageModelOptions wider = OptionsFor(v);
  wider.hidden = 12;
  EXPECT_EQ(ErrorOf([&] { CharSampler s(model, wider); }),
            "CharSampler: parameter 'lstm/W' has shape (6, 40); the options "
            "give (6, 48)");
  Model mlp = Mlp({.features = 4, .hidden = {3}, .classes = 2}, rng);
  EXPECT_EQ(ErrorOf([&] { CharSampler s(mlp, OptionsFor(v)); }),
            "CharSampler: model 'mlp' has no parameter 'embedding/E'; it must "
            "be built by LstmLanguageModel");
}

}  // namespace
}  // namespace theta::models
