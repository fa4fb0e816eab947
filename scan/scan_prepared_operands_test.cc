// A loop's weights are prepared once per call (ABI 1.2 prepared GEMM
// operands, Executable::BeginFixedInputs): every loop-invariant B of the
// body's GEMMs is prepared when the loop starts and freed when it ends, and
// a prepared operand never outlives the values it was made from (a
// set_value or an update between calls). Values are checked against a
// plain loop computed here, whatever the plugin chooses to prepare.
#include <cmath>
#include <random>
#include <vector>

#include "autodiff/grad.h"
#include "backends/registry.h"
#include "compile/function.h"
#include "graph/shared.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "scan/scan.h"

namespace theta {
namespace {

using Args = std::vector<Var>;

constexpr int64_t kSteps = 5, kBatch = 4, kHidden = 64;

std::vector<float> RandomFloats(int64_t n, uint32_t seed, float scale) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// h_t = tanh(x_t + h_{t-1} U) in double, for every t.
std::vector<double> Reference(const std::vector<float>& x,
                              const std::vector<float>& h0,
                              const std::vector<float>& u) {
  std::vector<double> h(h0.begin(), h0.end()), out;
  for (int64_t t = 0; t < kSteps; ++t) {
    std::vector<double> next(kBatch * kHidden);
    for (int64_t b = 0; b < kBatch; ++b) {
      for (int64_t j = 0; j < kHidden; ++j) {
        double acc = x[(t * kBatch + b) * kHidden + j];
        for (int64_t i = 0; i < kHidden; ++i) {
          acc += h[b * kHidden + i] * u[i * kHidden + j];
        }
        next[b * kHidden + j] = std::tanh(acc);
      }
    }
    h = next;
    out.insert(out.end(), h.begin(), h.end());
  }
  return out;
}

void ExpectNear(const Tensor& got, const std::vector<double>& want) {
  const std::vector<float> g = got.to_vector<float>();
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_NEAR(g[i], want[i], 1e-5) << "element " << i;
  }
}

class ScanPreparedOperandsTest : public ::testing::Test {
 protected:
  ScanPreparedOperandsTest()
      : x_(ftensor3("x")),
        h0_(fmatrix("h0")),
        u_(shared(Tensor(RandomFloats(kHidden * kHidden, 1, 0.2f),
                         {kHidden, kHidden}),
                  "U")) {
    result_ = scan(
        [&](const Args& in) {  // fn(x[t], h[t-1], U)
          return StepResult{{tanh(in[0] + dot(in[1], in[2]))}};
        },
        {.sequences = {x_}, .outputs_info = {h0_}, .non_sequences = {u_}});
  }

  backends::Backend& backend() { return backends::current(); }

  Var x_, h0_;
  SharedVar u_;
  ScanResult result_;
  const std::vector<float> x_value_ =
      RandomFloats(kSteps * kBatch * kHidden, 2, 1.0f);
  const std::vector<float> h0_value_ = RandomFloats(kBatch * kHidden, 3, 1.0f);
  Tensor x() const { return Tensor(x_value_, {kSteps, kBatch, kHidden}); }
  Tensor h0() const { return Tensor(h0_value_, {kBatch, kHidden}); }
};

TEST_F(ScanPreparedOperandsTest, TheLoopsWeightsArePreparedOncePerCall) {
  Function f = function({x_, h0_}, {result_.outputs[0]});
  f({x(), h0()});  // plans
  const backends::PreparedOperandStats before =
      backend().prepared_operand_stats();
  for (int call = 0; call < 3; ++call) {
    ExpectNear(f({x(), h0()})[0], Reference(x_value_, h0_value_,
                                            u_.get_value().to_vector<float>()));
  }
  const backends::PreparedOperandStats after =
      backend().prepared_operand_stats();
  // One loop-invariant B (U in h U), asked for once per call, not per step,
  // and released when the loop ends.
  EXPECT_EQ(after.requests - before.requests, 3);
  EXPECT_EQ(after.live, 0);
  EXPECT_LE(after.prepared - before.prepared, 3);
}

TEST_F(ScanPreparedOperandsTest, SetValueBetweenCallsIsSeen) {
  Function f = function({x_, h0_}, {result_.outputs[0]});
  for (uint32_t seed : {10u, 11u, 12u}) {
    const std::vector<float> u = RandomFloats(kHidden * kHidden, seed, 0.3f);
    u_.set_value(Tensor(u, {kHidden, kHidden}));
    ExpectNear(f({x(), h0()})[0], Reference(x_value_, h0_value_, u));
  }
  EXPECT_EQ(backend().prepared_operand_stats().live, 0);
}

TEST_F(ScanPreparedOperandsTest, UpdatesBetweenCallsAreSeenForwardAndBack) {
  // A training step: the gradient's backward loop reads U transposed (a
  // second loop-invariant B), and the update writes U after the call.
  Var cost = sum(result_.outputs[0] * result_.outputs[0]);
  Var gu = grad(cost, u_);
  Function step = function({x_, h0_}, {result_.outputs[0]},
                           {.updates = {{u_, u_ - gu * 0.05}}});
  const backends::PreparedOperandStats before =
      backend().prepared_operand_stats();
  std::vector<float> previous;
  for (int call = 0; call < 3; ++call) {
    const std::vector<float> u = u_.get_value().to_vector<float>();
    EXPECT_NE(u, previous) << "the update changed nothing";
    ExpectNear(step({x(), h0()})[0], Reference(x_value_, h0_value_, u));
    previous = u;
  }
  const backends::PreparedOperandStats after =
      backend().prepared_operand_stats();
  EXPECT_GE(after.requests - before.requests, 2 * 3);
  EXPECT_EQ((after.requests - before.requests) % 3, 0);
  EXPECT_EQ(after.live, 0);
}

}  // namespace
}  // namespace theta
