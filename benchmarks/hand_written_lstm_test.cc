#include "benchmarks/hand_written_lstm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/registry.h"
#include "benchmarks/bench_util.h"
#include "benchmarks/lstm_step.h"
#include "ops/test_util.h"

namespace theta::bench {
namespace {

double MaxAbsDifference(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = testing::Values(a), y = testing::Values(b);
  double most = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    most = std::max(most, std::abs(x[i] - y[i]));
  }
  return most;
}

// The reference scan_bench measures the compiled step against must compute
// the same step: the same cost and the same updated parameters, step after
// step. A learning rate of 1 makes each update the full gradient, so a wrong
// gradient shows in the parameters at the tolerance of float32.
TEST(HandWrittenLstmTest, StepsMatchTheCompiledTrainingStep) {
  const LstmConfig c{.t = 4, .b = 3, .i = 5, .h = 6, .learning_rate = 1.0f};
  LstmParameters initial = InitialLstmParameters(c);
  // Biases that are not zero, so that their broadcast is checked too.
  initial.b = UniformTensor(DType::kFloat32, {4 * c.h}, 0.5, 11);
  initial.bo = UniformTensor(DType::kFloat32, {LstmConfig::kClasses}, 0.5, 12);
  const LstmBatch batch = RandomLstmBatch(c);
  LstmStep compiled = BuildLstmStep(c, initial);
  HandWrittenLstm hand(backends::current(), c, initial, batch);

  const std::vector<Tensor> inputs = {batch.x, batch.y};
  const std::vector<const char*> names = {"W", "U", "b", "Wo", "bo"};
  LstmParameters before = initial;
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE(::testing::Message() << "step " << step);
    std::vector<Tensor> outputs;
    compiled.step.Call(inputs, outputs);
    hand.Step();
    EXPECT_NEAR(hand.Cost(), outputs[0].item<float>(), 1e-5);

    const LstmParameters after = hand.Parameters();
    const std::vector<const Tensor*> hand_values = {
        &after.w, &after.u, &after.b, &after.wo, &after.bo};
    const std::vector<const Tensor*> previous = {
        &before.w, &before.u, &before.b, &before.wo, &before.bo};
    for (size_t p = 0; p < names.size(); ++p) {
      SCOPED_TRACE(names[p]);
      const Tensor expected = compiled.parameters[p].get_value();
      EXPECT_TRUE(testing::AllClose(*hand_values[p], testing::Values(expected),
                                    1e-4, 1e-5));
      // Every parameter moves by far more than the tolerance.
      EXPECT_GT(MaxAbsDifference(expected, *previous[p]), 1e-3);
    }
    before = after;
  }
}

}  // namespace
}  // namespace theta::bench
