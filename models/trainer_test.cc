// Trainer: learning, seeded shuffling, validation cadence, early stopping,
// the per-step callback, resuming, a NaN loss, and the errors for bad
// options, bad inputs and a checkpoint of another model.
#include "models/trainer.h"

#include <cmath>
#include <limits>

#include "base/error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/classifiers.h"
#include "models/dataset.h"
#include "optim/adam.h"
#include "optim/momentum.h"

namespace theta::models {
namespace {

using ::testing::HasSubstr;

// Two Gaussian blobs in 4 dimensions, labels 0 and 1 (means -1 and +1 on
// the first coordinate).
TensorDataset Blobs(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::normal_distribution<float> noise(0.f, 0.5f);
  Tensor x(DType::kFloat32, {n, 4});
  Tensor y(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) {
    const int label = i % 2;
    y.data<int32_t>()[i] = label;
    for (int64_t j = 0; j < 4; ++j) {
      x.data<float>()[i * 4 + j] = noise(rng) + (j == 0 ? 2 * label - 1 : 0);
    }
  }
  return TensorDataset(x, y);
}

Model Softmax(uint64_t seed) {
  Rng rng(seed);
  return SoftmaxRegression({.features = 4, .classes = 2}, rng);
}

TEST(TrainerTest, SoftmaxRegressionLearnsSeparableBlobs) {
  TensorDataset train = Blobs(256, 1), test = Blobs(128, 2);
  optim::Adam adam({.lr = 0.05});
  Trainer trainer(Softmax(1), adam);
  const double before = trainer.Evaluate(test).accuracy;
  TrainResult r = trainer.Train(train, &test, {.epochs = 3, .batch_size = 16});
  EXPECT_EQ(r.steps, 3 * 16);
  EXPECT_EQ(r.evaluations.size(), 3u);  // once per epoch
  const Evaluation after = trainer.Evaluate(test);
  EXPECT_GT(after.accuracy, 0.9) << "before: " << before;
  EXPECT_LT(after.loss, r.evaluations.front().train_loss);
  Tensor predicted = trainer.Predict(
      Tensor({-3.f, 0.f, 0.f, 0.f, 3.f, 0.f, 0.f, 0.f}, {2, 4}));
  EXPECT_EQ(predicted.astype(DType::kInt64).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1}));
}

TEST(TrainerTest, ShuffledOrderIsASeededPermutationPerEpoch) {
  std::vector<int64_t> a(50), b(50), c(50), d(50);
  ShuffledOrder(7, 0, a);
  ShuffledOrder(7, 0, b);
  ShuffledOrder(7, 1, c);
  ShuffledOrder(8, 0, d);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  std::sort(c.begin(), c.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(c[i], i);
}

TEST(TrainerTest, ValidatesEveryNStepsAndCallsBackEveryStep) {
  TensorDataset train = Blobs(64, 1), test = Blobs(32, 2);
  optim::Momentum sgd({.lr = 0.01, .momentum = 0.5});
  Trainer trainer(Softmax(1), sgd);
  std::vector<int64_t> steps, evaluated;
  TrainOptions options{.epochs = 2, .batch_size = 8, .validate_every = 3};
  options.on_step = [&](const StepReport& s) {
    steps.push_back(s.step);
    EXPECT_TRUE(std::isfinite(s.loss));
  };
  options.on_evaluation = [&](const EvaluationReport& e) {
    evaluated.push_back(e.step);
  };
  trainer.Train(train, &test, options);
  EXPECT_EQ(steps.size(), 16u);
  EXPECT_EQ(steps.back(), 16);
  // Every 3 steps, and at the end of each 8-step epoch.
  EXPECT_EQ(evaluated, (std::vector<int64_t>{3, 6, 8, 9, 12, 15, 16}));
}

// A validation loss that never improves (each step undone by the
// callback) stops training after `patience` evaluations without progress.
TEST(TrainerTest, StopsEarlyWhenValidationLossStopsImproving) {
  TensorDataset train = Blobs(64, 1), test = Blobs(32, 2);
  optim::Momentum sgd({.lr = 0.1, .momentum = 0.0});
  Trainer trainer(Softmax(1), sgd);
  const NamedTensors initial = trainer.State();
  TrainOptions options{
      .epochs = 10, .batch_size = 8, .validate_every = 1, .patience = 2};
  options.on_step = [&](const StepReport&) {
    for (size_t p = 0; p < trainer.model().params.size(); ++p) {
      trainer.model().params[p].set_value(initial[p].second);
    }
  };
  TrainResult r = trainer.Train(train, &test, options);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.steps, 3);  // improved at 1 (from nothing), stale at 2 and 3
}

std::vector<std::vector<float>> ParamValues(const Trainer& t) {
  std::vector<std::vector<float>> v;
  for (const SharedVar& p : t.model().params) {
    v.push_back(p.get_value().to_vector<float>());
  }
  return v;
}

// A run stopped after 7 steps and resumed from its state in a new Trainer
// (other initial weights, fresh optimizer) ends exactly where a run that
// never stopped ends.
TEST(TrainerTest, ResumingGivesTheSameResultsAsNeverStopping) {
  TensorDataset train = Blobs(96, 1), test = Blobs(32, 2);
  const TrainOptions options{
      .epochs = 3, .batch_size = 8, .seed = 5, .validate_every = 5};
  optim::Adam adam_a({.lr = 0.01});
  Trainer whole(Softmax(1), adam_a);
  TrainResult a = whole.Train(train, &test, options);

  optim::Adam adam_b({.lr = 0.01});
  Trainer first(Softmax(1), adam_b);
  TrainOptions stop = options;
  stop.max_steps = 7;
  EXPECT_EQ(first.Train(train, &test, stop).steps, 7);
  const NamedTensors saved = first.State();

  optim::Adam adam_c({.lr = 0.01});
  Trainer resumed(Softmax(99), adam_c);
  resumed.Restore(saved);
  EXPECT_EQ(resumed.step(), 7);
  TrainResult c = resumed.Train(train, &test, options);
  EXPECT_EQ(c.steps, a.steps);
  EXPECT_EQ(ParamValues(resumed), ParamValues(whole));
  EXPECT_EQ(c.evaluations.back().validation.loss,
            a.evaluations.back().validation.loss);
  // The optimizer state was restored too: its tensors are equal.
  const NamedTensors sa = whole.State(), sc = resumed.State();
  ASSERT_EQ(sa.size(), sc.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sc[i].first);
    EXPECT_EQ(sa[i].second.ToString(), sc[i].second.ToString()) << sa[i].first;
  }
}

// A NaN in the weights after step 5 makes step 6's loss NaN: training stops
// naming step 6 and the last checkpoint (step 4), which is left as it was.
TEST(TrainerTest, NanLossStopsNamingTheStepAndTheLastGoodCheckpoint) {
  TensorDataset train = Blobs(64, 1), test = Blobs(32, 2);
  optim::Momentum sgd({.lr = 0.01, .momentum = 0.9});
  Trainer trainer(Softmax(1), sgd);
  NamedTensors checkpoint;
  int64_t checkpoint_step = -1;
  TrainOptions options{.epochs = 2, .batch_size = 8, .validate_every = 4};
  options.on_checkpoint = [&](int64_t step) {
    checkpoint = trainer.State();
    checkpoint_step = step;
  };
  options.on_step = [&](const StepReport& s) {
    if (s.step == 5) {
      Tensor w = trainer.model().params[0].get_value();
      w.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
      trainer.model().params[0].set_value(w);
    }
  };
  try {
    trainer.Train(train, &test, options);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("training stopped at step 6: the loss is nan; the "
                          "last good checkpoint is of step 4"));
  }
  EXPECT_EQ(checkpoint_step, 4);
  EXPECT_EQ(trainer.last_checkpoint_step(), 4);
  for (float v : checkpoint[0].second.to_vector<float>()) {
    EXPECT_FALSE(std::isnan(v));
  }
}

TEST(TrainerTest, BadOptionsAreListedTogether) {
  TensorDataset train = Blobs(16, 1);
  optim::Adam adam;
  Trainer trainer(Softmax(1), adam);
  EXPECT_THAT(
      [&] {
        trainer.Train(train, nullptr,
                      {.epochs = 0, .batch_size = 17, .validate_every = -1});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr(
          "Trainer::Train: epochs=0 must be >= 1; batch_size=17 must be in "
          "[1, 16] (the training examples); validate_every=-1 must be >= 0")));
}

TEST(TrainerTest, WrongInputShapeNamesTheInputLayer) {
  optim::Adam adam;
  Trainer trainer(Softmax(1), adam);
  EXPECT_THAT(
      [&] {
        trainer.Predict(Tensor(DType::kFloat32, {3, 5}));
      },
      ::testing::ThrowsMessage<Error>(
          HasSubstr("dense \"softmax\": input must be float32 (samples, "
                    "features) = (?, 4); given float32(3, 5)")));
  TensorDataset wrong(Tensor(DType::kFloat32, {8, 6}),
                      Tensor(DType::kInt32, {8}));
  EXPECT_THAT(
      [&] { trainer.Train(wrong, nullptr, {.batch_size = 4}); },
      ::testing::ThrowsMessage<Error>(HasSubstr("given float32(4, 6)")));
}

TEST(TrainerTest, RestoringAnotherModelsStateNamesTheTensor) {
  optim::Adam adam_a, adam_b, adam_c;
  Trainer small(Softmax(1), adam_a);
  Rng rng(1);
  Trainer mlp(Mlp({.features = 4, .hidden = {3}, .classes = 2}, rng), adam_b);
  EXPECT_THAT([&] { small.Restore(mlp.State()); },
              ::testing::ThrowsMessage<Error>(HasSubstr(
                  "checkpoint does not fit model \"softmax regression\": "
                  "tensor \"softmax/W\" is missing")));
  Rng rng2(1);
  Trainer wide(SoftmaxRegression({.features = 5, .classes = 2}, rng2), adam_c);
  EXPECT_THAT([&] { small.Restore(wide.State()); },
              ::testing::ThrowsMessage<Error>(HasSubstr(
                  "tensor \"softmax/W\" is float32(5, 2), the model needs "
                  "float32(4, 2)")));
}

// An LSTM language model learns a repeating sequence 0 1 2 3 0 1 2 3 ...
// (each token predicts the next), and an LSTM classifier and an MLP train.
TEST(TrainerTest, LstmLanguageModelLearnsARepeatingSequence) {
  const int64_t n = 32, steps = 6, vocabulary = 4;
  Tensor x(DType::kInt32, {n, steps}), y(DType::kInt32, {n, steps});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t t = 0; t < steps; ++t) {
      x.data<int32_t>()[i * steps + t] = (i + t) % vocabulary;
      y.data<int32_t>()[i * steps + t] = (i + t + 1) % vocabulary;
    }
  }
  TensorDataset data(x, y, /*time_major=*/true);
  Rng rng(3);
  optim::Adam adam({.lr = 0.05});
  Trainer trainer(
      LstmLanguageModel(
          {.vocabulary = vocabulary, .embedding = 8, .hidden = 16}, rng),
      adam);
  trainer.Train(data, &data, {.epochs = 20, .batch_size = 8});
  EXPECT_GT(trainer.Evaluate(data).accuracy, 0.95);
}

TEST(TrainerTest, LstmClassifierTellsSequencesApart) {
  // Class 1 sequences rise over time, class 0 sequences fall.
  const int64_t n = 64, steps = 5;
  Tensor x(DType::kFloat32, {n, steps, 1}), y(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) {
    const int label = i % 2;
    y.data<int32_t>()[i] = label;
    for (int64_t t = 0; t < steps; ++t) {
      x.data<float>()[i * steps + t] =
          (label ? t : steps - t) * 0.2f + 0.01f * (i % 7);
    }
  }
  TensorDataset data(x, y, /*time_major=*/true);
  Rng rng(3);
  optim::Adam adam({.lr = 0.05});
  Trainer trainer(
      LstmClassifier({.features = 1, .hidden = 8, .classes = 2, .layers = 2},
                     rng),
      adam);
  trainer.Train(data, nullptr, {.epochs = 15, .batch_size = 16});
  EXPECT_EQ(trainer.Evaluate(data).accuracy, 1.0);
}

TEST(TrainerTest, LstmClassifierStandardisesItsInputInTheGraph) {
  // The same weights (same seed) give on raw x with input_mean and
  // input_scale exactly the loss the plain model gives on standardised x.
  const int64_t n = 8, steps = 3, features = 2;
  Tensor x(DType::kFloat32, {n, steps, features});
  Tensor standardised(DType::kFloat32, {n, steps, features});
  Tensor y(DType::kInt32, {n});
  for (int64_t i = 0; i < x.size(); ++i) {
    x.data<float>()[i] = 0.1f * static_cast<float>(i % 11);
    standardised.data<float>()[i] = (x.data<float>()[i] - 0.25f) * 4.0f;
  }
  for (int64_t i = 0; i < n; ++i) y.data<int32_t>()[i] = i % 4;
  TensorDataset raw_data(x, y, /*time_major=*/true);
  TensorDataset standardised_data(standardised, y, /*time_major=*/true);
  optim::Adam a, b;
  Rng rng_a(5), rng_b(5);
  Trainer with(LstmClassifier({.features = features,
                               .hidden = 3,
                               .classes = 4,
                               .input_mean = 0.25,
                               .input_scale = 4.0},
                              rng_a),
               a);
  Trainer plain(
      LstmClassifier({.features = features, .hidden = 3, .classes = 4}, rng_b),
      b);
  const double loss = plain.Evaluate(standardised_data).loss;
  EXPECT_NEAR(with.Evaluate(raw_data).loss, loss, 1e-6);
  EXPECT_GT(std::abs(plain.Evaluate(raw_data).loss - loss), 1e-4);
  EXPECT_THAT(
      [] {
        Rng rng(1);
        LstmClassifier({.input_scale = 0.0}, rng);
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("input_scale=0")));
}

}  // namespace
}  // namespace theta::models
