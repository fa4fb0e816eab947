// THETA_DETERMINISTIC=1 end to end: a few SGD steps of an LSTM classifier
// (scan, its gradient, GEMMs cut into blocks, fused elementwise kernels,
// softmax cross-entropy, reductions) end at bitwise the same parameters and
// losses with THETA_NUM_THREADS=1, 2 and 4. Each thread count runs in a
// child process (this binary, re-executed with THETA_DETERMINISM_CHILD set),
// because the CPU plugin reads the variables once, when it is created.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "compile/function.h"
#include "graph/shared.h"
#include "models/init.h"
#include "models/lstm.h"
#include "ops/ops.h"
#include "optim/sgd.h"

namespace theta {
namespace {

constexpr int64_t kSteps = 4, kBatch = 128, kInputs = 300, kHidden = 64;
constexpr int64_t kClasses = 10;
constexpr int kUpdates = 4;

// Appends the bits of every float of `t` to `out` as hex.
void AppendBits(const Tensor& t, std::string* out) {
  for (float v : t.to_vector<float>()) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    char text[12];
    std::snprintf(text, sizeof(text), "%08x", bits);
    *out += text;
  }
  *out += "\n";
}

// Trains kUpdates SGD steps on fixed random data; prints every loss and the
// final parameters as hex bits.
int RunChild() {
  models::Rng rng(7);
  models::Lstm lstm(kInputs, kHidden, rng);
  SharedVar v = shared(models::Uniform({kHidden, kClasses}, 0.3, rng), "V");
  SharedVar c = shared(models::Constant({kClasses}, 0.0), "c");
  Var x = ftensor3("x");
  Var y = ivector("y");
  Var logits = dot(lstm(x).last, v) + c;
  Var loss = mean(nnet::categorical_crossentropy(nnet::softmax(logits), y));
  std::vector<SharedVar> params = lstm.params();
  params.push_back(v);
  params.push_back(c);
  optim::Sgd sgd({.lr = 0.5});
  Function step =
      function({x, y}, {loss}, {.updates = sgd.minimize(loss, params)});
  std::string out;
  for (int i = 0; i < kUpdates; ++i) {
    Tensor xs = models::Uniform({kSteps, kBatch, kInputs}, 1.0, rng);
    std::vector<int32_t> labels(kBatch);
    for (int64_t b = 0; b < kBatch; ++b) {
      labels[b] = static_cast<int32_t>(rng() % kClasses);
    }
    AppendBits(step({xs, Tensor(labels, {kBatch})})[0], &out);
  }
  for (const SharedVar& p : params) AppendBits(p.get_value(), &out);
  std::fputs(out.c_str(), stdout);
  return 0;
}

// Runs this binary as a child under THETA_NUM_THREADS=threads and
// THETA_DETERMINISTIC=1; returns what it printed.
std::string TrainWithThreads(int threads) {
  const std::string command =
      "THETA_DETERMINISM_CHILD=1 THETA_DETERMINISTIC=1 THETA_NUM_THREADS=" +
      std::to_string(threads) + " /proc/" + std::to_string(getpid()) + "/exe";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return "";
  }
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    out.append(buffer, n);
  }
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << command << " failed: status " << status;
  return out;
}

TEST(DeterministicTrainingTest, LstmStepsAreBitwiseTheSameForAnyThreadCount) {
  const std::string one = TrainWithThreads(1);
  // kUpdates losses, then W, U, b, V and c.
  ASSERT_EQ(std::count(one.begin(), one.end(), '\n'), kUpdates + 5) << one;
  for (int threads : {2, 4}) {
    const std::string many = TrainWithThreads(threads);
    EXPECT_TRUE(many == one)
        << "THETA_NUM_THREADS=" << threads << " differs from 1 at character "
        << std::mismatch(one.begin(), one.end(), many.begin(), many.end())
                   .first -
               one.begin();
  }
}

}  // namespace
}  // namespace theta

int main(int argc, char** argv) {
  if (std::getenv("THETA_DETERMINISM_CHILD") != nullptr) {
    return theta::RunChild();
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
