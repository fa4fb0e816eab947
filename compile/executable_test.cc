// Plans of executables whose outputs go to the caller's arrays, as a loop
// body's do. (Built with the op library: graph alone has no ops to plan.)
#include "compile/executable.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "backends/registry.h"
#include "base/error.h"
#include "gmock/gmock.h"
#include "graph/function_graph.h"
#include "graph/rewrite.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using testing::AllClose;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Random;

std::unique_ptr<Executable> WithExternalArrays(
    std::vector<Var> inputs, std::vector<Var> outputs,
    std::vector<std::string> excluded_rewrites = {}) {
  auto graph = std::make_unique<FunctionGraph>(inputs, outputs);
  RewriteGraph(*graph, RewriteOptions{.excluded = excluded_rewrites});
  ExecutableOptions options;
  options.name = "body";
  options.external_inputs = true;
  options.external_outputs = true;
  absl::StatusOr<std::unique_ptr<Executable>> exe = Executable::Create(
      std::move(graph), std::move(inputs), backends::current(), options);
  ThrowIfError(exe.status());
  return *std::move(exe);
}

// Runs `exe` on `inputs` (float64 matrices) and returns its outputs, of the
// given shapes, through device arrays.
std::vector<Tensor> RunWithArrays(Executable& exe, Plan& plan,
                                  const std::vector<Tensor>& inputs,
                                  const std::vector<Dims>& output_shapes) {
  backends::Backend& backend = backends::current();
  std::vector<backends::Buffer> buffers;
  std::vector<void*> in, out;
  for (const Tensor& t : inputs) {
    buffers.push_back(*backend.Allocate(t.nbytes()));
    EXPECT_TRUE(
        backend.CopyToDevice(buffers.back().data(), t.raw_data(), t.nbytes())
            .ok());
    in.push_back(buffers.back().data());
  }
  std::vector<Tensor> results;
  for (const Dims& shape : output_shapes) {
    results.emplace_back(DType::kFloat64,
                         std::vector<int64_t>(shape.begin(), shape.end()));
    buffers.push_back(*backend.Allocate(results.back().nbytes()));
    out.push_back(buffers.back().data());
  }
  EXPECT_TRUE(exe.Run(plan, {}, in, out, {}).ok());
  for (size_t o = 0; o < results.size(); ++o) {
    EXPECT_TRUE(
        backend.CopyToHost(results[o].raw_data(), out[o], results[o].nbytes())
            .ok());
  }
  EXPECT_TRUE(backend.Synchronize().ok());
  return results;
}

// zeros, incremented in two column blocks: the way the gradient through
// slices of one tensor is built.
Var TwoBlocks(const Var& g) {
  Var z = zeros({3, 4}, DType::kFloat64);
  Var y = inc_subtensor(slice(z, {Slice::All(), Slice(0, 2)}), exp(g));
  return inc_subtensor(slice(y, {Slice::All(), Slice(2, 4)}), g * 2.0);
}

// TwoBlocks(g) for g of shape (3, 2), computed here.
std::vector<double> ExpectedTwoBlocks(const Tensor& g) {
  std::vector<double> expected;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 2; ++c)
      expected.push_back(std::exp(g.GetAsDouble(r * 2 + c)));
    for (int c = 0; c < 2; ++c)
      expected.push_back(2 * g.GetAsDouble(r * 2 + c));
  }
  return expected;
}

// Writable-input flags are part of a plan's key, a missing flag counting as
// false: a loop's shape inference (no flags) and its launch (all false) share
// one plan, and a flag set asks for another.
TEST(ExecutableTest, MissingWritableFlagsAreFalseInThePlanKey) {
  Var x = dmatrix("x"), y = dmatrix("y");
  std::unique_ptr<Executable> exe = WithExternalArrays({x, y}, {exp(x) + y});
  const std::vector<Dims> shapes = {Dims{3, 2}, Dims{3, 2}};
  const bool none[] = {false, false}, first[] = {true, false};
  ASSERT_TRUE(exe->GetPlan(shapes, {}, {}).ok());
  ASSERT_TRUE(exe->GetPlan(shapes, {}, {}, none).ok());
  EXPECT_EQ(exe->plans_built(), 1);
  ASSERT_TRUE(exe->GetPlan(shapes, {}, {}, first).ok());
  EXPECT_EQ(exe->plans_built(), 2);
  ASSERT_TRUE(exe->GetPlan(shapes, {}, {}, none).ok());
  EXPECT_EQ(exe->plans_built(), 2);
}

TEST(ExecutableTest, AnOutputBuiltInPlaceIsBuiltInTheCallersArray) {
  Var g = dmatrix("g");
  // The increments stay a chain (merged, they would be one PlaceInZeros).
  std::unique_ptr<Executable> exe =
      WithExternalArrays({g}, {TwoBlocks(g)}, {"merge_placements"});
  const std::vector<Dims> shapes = {Dims{3, 2}};
  absl::StatusOr<Plan*> plan = exe->GetPlan(shapes, {}, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  // The zeros (with the first block placed) and the increment write the
  // output's array; nothing is built in the arena and copied there.
  for (const std::string& line : (*plan)->description()) {
    if (line.find("PlaceInZeros") != std::string::npos ||
        line.find("Alloc") != std::string::npos ||
        line.find("IncSubtensor") != std::string::npos) {
      EXPECT_THAT(line, HasSubstr("-> slot")) << line;
    }
    EXPECT_THAT(line, Not(HasSubstr("copy"))) << line;
  }
  Tensor gv = Random(DType::kFloat64, {3, 2}, 1);
  Tensor y = RunWithArrays(*exe, **plan, {gv}, {Dims{3, 4}})[0];
  EXPECT_TRUE(AllClose(y, ExpectedTwoBlocks(gv), 1e-12, 1e-12));
}

// An intermediate that another output also reads keeps its own buffer: built
// in the first output's array, it would be changed under the second.
TEST(ExecutableTest, AnIntermediateReadTwiceIsNotBuiltInAnOutput) {
  Var g = dmatrix("g");
  Var z = zeros({3, 4}, DType::kFloat64);
  Var first = inc_subtensor(slice(z, {Slice::All(), Slice(0, 2)}), g);
  Var y = inc_subtensor(slice(first, {Slice::All(), Slice(2, 4)}), g);
  Var w = first * 3.0;
  std::unique_ptr<Executable> exe = WithExternalArrays({g}, {y, w});
  const std::vector<Dims> shapes = {Dims{3, 2}};
  absl::StatusOr<Plan*> plan = exe->GetPlan(shapes, {}, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  Tensor gv = Random(DType::kFloat64, {3, 2}, 2);
  std::vector<Tensor> out =
      RunWithArrays(*exe, **plan, {gv}, {Dims{3, 4}, Dims{3, 4}});
  std::vector<double> expected_y, expected_w;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) {
      const double v = gv.GetAsDouble(r * 2 + c % 2);
      expected_y.push_back(v);
      expected_w.push_back(c < 2 ? 3 * v : 0);
    }
  }
  EXPECT_TRUE(AllClose(out[0], expected_y, 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(out[1], expected_w, 1e-12, 1e-12));
}

// Values placed into the blocks of zeros that they cover (merged into one
// PlaceInZeros) are computed in their windows of the caller's array: the
// placement has no launch at all, and nothing is built in the arena.
TEST(ExecutableTest, ValuesCoveringAPlacementAreComputedInTheirWindows) {
  Var g = dmatrix("g");
  std::unique_ptr<Executable> exe = WithExternalArrays({g}, {TwoBlocks(g)});
  const std::vector<Dims> shapes = {Dims{3, 2}};
  absl::StatusOr<Plan*> plan = exe->GetPlan(shapes, {}, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ((*plan)->arena_bytes(), 0)
      << absl::StrJoin((*plan)->description(), "\n");
  for (const std::string& line : (*plan)->description()) {
    EXPECT_THAT(line, Not(HasSubstr("arena"))) << line;
    EXPECT_THAT(line, Not(HasSubstr("PlaceInZeros"))) << line;
  }
  Tensor gv = Random(DType::kFloat64, {3, 2}, 3);
  Tensor y = RunWithArrays(*exe, **plan, {gv}, {Dims{3, 4}})[0];
  EXPECT_TRUE(AllClose(y, ExpectedTwoBlocks(gv), 1e-12, 1e-12));
}

// Parts that leave a gap get no windows: the placement writes zeros over the
// whole output, which would erase values computed there first. (A value
// that something else reads too keeps its own array as well.)
TEST(ExecutableTest, ValuesReadElsewhereOrOverAGapStayInTheArena) {
  Var g = dmatrix("g");
  Var z = zeros({3, 5}, DType::kFloat64);
  Var e = exp(g);
  Var shared = inc_subtensor(
      slice(inc_subtensor(slice(z, {Slice::All(), Slice(0, 2)}), e),
            {Slice::All(), Slice(2, 4)}),
      g * 2.0);  // column 4 stays zero
  std::unique_ptr<Executable> exe = WithExternalArrays({g}, {shared, e * 3.0});
  const std::vector<Dims> shapes = {Dims{3, 2}};
  absl::StatusOr<Plan*> plan = exe->GetPlan(shapes, {}, {});
  ASSERT_TRUE(plan.ok()) << plan.status();
  Tensor gv = Random(DType::kFloat64, {3, 2}, 4);
  std::vector<Tensor> out =
      RunWithArrays(*exe, **plan, {gv}, {Dims{3, 5}, Dims{3, 2}});
  std::vector<double> expected, expected_e;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 2; ++c)
      expected.push_back(std::exp(gv.GetAsDouble(r * 2 + c)));
    for (int c = 0; c < 2; ++c)
      expected.push_back(2 * gv.GetAsDouble(r * 2 + c));
    expected.push_back(0);
    for (int c = 0; c < 2; ++c)
      expected_e.push_back(3 * std::exp(gv.GetAsDouble(r * 2 + c)));
  }
  EXPECT_TRUE(AllClose(out[0], expected, 1e-12, 1e-12));
  EXPECT_TRUE(AllClose(out[1], expected_e, 1e-12, 1e-12));
}

}  // namespace
}  // namespace theta
