// A loop's body may overwrite a sequence row it has read for the last time
// when the sequence's outer array dies at the loop (LaunchContext::
// inputs_dying, Executable::GetPlan's writable inputs). An LSTM-like step,
// z_t = x_t + h_{t-1} U cut into two gates, then accumulates h U into x_t's
// row in place (a GEMM with beta 1), as a hand-written loop does, instead of
// copying the row first. Counted on the fault-injecting plugin, whose
// counters see every kernel and copy.
#include <cstdlib>
#include <string>
#include <vector>

#include "autodiff/grad.h"
#include "backends/registry.h"
#include "backends/testing/faulty_plugin.h"
#include "compile/function.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"
#include "scan/scan.h"

namespace theta {
namespace {

using Args = std::vector<Var>;
using testing::Random;

constexpr int64_t kSteps = 6, kBatch = 3, kHidden = 4;

// tanh(z[:, :H]) * sigmoid(z[:, H:]) for z = x_t + h U: the gates read
// slices of z, so the sum stays a GEMM with beta 1 over x_t.
Var Gated(const Var& z) {
  return tanh(slice(z, {Slice::All(), Slice(0, kHidden)})) *
         sigmoid(slice(z, {Slice::All(), Slice(kHidden, 2 * kHidden)}));
}

std::string FaultyPath() {
  const char* root = std::getenv("TEST_SRCDIR");
  return std::string(root != nullptr ? root : ".") +
         "/theta/backends/testing/libtheta_faulty.so";
}

class ScanInPlaceSequenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<backends::Backend*> b = backends::GetBackend(FaultyPath());
    ASSERT_TRUE(b.ok()) << b.status();
    control_ = static_cast<const theta_faulty_control*>(
        (*b)->api().get_extension((*b)->plugin(), kFaultyControlExtension));
    ASSERT_NE(control_, nullptr);
  }

  // Kernels and copies of one call of `f` (after a first call that plans).
  int64_t OperationsPerCall(Function& f) {
    f(values_);
    auto count = [&] {
      return control_->calls(THETA_FAULT_KERNEL) +
             control_->calls(THETA_FAULT_TRANSFER);
    };
    const int64_t before = count();
    f(values_);
    return count() - before;
  }

  Var x_ = ftensor3("x"), h0_ = fmatrix("h0"), u_ = fmatrix("u");
  // The sequence is an intermediate of the plan: its own arena block.
  Var sequence_ = x_ * 2.0f;
  ScanResult loop_ = scan(
      [](const Args& in) {  // fn(x[t], h[t-1], U)
        return StepResult{{Gated(in[0] + dot(in[1], in[2]))}};
      },
      {.sequences = {sequence_}, .outputs_info = {h0_}, .non_sequences = {u_}});
  const std::vector<Tensor> values_ = {
      Random(DType::kFloat32, {kSteps, kBatch, 2 * kHidden}, 1),
      Random(DType::kFloat32, {kBatch, kHidden}, 2),
      Random(DType::kFloat32, {kHidden, 2 * kHidden}, 3)};
  const theta_faulty_control* control_ = nullptr;
};

TEST_F(ScanInPlaceSequenceTest, ADyingSequenceIsAccumulatedIntoInPlace) {
  Function dying =
      function({x_, h0_, u_}, {loop_.outputs[0]}, {.backend = FaultyPath()});
  // The sequence is also an output: read after the loop, it must survive.
  Function kept = function({x_, h0_, u_}, {loop_.outputs[0], sequence_},
                           {.backend = FaultyPath()});
  // `kept` copies its second output out; beyond that, `dying` makes one
  // copy of x_t per step fewer. The same values either way, and the kept
  // sequence intact.
  EXPECT_EQ(OperationsPerCall(kept) - OperationsPerCall(dying), kSteps + 1);
  const std::vector<Tensor> a = dying(values_);
  const std::vector<Tensor> b = kept(values_);
  EXPECT_EQ(a[0].to_vector<float>(), b[0].to_vector<float>());
  const std::vector<float> x = values_[0].to_vector<float>();
  const std::vector<float> kept_sequence = b[1].to_vector<float>();
  ASSERT_EQ(kept_sequence.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(kept_sequence[i], 2.0f * x[i]) << "element " << i;
  }
}

// A sequence that the body also reads whole (as a non-sequence) is read
// after its row's step: never written either.
TEST_F(ScanInPlaceSequenceTest, ASequenceAlsoReadWholeIsNotWritten) {
  auto step = [](const Args& in) {  // fn(x[t], h[t-1], U, xs)
    // xs read after z, which the step would write over x's row t, and
    // through the step's own z (so no rewrite hoists it out of the loop).
    Var z = in[0] + dot(in[1], in[2]);
    return StepResult{{Gated(z + sum(in[3] * z, {0}))}};
  };
  ScanResult also_whole = scan(step, {.sequences = {sequence_},
                                      .outputs_info = {h0_},
                                      .non_sequences = {u_, sequence_}});
  Function on_faulty = function({x_, h0_, u_}, {also_whole.outputs[0]},
                                {.backend = FaultyPath()});
  // The sequence kept alive past the loop: nothing may overwrite it.
  Function kept = function({x_, h0_, u_}, {also_whole.outputs[0], sequence_},
                           {.backend = FaultyPath()});
  EXPECT_EQ(on_faulty(values_)[0].to_vector<float>(),
            kept(values_)[0].to_vector<float>());
}

// In a training step the backward loop reads the saved gates, not the
// sequence's rows, so it does not keep the sequence alive: the forward
// loop still accumulates into it in place.
TEST_F(ScanInPlaceSequenceTest, GradientLeavesTheForwardLoopInPlace) {
  std::vector<Var> g = grad(sum(loop_.outputs[0]), {u_, h0_});
  Function dying = function({x_, h0_, u_}, g, {.backend = FaultyPath()});
  Function kept = function({x_, h0_, u_}, {g[0], g[1], sequence_},
                           {.backend = FaultyPath()});
  EXPECT_EQ(OperationsPerCall(kept) - OperationsPerCall(dying), kSteps + 1);
  const std::vector<Tensor> a = dying(values_);
  const std::vector<Tensor> b = kept(values_);
  EXPECT_EQ(a[0].to_vector<float>(), b[0].to_vector<float>());
  EXPECT_EQ(a[1].to_vector<float>(), b[1].to_vector<float>());
}

// A sequence read at two taps is read again a step later: never written.
TEST_F(ScanInPlaceSequenceTest, ASequenceReadAtTwoTapsIsNotWritten) {
  ScanResult two_taps = scan(
      [](const Args& in) {  // fn(x[t-1], x[t], h[t-1], U)
        return StepResult{{Gated(in[1] + dot(in[2], in[3]) + in[0])}};
      },
      {.sequences = {Sequence(sequence_, {-1, 0})},
       .outputs_info = {h0_},
       .non_sequences = {u_}});
  Function dying =
      function({x_, h0_, u_}, {two_taps.outputs[0]}, {.backend = FaultyPath()});
  // The sequence kept alive past the loop: nothing may overwrite it.
  Function kept = function({x_, h0_, u_}, {two_taps.outputs[0], sequence_},
                           {.backend = FaultyPath()});
  EXPECT_EQ(dying(values_)[0].to_vector<float>(),
            kept(values_)[0].to_vector<float>());
}

}  // namespace
}  // namespace theta
