// Trainer checkpoints on disk: resuming from a file continues exactly as a
// run that never stopped; a NaN loss leaves the last good checkpoint; a
// checkpoint of another model or a directory that cannot be written are
// clear errors that change nothing.
#include "models/trainer_checkpoint.h"

#include <cmath>
#include <filesystem>
#include <limits>

#include "base/error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/checkpoint.h"
#include "models/classifiers.h"
#include "optim/adam.h"

namespace theta::models {
namespace {

using ::testing::HasSubstr;

TensorDataset Blobs(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::normal_distribution<float> noise(0.f, 0.5f);
  Tensor x(DType::kFloat32, {n, 4});
  Tensor y(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) {
    y.data<int32_t>()[i] = i % 2;
    for (int64_t j = 0; j < 4; ++j) {
      x.data<float>()[i * 4 + j] = noise(rng) + (j == 0 ? 2 * (i % 2) - 1 : 0);
    }
  }
  return TensorDataset(x, y);
}

Model Mlp4(uint64_t seed) {
  Rng rng(seed);
  return Mlp({.features = 4, .hidden = {6}, .classes = 2}, rng);
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::vector<std::vector<float>> Values(const Trainer& t) {
  std::vector<std::vector<float>> v;
  for (const SharedVar& s : t.state_variables()) {
    v.push_back(s.get_value().astype(DType::kFloat32).to_vector<float>());
  }
  return v;
}

TEST(TrainerCheckpointTest, ResumingFromAFileMatchesAnUninterruptedRun) {
  TensorDataset train = Blobs(96, 1), test = Blobs(32, 2);
  const TrainOptions options{.epochs = 3,
                             .batch_size = 8,
                             .seed = 3,
                             .validate_every = 4,
                             .patience = 100};
  optim::Adam a_opt({.lr = 0.01});
  Trainer whole(Mlp4(1), a_opt);
  whole.Train(train, &test, options);

  const std::string path = TempPath("resume.safetensors");
  optim::Adam b_opt({.lr = 0.01});
  Trainer first(Mlp4(1), b_opt);
  TrainOptions stop = options;
  stop.max_steps = 13;  // mid-epoch, between evaluations
  first.Train(train, &test, stop);
  ASSERT_TRUE(SaveTrainerCheckpoint(first, path).ok());

  optim::Adam c_opt({.lr = 0.01});
  Trainer resumed(Mlp4(42), c_opt);
  absl::Status s = LoadTrainerCheckpoint(resumed, path);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(resumed.step(), 13);
  EXPECT_EQ(resumed.loop_state().best_validation_loss,
            first.loop_state().best_validation_loss);
  resumed.Train(train, &test, options);
  EXPECT_EQ(resumed.step(), whole.step());
  EXPECT_EQ(Values(resumed), Values(whole));
}

TEST(TrainerCheckpointTest, NanLossKeepsTheLastGoodCheckpointOnDisk) {
  TensorDataset train = Blobs(64, 1), test = Blobs(32, 2);
  optim::Adam opt({.lr = 0.01});
  Trainer trainer(Mlp4(1), opt);
  const std::string path = TempPath("nan.safetensors");
  TrainOptions options{.epochs = 2, .batch_size = 8, .validate_every = 3};
  options.on_checkpoint = [&](int64_t) {
    ThrowIfError(SaveTrainerCheckpoint(trainer, path));
  };
  options.on_step = [&](const StepReport& r) {
    if (r.step == 4) {
      Tensor w = trainer.model().params[0].get_value();
      w.data<float>()[0] = std::numeric_limits<float>::infinity();
      trainer.model().params[0].set_value(w);
    }
  };
  EXPECT_THAT([&] { trainer.Train(train, &test, options); },
              ::testing::ThrowsMessage<Error>(HasSubstr(
                  "training stopped at step 5: the loss is nan; the last "
                  "good checkpoint is of step 3")));
  optim::Adam opt2({.lr = 0.01});
  Trainer reloaded(Mlp4(5), opt2);
  ASSERT_TRUE(LoadTrainerCheckpoint(reloaded, path).ok());
  EXPECT_EQ(reloaded.step(), 3);
  for (const auto& values : Values(reloaded)) {
    for (float v : values) EXPECT_TRUE(std::isfinite(v));
  }
}

TEST(TrainerCheckpointTest, AnotherModelsCheckpointIsRefusedAndChangesNothing) {
  const std::string path = TempPath("softmax.safetensors");
  optim::Adam a, b;
  Rng rng(1);
  Trainer softmax(SoftmaxRegression({.features = 4, .classes = 2}, rng), a);
  ASSERT_TRUE(SaveTrainerCheckpoint(softmax, path).ok());
  Trainer mlp(Mlp4(1), b);
  const auto before = Values(mlp);
  absl::Status s = LoadTrainerCheckpoint(mlp, path);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr(path));
  EXPECT_THAT(std::string(s.message()), HasSubstr("hidden1/W"));
  EXPECT_EQ(Values(mlp), before);
  EXPECT_EQ(mlp.step(), 0);
}

TEST(TrainerCheckpointTest, UnwritableDirectoryIsAnErrorNamingThePath) {
  optim::Adam a;
  Trainer t(Mlp4(1), a);
  absl::Status s = SaveTrainerCheckpoint(t, "/proc/no/such/dir/x.safetensors");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("/proc/no/such/dir/x.safetensors"));
}

TEST(TrainerCheckpointTest, CallersMetadataIsSavedAndReservedKeysRefused) {
  const std::string path = TempPath("metadata.safetensors");
  optim::Adam a;
  Trainer t(Mlp4(1), a);
  ASSERT_TRUE(SaveTrainerCheckpoint(t, path, {{"program.model", "mlp"}}).ok());
  absl::StatusOr<SafetensorsContents> c = ReadSafetensors(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metadata.at("program.model"), "mlp");
  EXPECT_EQ(c->metadata.at("trainer.step"), "0");

  const std::string refused = TempPath("refused.safetensors");
  for (const char* key : {"trainer.step", "trainer.other", "model"}) {
    absl::Status s = SaveTrainerCheckpoint(t, refused, {{key, "1"}});
    EXPECT_FALSE(s.ok()) << key;
    EXPECT_THAT(std::string(s.message()), HasSubstr(key));
    EXPECT_FALSE(std::filesystem::exists(refused)) << key;
  }
}

}  // namespace
}  // namespace theta::models
