// Compiled functions end to end: shared variables and updates, givens,
// eval, errors at build and call time, debugprint/DOT, and the promise that
// a second call with the same shapes allocates nothing.
#include "compile/function.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "backends/backend.h"
#include "compile/debugprint.h"
#include "gmock/gmock.h"
#include "graph/function_graph.h"
#include "graph/shared.h"
#include "graph/warning.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"
#include "testing/allocation_counter.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::Random;

TEST(FunctionTest, UpdatesReadOldValuesSwap) {
  SharedVar a = shared(Tensor(std::vector<double>{1, 2}), "a");
  SharedVar b = shared(Tensor(std::vector<double>{10, 20}), "b");
  Function swap = function({}, {}, {.updates = {{a, b}, {b, a}}});
  swap(std::span<const Tensor>());
  EXPECT_TRUE(AllClose(a.get_value(), {10, 20}));
  EXPECT_TRUE(AllClose(b.get_value(), {1, 2}));
  swap(std::span<const Tensor>());
  EXPECT_TRUE(AllClose(a.get_value(), {1, 2}));
  EXPECT_TRUE(AllClose(b.get_value(), {10, 20}));
}

TEST(FunctionTest, OutputsSeeTheOldValueAndUpdatesApplyAfter) {
  SharedVar counter = shared(Tensor::Scalar<double>(0), "counter");
  Var step = dscalar("step");
  Function inc = function({step}, {counter * 1.0},
                          {.updates = {{counter, counter + step}}});
  EXPECT_DOUBLE_EQ(inc({Tensor::Scalar<double>(2)})[0].item<double>(), 0);
  EXPECT_DOUBLE_EQ(inc({Tensor::Scalar<double>(3)})[0].item<double>(), 2);
  EXPECT_DOUBLE_EQ(counter.get_value().item<double>(), 5);
  counter.set_value(Tensor::Scalar<double>(100));
  EXPECT_DOUBLE_EQ(inc({Tensor::Scalar<double>(1)})[0].item<double>(), 100);
}

// An update is computed into a buffer of the plan and swapped in after the
// call succeeded (never in place over the variable, so that a failed call
// leaves it as it was): no copy, and no allocation after the first call.
TEST(FunctionTest, SgdStepUpdatesThroughASwappedBuffer) {
  SharedVar w = shared(Tensor(std::vector<float>{1, 2, 3, 4}, {2, 2}), "w");
  Var g = fmatrix("g");
  Function step = function({g}, {}, {.updates = {{w, w - 0.5f * g}}});
  Tensor gv(std::vector<float>{2, 2, 2, 2}, {2, 2});
  step({gv});
  EXPECT_TRUE(AllClose(w.get_value(), {0, 1, 2, 3}));
  EXPECT_EQ(step.stats().inplace_outputs, 0) << step.DescribePlan();
  EXPECT_EQ(step.stats().kernel_launches, 1) << step.DescribePlan();
  const int64_t allocations = step.backend().allocation_stats().allocations;
  step({gv});
  step({gv});
  EXPECT_TRUE(AllClose(w.get_value(), {-2, -1, 0, 1}));
  EXPECT_EQ(step.backend().allocation_stats().allocations, allocations);
}

TEST(FunctionTest, SharedSetValueChecksTypeAndAllowsNewShape) {
  SharedVar w = shared(Tensor(DType::kFloat32, {2, 3}), "w");
  std::string message = ErrorOf([&] {
    w.set_value(Tensor(DType::kFloat64, {2, 3}));
  });
  EXPECT_THAT(message, HasSubstr("shared variable 'w'"));
  EXPECT_THAT(message, HasSubstr("expected a float32 tensor of rank 2"));
  Function total = function({}, {sum(w)});
  w.set_value(Tensor(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}, {4, 2}));
  EXPECT_FLOAT_EQ(total(std::span<const Tensor>())[0].item<float>(), 36);
}

TEST(FunctionTest, SharedLikeAndZerosLikeFollowTheSharedShape) {
  SharedVar w = shared(Tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3}), "w");
  // After a call the value lives on the backend; its shape is still known.
  Function doubled = function({}, {}, {.updates = {{w, w * 2.0f}}});
  doubled(std::span<const Tensor>());
  EXPECT_EQ(w.value_shape(), Dims({2, 3}));
  SharedVar velocity = shared_like(w, 0.5, "w_velocity");
  EXPECT_EQ(velocity.name(), "w_velocity");
  EXPECT_EQ(velocity.dtype(), DType::kFloat32);
  EXPECT_EQ(velocity.value_shape(), Dims({2, 3}));
  EXPECT_TRUE(AllClose(velocity.get_value(), {0.5, 0.5, 0.5, 0.5, 0.5, 0.5}));
  EXPECT_TRUE(AllClose(shared_like(w).get_value(), {0, 0, 0, 0, 0, 0}));
  // zeros_like / ones_like of a shared variable follow its current shape.
  Function like = function({}, {zeros_like(w), ones_like(w)});
  w.set_value(Tensor(DType::kFloat32, {4, 1}));
  std::vector<Tensor> out = like(std::span<const Tensor>());
  EXPECT_EQ(out[0].dims(), Dims({4, 1}));
  EXPECT_TRUE(AllClose(out[0], {0, 0, 0, 0}));
  EXPECT_TRUE(AllClose(out[1], {1, 1, 1, 1}));
  EXPECT_THAT(ErrorOf([&] { shared_like(SharedVar(dmatrix("m")), 1.0); }),
              HasSubstr("'m' is not a shared variable"));
}

TEST(FunctionTest, GivensSubstituteBeforeCompiling) {
  Var x = dvector("x");
  Var y = dvector("y");
  Var z = x * 2.0;
  Function f = function({y}, {z}, {.givens = {{x, y + 1.0}}});
  EXPECT_TRUE(AllClose(f({Tensor(std::vector<double>{1, 2})})[0], {4, 6}));
}

TEST(FunctionTest, GivensReplacementsAreCopiedForEachFunction) {
  // Two live functions share one replacement expression; compiling (and
  // rewriting) each must leave it, and the other function, untouched.
  Var x = dvector("x");
  Var y = dvector("y");
  Var replacement = exp(y) * 1.0 + 0.0;
  Node* replacement_node = replacement.owner();
  const Var replacement_input = replacement_node->input(0);
  Function f = function({y}, {x * 2.0}, {.givens = {{x, replacement}}});
  Function g = function({y}, {x + 1.0}, {.givens = {{x, replacement}}});
  EXPECT_FALSE(f.graph().Contains(replacement_node));
  EXPECT_TRUE(replacement_node->input(0).is(replacement_input));
  const Tensor zeros(std::vector<double>{0, 0});
  EXPECT_TRUE(AllClose(f({zeros})[0], {2, 2}));
  EXPECT_TRUE(AllClose(g({zeros})[0], {2, 2}));
}

TEST(FunctionTest, EvalOfConstantsAndShared) {
  SharedVar s = shared(Tensor(std::vector<double>{1, 2, 3}), "s");
  EXPECT_TRUE(
      AllClose((s * 2.0 + constant(1.0, DType::kFloat64)).eval(), {3, 5, 7}));
  Var x = dvector("x");
  EXPECT_THAT(ErrorOf([&] { (x + 1.0).eval(); }),
              HasSubstr("depends on input variable 'x'"));
}

TEST(FunctionTest, CallErrorsNameTheInput) {
  Var x = matrix("x", DType::kFloat32);
  Var y = ivector("y");
  Function f =
      function({x, y}, {sum(x) + cast(sum(y), DType::kFloat32)}, {.name = "f"});
  EXPECT_THAT(ErrorOf([&] {
                f({Tensor(DType::kFloat32, {2, 2})});
              }),
              HasSubstr("function 'f' takes 2 inputs (x, y), got 1"));
  std::string dtype = ErrorOf([&] {
    f({Tensor(DType::kFloat64, {2, 2}), Tensor(DType::kInt32, {2})});
  });
  EXPECT_THAT(dtype, HasSubstr("input 0 ('x') expects float32(?, ?)"));
  EXPECT_THAT(dtype, HasSubstr("wrong dtype"));
  EXPECT_THAT(ErrorOf([&] {
                f({Tensor(DType::kFloat32, {2}), Tensor(DType::kInt32, {2})});
              }),
              HasSubstr("wrong rank"));
  // Counted nouns and articles read as English.
  Var labels = ivector("labels");
  Function one = function({labels}, {labels * 2}, {.name = "one"});
  EXPECT_THAT(ErrorOf([&] {
                one({Tensor(DType::kInt32, {2}), Tensor(DType::kInt32, {2})});
              }),
              HasSubstr("function 'one' takes 1 input (labels), got 2"));
  EXPECT_THAT(ErrorOf([&] { one({Tensor(DType::kInt64, {2})}); }),
              HasSubstr("expects int32(?), got an int64 tensor of shape (2,)"));
  EXPECT_THAT(ErrorOf([&] { one({Tensor(DType::kFloat32, {2})}); }),
              HasSubstr("got a float32 tensor"));
  Var fixed = tensor(DType::kFloat32, {kUnknownDim, 3}, "fixed");
  Function g = function({fixed}, {fixed * 2.0f});
  EXPECT_THAT(ErrorOf([&] {
                g({Tensor(DType::kFloat32, {2, 4})});
              }),
              HasSubstr("wrong size"));
}

TEST(FunctionTest, BuildErrors) {
  Var x = dvector("x");
  Var y = dvector("y");
  std::string missing = ErrorOf([&] { function({x}, {x + y}); });
  EXPECT_THAT(missing, HasSubstr("depends on input variable 'y'"));
  EXPECT_THAT(missing, HasSubstr("function_test.cc:"));
  SharedVar s = shared(Tensor(std::vector<double>{1}), "s");
  EXPECT_THAT(ErrorOf([&] {
                function({x}, {x}, {.updates = {{x, x + 1.0}}});
              }),
              HasSubstr("update target 'x' is not a shared variable"));
  EXPECT_THAT(ErrorOf([&] {
                function({}, {}, {.updates = {{s, s + 1.0}, {s, s * 2.0}}});
              }),
              HasSubstr("shared variable 's' is updated twice"));
  EXPECT_THAT(ErrorOf([&] {
                function({}, {}, {.updates = {{s, cast(s, DType::kFloat32)}}});
              }),
              HasSubstr("cast the new value"));
  EXPECT_THAT(ErrorOf([&] { function({s}, {s}); }),
              HasSubstr("is a shared variable"));
}

TEST(FunctionTest, UnusedInputRaisesByDefaultWarnsOrIsIgnored) {
  Var x = dvector("x");
  Var y = dvector("y");
  const Tensor one(std::vector<double>{1});
  std::string unused = ErrorOf([&] { function({x, y}, {x * 2.0}); });
  EXPECT_THAT(unused, HasSubstr("input 1 ('y', float64"));
  EXPECT_THAT(unused, HasSubstr("is not used by any output or update"));
  EXPECT_THAT(unused, HasSubstr(".on_unused_input = OnUnusedInput::kWarn"));
  EXPECT_THAT(unused, HasSubstr("function_test.cc:"));
  // Used only by an update, or only through givens: used.
  SharedVar total = shared(Tensor(std::vector<double>{0}), "total");
  Function add = function({y}, {}, {.updates = {{total, total + y}}});
  add({one});
  EXPECT_TRUE(AllClose(total.get_value(), {1}));
  Var z = dvector("z");
  Function given = function({y}, {z * 2.0}, {.givens = {{z, y}}});
  EXPECT_TRUE(AllClose(given({one})[0], {2}));
  // Replaced by givens, x itself is unused.
  EXPECT_THAT(ErrorOf([&] {
                function({x, y}, {x * 2.0}, {.givens = {{x, y}}});
              }),
              HasSubstr("input 0 ('x', float64"));
  // kWarn: compiles, warns once through the handler; the input still takes
  // a value.
  std::vector<std::string> warnings;
  Function warned;
  {
    ScopedWarningHandler capture(
        [&](std::string_view message) { warnings.emplace_back(message); });
    warned =
        function({x, y}, {x * 2.0},
                 {.name = "warned", .on_unused_input = OnUnusedInput::kWarn});
  }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0],
              HasSubstr("function 'warned': input 1 ('y', float64"));
  EXPECT_TRUE(AllClose(warned({one, one})[0], {2}));
  EXPECT_THAT(ErrorOf([&] { warned({one}); }), HasSubstr("takes 2 inputs"));
  // kIgnore: silent.
  warnings.clear();
  {
    ScopedWarningHandler capture(
        [&](std::string_view message) { warnings.emplace_back(message); });
    Function ignored = function({x, y}, {x * 2.0},
                                {.on_unused_input = OnUnusedInput::kIgnore});
    EXPECT_TRUE(AllClose(ignored({one, one})[0], {2}));
  }
  EXPECT_TRUE(warnings.empty());
}

TEST(FunctionTest, NodesRecordLocationAndNameScope) {
  Var a = tensor(DType::kFloat32, {2}, "a");
  Var b = tensor(DType::kFloat32, {3}, "b");
  std::string message;
  {
    NameScope scope("encoder");
    NameScope inner("gates");
    message = ErrorOf([&] { a + b; });
  }
  EXPECT_THAT(message, HasSubstr("function_test.cc:"));
  EXPECT_THAT(message, HasSubstr("[scope encoder/gates]"));
  EXPECT_EQ(NameScope::Current(), "");
}

TEST(FunctionTest, DebugprintAndDot) {
  Var x = dmatrix("x");
  Var y = (exp(x) + 1.0).named("y");
  std::string text = debugprint(y);
  EXPECT_THAT(text, HasSubstr("Elemwise{add} [id A] float64(?, ?) 'y'"));
  EXPECT_THAT(text, HasSubstr(" |Elemwise{exp} [id B]"));
  EXPECT_THAT(text, HasSubstr(" | |x [id C] float64(?, ?)"));
  Function f = function({x}, {y});
  std::string compiled = debugprint(f);
  EXPECT_THAT(compiled, HasSubstr("Composite{exp,add}"));
  std::string dot = ToDot(f);
  EXPECT_THAT(dot, HasSubstr("digraph theta"));
  EXPECT_THAT(dot, HasSubstr("Composite{exp,add}"));
}

TEST(FunctionTest, SecondCallWithSameShapesAllocatesNothing) {
  Var x = fmatrix("x");
  SharedVar w = shared(Random(DType::kFloat32, {16, 8}, 1), "w");
  SharedVar b = shared(Random(DType::kFloat32, {8}, 2), "b");
  Var h = tanh(dot(x, w) + b);
  Var loss = mean(nnet::softmax(h));
  Function f = function({x}, {h, loss}, {.updates = {{b, b * 0.5f}}});
  std::vector<Tensor> inputs = {Random(DType::kFloat32, {4, 16}, 3)};
  std::vector<Tensor> outputs;
  f.Call(inputs, outputs);  // plans and allocates
  backends::AllocationStats before = f.backend().allocation_stats();
  const int64_t host_before = HostAllocationCount();
  f.Call(inputs, outputs);
  f.Call(inputs, outputs);
  const int64_t host_after = HostAllocationCount();
  backends::AllocationStats after = f.backend().allocation_stats();
  EXPECT_EQ(host_after - host_before, 0) << "host allocations in steady state";
  EXPECT_EQ(after.allocations - before.allocations, 0) << "device allocations";
  EXPECT_EQ(f.stats().plans_built, 1);
  // A new batch size plans again, once.
  std::vector<Tensor> bigger = {Random(DType::kFloat32, {6, 16}, 4)};
  f.Call(bigger, outputs);
  f.Call(bigger, outputs);
  EXPECT_EQ(f.stats().plans_built, 2);
  EXPECT_EQ(outputs[0].dims(), Dims({6, 8}));
}

TEST(FunctionTest, ReusedBuffersKeepResultsCorrect) {
  // A chain long enough that intermediates share arena space.
  Var x = dvector("x");
  Var y = x;
  for (int i = 0; i < 6; ++i) y = sum(y * 2.0) + x;  // not fusable across sums
  Tensor xv(std::vector<double>{1, 2});
  // y_0 = x; y_{k+1} = sum(2 y_k) + x.
  std::vector<double> cur = {1, 2};
  for (int i = 0; i < 6; ++i) {
    double t = 2 * (cur[0] + cur[1]);
    cur = {t + 1, t + 2};
  }
  EXPECT_TRUE(AllClose(testing::Run1({x}, y, {xv}), cur, 1e-12, 1e-12));
}

TEST(FunctionTest, DeepChainsCompileAndAreFreedWithoutRecursion) {
  // Deep enough that recursion over the chain (to walk, copy or destroy it)
  // would overflow the stack.
  constexpr int kDepth = 200000;
  Var x = dvector("x");
  Var y = x;
  for (int i = 0; i < kDepth; ++i) y = neg(y);
  Function f = function({x}, {y});
  EXPECT_TRUE(AllClose(f({Tensor(std::vector<double>{1, 2})})[0], {1, 2}));
  y = Var();  // the last reference to the user's chain
  f = Function();
}

TEST(FunctionTest, CompiledGraphOrderIsTopologicalAfterRewrites) {
  // Merging, folding, GEMM detection and fusion all replace nodes; the order
  // the graph keeps through them must list exactly the nodes the outputs
  // need, inputs first.
  Var x = fmatrix("x"), w = fmatrix("w"), b = fvector("b");
  Var two = constant(1.0, DType::kFloat32) + constant(1.0, DType::kFloat32);
  Var h = x;
  Var back = x;
  for (int i = 0; i < 4; ++i) {
    h = tanh(dot(h, w) + b) * two + 1.0;  // GEMM, then a fused tail
    back = dot(back, transpose(w)) + b;   // transposes of w to merge
  }
  Function f = function({x, w, b}, {h, back, sum(h * back, 0)});
  FunctionGraph& graph = f.graph();
  const std::vector<Node*>& order = graph.TopologicalOrder();
  const std::vector<Node*> reachable = TopologicalNodes(graph.outputs());
  EXPECT_EQ(absl::flat_hash_set<Node*>(order.begin(), order.end()),
            absl::flat_hash_set<Node*>(reachable.begin(), reachable.end()));
  absl::flat_hash_map<const Node*, size_t> position;
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  for (size_t i = 0; i < order.size(); ++i) {
    for (const Var& in : order[i]->inputs()) {
      if (in.owner() == nullptr) continue;
      ASSERT_TRUE(position.contains(in.owner())) << order[i]->Describe();
      EXPECT_LT(position[in.owner()], i) << order[i]->Describe();
    }
  }
}

TEST(FunctionTest, ANodeBelongsToOneGraph) {
  // Compilation's graphs are private copies; moving a node of one into
  // another is an internal error, reported rather than corrupting both.
  const std::vector<Var> x = {dvector("x")};
  const std::vector<Var> first_outputs = {exp(x[0])};
  const std::vector<Var> second_outputs = {x[0] * 2.0};
  FunctionGraph first(x, first_outputs);
  FunctionGraph second(x, second_outputs);
  EXPECT_THAT(ErrorOf([&] {
                second.Replace(second.output(0), first.output(0), "test");
              }),
              HasSubstr("is already in another function's graph"));
}

}  // namespace
}  // namespace theta
