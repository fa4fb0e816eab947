// Calls on a backend whose memory is the host's (the CPU plugin,
// THETA_DEVICE_HOST_MEMORY): kernels read the caller's input tensors and
// write its output tensors in place. These tests hold that path to the
// results of the copying path, which the fault-injecting plugin takes (it
// presents the same CPU as device memory), and check what must never
// happen: a kernel writing an input, or a call writing a tensor the caller
// still holds.
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/registry.h"
#include "compile/function.h"
#include "graph/shared.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::Random;

std::string DeviceMemoryBackend() {
  const char* root = std::getenv("TEST_SRCDIR");
  return std::string(root != nullptr ? root : ".") +
         "/theta/backends/testing/libtheta_faulty.so";
}

// The values of `t`, for comparisons that must be exact.
std::vector<float> Values(const Tensor& t) { return t.to_vector<float>(); }

// Runs `outputs` of `inputs` on both paths and expects the same bits.
void ExpectSameAsCopyingPath(const std::vector<Var>& inputs,
                             const std::vector<Var>& outputs,
                             const std::vector<Tensor>& values) {
  Function in_place = function(inputs, outputs);
  Function copying =
      function(inputs, outputs, {.backend = DeviceMemoryBackend()});
  ASSERT_TRUE(in_place.backend().memory_is_host());
  ASSERT_FALSE(copying.backend().memory_is_host());
  const std::vector<Tensor> got = in_place(values);
  const std::vector<Tensor> want = copying(values);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].dims(), want[i].dims()) << "output " << i;
    EXPECT_EQ(Values(got[i]), Values(want[i])) << "output " << i;
  }
  EXPECT_EQ(in_place.stats().inputs_copied, 0);
  EXPECT_GT(copying.stats().inputs_copied, 0);
}

TEST(HostMemoryCallTest, ResultsMatchTheCopyingPath) {
  Var x = fmatrix("x"), w = fmatrix("w");
  ExpectSameAsCopyingPath(
      {x, w}, {nnet::softmax(dot(x, w)), tanh(x) * 2.0f + 1.0f, sum(x, {1})},
      {Random(DType::kFloat32, {5, 7}, 1), Random(DType::kFloat32, {7, 3}, 2)});
}

// Empty and 0-d tensors are bound like any other.
TEST(HostMemoryCallTest, EmptyAndScalarTensors) {
  Var x = fmatrix("x"), s = fscalar("s");
  ExpectSameAsCopyingPath(
      {x, s}, {x * s, sum(x, {0}), s * 2.0f},
      {Tensor(DType::kFloat32, {0, 3}), Tensor::Scalar<float>(1.5f)});
  Function f = function({x, s}, {x * s, sum(x, {0})});
  const std::vector<Tensor> out =
      f({Tensor(DType::kFloat32, {0, 3}), Tensor::Scalar<float>(2)});
  EXPECT_EQ(out[0].dims(), (Dims{0, 3}));
  EXPECT_EQ(Values(out[1]), (std::vector<float>{0, 0, 0}));
}

// An output that is an input, a view of one or a shared variable is still
// a tensor of its own.
TEST(HostMemoryCallTest, InputsAndViewsOfThemComeBackAsCopies) {
  Var x = fmatrix("x");
  const Tensor value = Random(DType::kFloat32, {3, 4}, 3);
  ExpectSameAsCopyingPath({x}, {x, transpose(x), slice(x, {Slice(1, 3)})},
                          {value});
  Function f = function({x}, {x, transpose(x)});
  std::vector<Tensor> out = f({value});
  EXPECT_NE(out[0].raw_data(), value.raw_data());
  const std::vector<float> before = Values(value);
  out[0].data<float>()[0] += 1;
  EXPECT_EQ(Values(value), before);
}

// Kernels that would run in place over an uploaded copy of the input (an
// elementwise chain, an increment of a slice) leave the caller's tensor as
// it was.
TEST(HostMemoryCallTest, KernelsNeverWriteAnInput) {
  Var x = fmatrix("x");
  Function f = function({x}, {exp(x) * 2.0f + 1.0f,
                              inc_subtensor(slice(x, {Slice(0, 1)}), 5.0f)});
  const Tensor value = Random(DType::kFloat32, {4, 6}, 4);
  const std::vector<float> before = Values(value);
  f({value});
  f({value});
  EXPECT_EQ(Values(value), before);
  EXPECT_EQ(f.stats().inputs_copied, 0);
}

// Call reuses an output tensor only while `outputs` alone holds it: one the
// caller kept keeps its values, and a second call with the same shapes
// writes into the same storage as the first.
TEST(HostMemoryCallTest, OutputsAreReusedOnlyWhenNobodyElseHoldsThem) {
  Var x = fvector("x");
  Function f = function({x}, {x * 3.0f});
  std::vector<Tensor> outputs;
  auto call = [&](std::vector<float> values) {
    const std::vector<Tensor> inputs = {Tensor(values)};
    f.Call(inputs, outputs);
  };
  call({1, 2});
  const void* storage = outputs[0].raw_data();
  call({3, 4});
  EXPECT_EQ(outputs[0].raw_data(), storage);
  EXPECT_EQ(Values(outputs[0]), (std::vector<float>{9, 12}));

  const Tensor kept = outputs[0];
  call({5, 6});
  EXPECT_EQ(Values(kept), (std::vector<float>{9, 12}));
  EXPECT_EQ(Values(outputs[0]), (std::vector<float>{15, 18}));
  EXPECT_NE(outputs[0].raw_data(), kept.raw_data());
}

// The outputs passed back as the inputs: a product must not be written
// over the operands it is still reading.
TEST(HostMemoryCallTest, OutputsPassedBackAsInputsAreNotOverwritten) {
  Var a = fmatrix("a");
  Function square = function({a}, {dot(a, a)});
  std::vector<Tensor> io = {Tensor(std::vector<float>{1, 2, 3, 4}, {2, 2})};
  square.Call(io, io);
  EXPECT_EQ(Values(io[0]), (std::vector<float>{7, 10, 15, 22}));
  square.Call(io, io);
  EXPECT_EQ(Values(io[0]), (std::vector<float>{199, 290, 435, 634}));
}

// Outputs computed on the host (a shape) and updates alongside outputs
// written in place.
TEST(HostMemoryCallTest, HostValueOutputsAndUpdates) {
  Var x = fvector("x");
  SharedVar total = shared(Tensor::Scalar<float>(0), "total");
  Function f = function({x}, {shape_i(x, 0), total + sum(x)},
                        {.updates = {{total, total + sum(x)}}});
  std::vector<Tensor> out = f({Tensor(std::vector<float>{1, 2, 3})});
  EXPECT_EQ(out[0].item<int64_t>(), 3);
  EXPECT_FLOAT_EQ(out[1].item<float>(), 6);
  out = f({Tensor(std::vector<float>{4})});
  EXPECT_EQ(out[0].item<int64_t>(), 1);
  EXPECT_FLOAT_EQ(out[1].item<float>(), 10);
  EXPECT_FLOAT_EQ(total.get_value().item<float>(), 10);
}

}  // namespace
}  // namespace theta
