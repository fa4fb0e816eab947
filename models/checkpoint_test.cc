#include "models/checkpoint.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "compile/function.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "optim/adam.h"

namespace theta::models {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::vector<double> Values(const SharedVar& v) {
  return v.get_value().astype(DType::kFloat64).to_vector<double>();
}

TEST(CheckpointTest, RoundTripOfParametersAndOptimizerState) {
  const std::string path = TempDir() + "/model.safetensors";
  SharedVar w = shared(Tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3}), "W");
  SharedVar b = shared(Tensor({0.5f, -0.5f, 0.f}, {3}), "b");
  optim::Adam adam({.lr = 0.1});
  Var cost = sum(square(w)) + sum(b * 2.0);
  Function step =
      function({}, {cost}, {.updates = adam.minimize(cost, {w, b})});
  step({});
  step({});
  std::vector<SharedVar> vars = {w, b};
  for (const SharedVar& s : adam.state()) vars.push_back(s);
  std::vector<std::vector<double>> saved;
  for (const SharedVar& v : vars) saved.push_back(Values(v));
  ASSERT_TRUE(SaveCheckpoint(path, vars, {{"step", "2"}}).ok());
  step({});  // moves every variable on
  std::map<std::string, std::string> metadata;
  absl::Status s = LoadCheckpoint(path, vars, &metadata);
  ASSERT_TRUE(s.ok()) << s;
  for (size_t i = 0; i < vars.size(); ++i) {
    EXPECT_EQ(Values(vars[i]), saved[i]) << vars[i].name();
  }
  EXPECT_EQ(metadata["step"], "2");
  EXPECT_EQ(vars[2].name(), "W.m");
}

class MismatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempDir() + "/arch.safetensors";
    w_ = shared(Tensor(DType::kFloat32, {2, 3}), "W");
    b_ = shared(Tensor(DType::kFloat32, {3}), "b");
    ASSERT_TRUE(SaveCheckpoint(path_, {w_, b_}).ok());
  }
  std::string path_;
  SharedVar w_, b_;
};

TEST_F(MismatchTest, MissingTensor) {
  SharedVar c = shared(Tensor(DType::kFloat32, {3}), "c");
  EXPECT_EQ(LoadCheckpoint(path_, {w_, b_, c}).message(),
            "checkpoint " + path_ +
                " has no tensor 'c', which the model has (a checkpoint of "
                "another architecture?)");
}

TEST_F(MismatchTest, ExtraTensor) {
  EXPECT_EQ(LoadCheckpoint(path_, {w_}).message(),
            "checkpoint " + path_ +
                " has a tensor 'b' that the model does not (a checkpoint of "
                "another architecture?)");
}

TEST_F(MismatchTest, OtherShapeOrDtype) {
  SharedVar w = shared(Tensor(DType::kFloat32, {3, 3}), "W");
  EXPECT_EQ(LoadCheckpoint(path_, {w, b_}).message(),
            "checkpoint " + path_ +
                ": tensor 'W' is F32 [2, 3] in the file but F32 [3, 3] in the "
                "model (a checkpoint of another architecture?)");
  SharedVar b = shared(Tensor(DType::kFloat64, {3}), "b");
  EXPECT_EQ(LoadCheckpoint(path_, {w_, b}).message(),
            "checkpoint " + path_ +
                ": tensor 'b' is F32 [3] in the file but F64 [3] in the "
                "model (a checkpoint of another architecture?)");
}

// A failed load sets nothing, not even the variables that did fit.
TEST_F(MismatchTest, FailedLoadChangesNothing) {
  SharedVar w = shared(Tensor({9.f, 9.f, 9.f, 9.f, 9.f, 9.f}, {2, 3}), "W");
  SharedVar b = shared(Tensor({1.f, 2.f}, {2}), "b");
  EXPECT_FALSE(LoadCheckpoint(path_, {w, b}).ok());
  EXPECT_EQ(Values(w), std::vector<double>(6, 9.0));
}

TEST(CheckpointTest, UnnamedOrDuplicateVariables) {
  const std::string path = TempDir() + "/names.safetensors";
  SharedVar a = shared(Tensor(DType::kFloat32, {1}), "a");
  SharedVar unnamed = shared(Tensor(DType::kFloat32, {1}));
  EXPECT_EQ(SaveCheckpoint(path, {a, unnamed}).message(),
            "checkpoint " + path +
                ": shared variable 1 has no name; checkpoints store values by "
                "name");
  EXPECT_EQ(SaveCheckpoint(path, {a, a}).message(),
            "checkpoint " + path + ": two variables are named 'a'");
}

TEST(CheckpointTest, PrepareDirectoryCreatesIt) {
  const std::string dir = TempDir() + "/made/by/prepare";
  ASSERT_TRUE(PrepareCheckpointDirectory(dir).ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_TRUE(std::filesystem::is_empty(dir));  // the probe is gone
}

TEST(CheckpointTest, PrepareDirectoryUnderAFile) {
  const std::string file = TempDir() + "/plain_file";
  ASSERT_TRUE(SaveCheckpoint(file, {}).ok());
  EXPECT_EQ(
      PrepareCheckpointDirectory(file + "/ckpt").message(),
      "cannot create checkpoint directory " + file + "/ckpt: Not a directory");
}

// Saving into a directory that cannot be written fails with the reason and
// leaves the previous checkpoint there, loadable. Root ignores directory
// permissions, so as root the save runs in a child that gives them up.
TEST(CheckpointTest, UnwritableDirectoryKeepsThePreviousCheckpoint) {
  const std::string dir = TempDir() + "/read_only";
  const std::string path = dir + "/model.safetensors";
  ASSERT_TRUE(PrepareCheckpointDirectory(dir).ok());
  SharedVar w = shared(Tensor({1.f, 2.f}, {2}), "W");
  ASSERT_TRUE(SaveCheckpoint(path, {w}).ok());
  ASSERT_EQ(::chmod(dir.c_str(), 0555), 0);
  w.set_value(Tensor({7.f, 8.f}, {2}));
  const std::string expected_start = "cannot write checkpoint " + path +
                                     ": cannot create a file in " + dir +
                                     ": Permission denied";
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      ::_exit(2);
    }
    const std::string message(SaveCheckpoint(path, {w}).message());
    (void)!::write(fds[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
    message.append(buffer, n);
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::chmod(dir.c_str(), 0755);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // As the unprivileged user the search permission on a parent may be what
  // fails; either way the message names the directory and the reason.
  EXPECT_EQ(message.substr(0, expected_start.size()), expected_start)
      << message;
  EXPECT_NE(message.find("(the previous checkpoint, if any, is unchanged)"),
            std::string::npos);
  ASSERT_TRUE(LoadCheckpoint(path, {w}).ok());
  EXPECT_EQ(Values(w), (std::vector<double>{1, 2}));
}

}  // namespace
}  // namespace theta::models

namespace theta::models {
namespace {

// A file written by Python's safetensors package (testdata/
// make_pytorch_fixture.py) with PyTorch's tensor names loads into shared
// variables of those names.
TEST(CheckpointTest, LoadsAFileWrittenByPythonSafetensors) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> names = {
      {"lstm.weight_ih_l0", {16, 3}}, {"lstm.weight_hh_l0", {16, 4}},
      {"lstm.bias_ih_l0", {16}},      {"lstm.bias_hh_l0", {16}},
      {"fc.weight", {2, 4}},          {"fc.bias", {2}},
  };
  std::vector<SharedVar> vars;
  for (const auto& [name, shape] : names) {
    vars.push_back(
        shared(Tensor(DType::kFloat32, std::span<const int64_t>(shape)), name));
  }
  std::map<std::string, std::string> metadata;
  absl::Status s = LoadCheckpoint("models/testdata/pytorch_lstm.safetensors",
                                  vars, &metadata);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(metadata["format"], "pt");
  for (size_t t = 0; t < vars.size(); ++t) {
    std::vector<double> got = Values(vars[t]);
    ASSERT_FALSE(got.empty());
    for (size_t k = 0; k < got.size(); ++k) {
      ASSERT_EQ(got[k], (t + 1) + k / 64.0)
          << vars[t].name() << "[" << k << "]";
    }
  }
}

}  // namespace
}  // namespace theta::models
