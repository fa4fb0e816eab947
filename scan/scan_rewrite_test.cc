// Each loop rewrite is shown to fire (the compiled graph is inspected) and
// to leave results unchanged (compared with the function compiled without
// rewrites).
#include "absl/container/flat_hash_set.h"
#include "autodiff/grad.h"
#include "compile/debugprint.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "graph/function_graph.h"
#include "graph/rewrite.h"
#include "gtest/gtest.h"
#include "ops/elementwise_op.h"
#include "ops/linalg_ops.h"
#include "ops/ops.h"
#include "ops/test_util.h"
#include "scan/scan.h"
#include "scan/scan_op.h"

namespace theta {
namespace {

using testing::AllClose;
using testing::ExpectSameAsUnrewritten;
using ::testing::HasSubstr;
using testing::Random;
using testing::Values;
using Args = std::vector<Var>;

std::vector<const Node*> Scans(const Function& f) {
  std::vector<const Node*> out;
  for (Node* n : f.graph().TopologicalOrder()) {
    if (AsScan(n) != nullptr) out.push_back(n);
  }
  return out;
}

TEST(ScanRewriteTest, LoopsOverTheSameSequencesMerge) {
  Var s = dvector("s");
  Var a = scan([](const Args& in) { return StepResult{{exp(in[0])}}; },
               {.sequences = {s}})
              .outputs[0];
  Var b =
      scan([](const Args& in) { return StepResult{{in[0] * in[1]}}; },
           {.sequences = {s}, .outputs_info = {constant(1.0, DType::kFloat64)}})
          .outputs[0];
  Function f = function({s}, {a, b});
  EXPECT_EQ(Scans(f).size(), 1u) << debugprint(f);
  ExpectSameAsUnrewritten({s}, {a, b}, {Tensor(std::vector<double>{1, 2, 3})});
}

TEST(ScanRewriteTest, GradientsAugmentedForwardLoopMergesWithTheForwardLoop) {
  Var x = dmatrix("x");
  Var w = dmatrix("w");
  Var h0 = dvector("h0");
  Var hs = scan(
               [](const Args& in) {
                 return StepResult{{tanh(dot(in[1], in[2]) + in[0])}};
               },
               {.sequences = {x}, .outputs_info = {h0}, .non_sequences = {w}})
               .outputs[0];
  Var cost = sum(hs);
  Var gw = grad(cost, w);
  Function f = function({x, w, h0}, {cost, gw});
  // One forward loop (saving what the backward loop needs) and one backward.
  EXPECT_EQ(Scans(f).size(), 2u) << debugprint(f);
  ExpectSameAsUnrewritten(
      {x, w, h0}, {cost, gw},
      {Random(DType::kFloat64, {5, 3}, 1), Random(DType::kFloat64, {3, 3}, 2),
       Random(DType::kFloat64, {3}, 3)});
}

TEST(ScanRewriteTest, OnlyTheFinalStateIsKept) {
  Var x = dvector("x");
  Var h0 = dscalar("h0");
  Var hs =
      scan([](const Args& in) { return StepResult{{in[1] * 0.5 + in[0]}}; },
           {.sequences = {x}, .outputs_info = {h0}})
          .outputs[0];
  Var last = index(hs, -1);
  Function f = function({x, h0}, {last});
  std::vector<const Node*> scans = Scans(f);
  ASSERT_EQ(scans.size(), 1u);
  EXPECT_THAT(scans[0]->op().name(), HasSubstr("last")) << debugprint(f);
  // The loop's output is the state itself, not (N,) rows.
  EXPECT_EQ(scans[0]->output_variable(0)->type().ndim(), 0);
  ExpectSameAsUnrewritten(
      {x, h0}, {last},
      {Tensor(std::vector<double>{1, 2, 3, 4}), Tensor::Scalar<double>(1)});
}

TEST(ScanRewriteTest, FewConstantStepsAreUnrolled) {
  Var s = tensor(DType::kFloat64, {5}, "s");
  Var x0 = dscalar("x0");
  Var xs =
      scan([](const Args& in) { return StepResult{{in[1] * 10.0 + in[0]}}; },
           {.sequences = {s},
            .outputs_info = {x0},
            .n_steps = 3,
            .go_backwards = true})
          .outputs[0];
  Function f = function({s, x0}, {xs});
  EXPECT_TRUE(Scans(f).empty()) << debugprint(f);
  ExpectSameAsUnrewritten(
      {s, x0}, {xs},
      {Tensor(std::vector<double>{1, 2, 3, 4, 5}), Tensor::Scalar<double>(0)});
}

// Row j of a multi-tap initial value is the state at time j - m: unrolled
// steps read its first m rows, as the loop does. They read its last m rows
// before this test, a different result when it has more rows than m.
TEST(ScanRewriteTest, UnrolledStepsReadTheInitialValueAsTheLoopDoes) {
  Var x0 = tensor(DType::kFloat64, {3, 1}, "x0");
  Var ys = scan([](const Args& in) { return StepResult{{in[0] * in[1]}}; },
                {.outputs_info = {OutputInfo(x0, {-2, -1})}, .n_steps = 2})
               .outputs[0];
  Function f = function({x0}, {ys});
  EXPECT_TRUE(Scans(f).empty()) << debugprint(f);
  // y0 = 1 * 2, y1 = 2 * y0; the third row (30) is not read.
  const Tensor init(std::vector<double>{1, 2, 30}, {3, 1});
  EXPECT_TRUE(AllClose(f({init})[0], {2, 4}));
  ExpectSameAsUnrewritten({x0}, {ys}, {init});
}

// An LSTM cell over (T, B, I) with hidden size 4, in float64.
struct Lstm {
  static constexpr int hidden = 4;
  Var x = dtensor3("x");
  Var h0 = dmatrix("h0"), c0 = dmatrix("c0");
  Var w = dmatrix("W"), u = dmatrix("U"), b = dvector("b");
  ScanResult r = scan(
      [this](const Args& in) {
        Var gates = dot(in[0], in[3]) + dot(in[1], in[4]) + in[5];
        auto part = [&](int k) {
          return slice(gates,
                       {Slice::All(), Slice(k * hidden, (k + 1) * hidden)});
        };
        Var c = sigmoid(part(1)) * in[2] + sigmoid(part(0)) * tanh(part(3));
        return StepResult{{sigmoid(part(2)) * tanh(c), c}};
      },
      {.sequences = {x}, .outputs_info = {h0, c0}, .non_sequences = {w, u, b}});

  std::vector<Var> inputs() const { return {x, h0, c0, w, u, b}; }
  static std::vector<Tensor> Values() {
    return {Random(DType::kFloat64, {5, 2, 3}, 1),
            Random(DType::kFloat64, {2, hidden}, 2),
            Random(DType::kFloat64, {2, hidden}, 3),
            Random(DType::kFloat64, {3, 4 * hidden}, 4),
            Random(DType::kFloat64, {hidden, 4 * hidden}, 5),
            Random(DType::kFloat64, {4 * hidden}, 6)};
  }
};

bool ComputedFromALoop(const Var& v) {
  for (Node* n : TopologicalNodes(std::span(&v, 1))) {
    if (AsScan(n) != nullptr) return true;
  }
  return false;
}

TEST(ScanRewriteTest, LstmInputProjectionIsOneGemmBeforeTheLoop) {
  Lstm lstm;
  Var x = lstm.x, h0 = lstm.h0, c0 = lstm.c0;
  Var w = lstm.w, u = lstm.u, b = lstm.b;
  ScanResult& r = lstm.r;
  const ScanSpec& spec = AsScan(r.outputs[0].owner())->spec();
  int body_products = 0;
  for (Node* n : TopologicalNodes(spec.inner_outputs))
    body_products += AsGemm(n) != nullptr;
  EXPECT_EQ(body_products, 1)
      << "only h W_hh stays in the loop:\n"
      << debugprint(std::span<const Var>(spec.inner_outputs));
  // The pushed-out product is a sequence of the loop: (T*B, I) x (I, 4H).
  const Node* node = r.outputs[0].owner();
  bool outer_product = false;
  for (int i = 1; i < node->num_inputs(); ++i) {
    for (Node* n : TopologicalNodes(std::span(&node->inputs()[i], 1))) {
      outer_product |= AsGemm(n) != nullptr;
    }
  }
  EXPECT_TRUE(outer_product);
  Var cost = sum(r.outputs[0]);
  std::vector<Var> g = grad(cost, {w, u, b});
  // Its gradient is one product after the backward loop: dW = X^T dP with
  // dP the backward loop's gradient of the pushed-out projection. In the
  // compiled gradient, a product outside the loops multiplies x (through
  // reshapes and transposes) by something computed from a loop's output,
  // and no loop body has more products than h U (forward) or dG U^T
  // (backward).
  Function dw = function({x, h0, c0, w, u, b}, {g[0]});
  auto is_view_of_x = [&](Var v) {
    for (;;) {
      if (v.get() == x.get()) return true;
      const Node* n = v.owner();
      if (n == nullptr || n->num_inputs() == 0 ||
          n->input(0).dtype() != v.dtype()) {
        return false;
      }
      v = n->input(0);
    }
  };
  auto computed_from_a_loop = ComputedFromALoop;
  bool x_times_loop_result = false;
  for (Node* n : dw.graph().TopologicalOrder()) {
    if (const Scan* loop = AsScan(n)) {
      int products = 0;
      for (Node* m : TopologicalNodes(loop->spec().inner_outputs)) {
        products += AsGemm(m) != nullptr;
      }
      EXPECT_LE(products, 2) << debugprint(dw);
    }
    if (AsGemm(n) != nullptr) {
      const Var& a = n->input(0);
      const Var& b = n->input(1);
      x_times_loop_result |= (is_view_of_x(a) && computed_from_a_loop(b)) ||
                             (is_view_of_x(b) && computed_from_a_loop(a));
    }
  }
  EXPECT_TRUE(x_times_loop_result) << debugprint(dw);
  ExpectSameAsUnrewritten(lstm.inputs(), {cost, g[0], g[1], g[2]},
                          Lstm::Values());
}

// x_t W + h U + b: the bias is added to the pushed-out projection, once
// for all steps, not in every step (the body reads no invariant in an
// elementwise op).
// The bias is added in the gate kernel, step by step, not over all T*B rows
// before the loop: the pushed-out projection is the product alone, and the
// compiled body has one elementwise kernel, which reads the bias's parts
// (each gate's slice of the bias lifted out of the whole row's sum).
TEST(ScanRewriteTest, LstmBiasJoinsTheGateKernel) {
  Lstm lstm;
  Var cost = sum(lstm.r.outputs[0]) + sum(lstm.r.outputs[1]);
  std::vector<Var> g = grad(cost, {lstm.w, lstm.u, lstm.b});
  Function f = function(lstm.inputs(), {cost, g[0], g[1], g[2]});
  const Node* forward = nullptr;
  for (const Node* n : Scans(f)) {
    if (AsScan(n)->spec().name.rfind("grad_of", 0) != 0) forward = n;
  }
  ASSERT_NE(forward, nullptr) << debugprint(f);
  const ScanSpec& spec = AsScan(forward)->spec();
  for (size_t s = 0; s < spec.sequences.size(); ++s) {
    const Node* outer = forward->input(1 + static_cast<int>(s)).owner();
    EXPECT_TRUE(outer == nullptr || AsElementwise(*outer) == nullptr)
        << "sequence " << s << " is computed by an elementwise op over all "
        << "steps' rows:\n"
        << debugprint(f);
  }
  absl::StatusOr<std::unique_ptr<FunctionGraph>> body =
      FunctionGraph::Create(spec.inner_inputs, spec.inner_outputs);
  ASSERT_TRUE(body.ok()) << body.status();
  RewriteGraph(**body, RewriteOptions());
  const std::string printed =
      debugprint(std::span<const Var>((*body)->outputs()));
  // The bias reaches the body as a non-sequence (broadcast to a row).
  absl::flat_hash_set<const Variable*> invariants;
  for (int j = 0; j < spec.num_non_sequences; ++j) {
    invariants.insert(
        spec.inner_inputs[spec.inner_non_sequence_input(j)].get());
  }
  int kernels = 0, bias_parts_read = 0;
  for (Node* n : (*body)->TopologicalOrder()) {
    if (AsElementwise(*n) == nullptr) continue;
    ++kernels;
    for (const Var& in : n->inputs()) {
      const Node* view = in.owner();
      bias_parts_read += view != nullptr &&
                         view->op().name().rfind("Subtensor", 0) == 0 &&
                         invariants.contains(view->input(0).get());
    }
  }
  EXPECT_EQ(kernels, 1) << printed;
  EXPECT_EQ(bias_parts_read, 4) << printed;
  ExpectSameAsUnrewritten(lstm.inputs(), {cost, g[0], g[1], g[2]},
                          Lstm::Values());
}

// The gradient through the slices of the gates starts from zeros of the
// gates' shape. Only that shape is read of the gates' pre-activations: the
// backward loop gets it as a size, not as a sequence of the saved values,
// and keeps the zeros in its body, where they are never computed
// (place_in_zeros) rather than copied in from outside at every step.
TEST(ScanRewriteTest, LstmGradientReadsOnlyTheSizeOfTheGatesPreActivations) {
  Lstm lstm;
  std::vector<Var> g = grad(sum(lstm.r.outputs[0]), {lstm.w, lstm.u, lstm.b});
  Function f = function(lstm.inputs(), g);
  int backward_loops = 0;
  for (Node* n : f.graph().TopologicalOrder()) {
    const Scan* loop = AsScan(n);
    if (loop == nullptr || loop->spec().name.rfind("grad_of", 0) != 0) {
      continue;
    }
    ++backward_loops;
    const ScanSpec& spec = loop->spec();
    absl::flat_hash_set<const Variable*> sequence_rows;
    for (size_t s = 0; s < spec.sequences.size(); ++s) {
      const int first = spec.inner_sequence_input(static_cast<int>(s));
      for (size_t k = 0; k < spec.sequences[s].taps.size(); ++k) {
        sequence_rows.insert(spec.inner_inputs[first + k].get());
      }
    }
    for (Node* m : TopologicalNodes(spec.inner_outputs)) {
      if (m->op().name().rfind("Shape", 0) != 0) continue;
      EXPECT_FALSE(sequence_rows.contains(m->input(0).get()))
          << "the backward loop reads rows only for their shape:\n"
          << debugprint(std::span<const Var>(spec.inner_outputs));
    }
    for (int j = 0; j < spec.num_non_sequences; ++j) {
      const Node* outer = n->input(spec.first_non_sequence_input() + j).owner();
      EXPECT_TRUE(outer == nullptr || outer->op().name() != "Alloc")
          << "zeros copied into every step:\n"
          << debugprint(f);
    }
  }
  EXPECT_EQ(backward_loops, 1) << debugprint(f);
  ExpectSameAsUnrewritten(lstm.inputs(), g, Lstm::Values());
}

// Whether `v` is computed from `input` other than through a loop's results.
bool ReadsOutsideLoops(const Var& v, const Var& input) {
  std::vector<Var> stack = {v};
  absl::flat_hash_set<const Variable*> seen;
  while (!stack.empty()) {
    Var u = stack.back();
    stack.pop_back();
    if (u.is(input)) return true;
    if (!seen.insert(u.get()).second || u.owner() == nullptr ||
        AsScan(u.owner()) != nullptr) {
      continue;
    }
    for (const Var& in : u.owner()->inputs()) stack.push_back(in);
  }
  return false;
}

// The sizes of the gates' pre-activations follow from the loop's inputs
// (batch rows from the pushed-out rows, 4H from U), so the forward loop
// stores no array just for its shape. The backward loop takes no sequence
// its body does not read: neither x nor the projection x W, which then dies
// at the forward loop (whose body may accumulate h U into it in place).
TEST(ScanRewriteTest, LstmGradientSavesNoArrayForSizesAndReadsNoUnusedRows) {
  Lstm lstm;
  std::vector<Var> g = grad(sum(lstm.r.outputs[0]), {lstm.w, lstm.u, lstm.b});
  Function f = function(lstm.inputs(), g);
  int loops = 0;
  for (const Node* n : Scans(f)) {
    ++loops;
    const ScanSpec& spec = AsScan(n)->spec();
    if (spec.name.rfind("grad_of", 0) != 0) {
      for (int o = 0; o < n->num_outputs(); ++o) {
        bool values_read = false;
        for (const FunctionGraph::Client& c :
             f.graph().clients(n->output_variable(o))) {
          values_read |=
              c.node == nullptr || c.node->op().name().rfind("Shape", 0) != 0;
        }
        EXPECT_TRUE(values_read)
            << "forward output " << o << " is read only for its shape:\n"
            << debugprint(f);
      }
      continue;
    }
    for (size_t s = 0; s < spec.sequences.size(); ++s) {
      EXPECT_FALSE(ReadsOutsideLoops(n->input(1 + static_cast<int>(s)), lstm.x))
          << "the backward loop's sequence " << s << " reads x:\n"
          << debugprint(f);
    }
  }
  EXPECT_EQ(loops, 2) << debugprint(f);
  ExpectSameAsUnrewritten(lstm.inputs(), g, Lstm::Values());
}

int FloatJoins(const Function& f) {
  int n = 0;
  for (Node* node : f.graph().TopologicalOrder()) {
    n += node->op().name().rfind("Join", 0) == 0 &&
         IsFloat(node->output_variable(0)->type().dtype());
  }
  return n;
}

// The backward loop reads h_{t-1} and c_{t-1}: the forward loop's outputs
// joined after their initial rows. The forward loop stores those rows in
// front of its steps' rows, so no Join copies the T+1 rows.
TEST(ScanRewriteTest, LstmStatesReadByTheGradientNeedNoJoin) {
  Lstm lstm;
  Var cost = sum(lstm.r.outputs[0]) + sum(lstm.r.outputs[1]);
  std::vector<Var> g = grad(cost, {lstm.w, lstm.u, lstm.b});
  const std::vector<Var> outputs = {cost, lstm.r.outputs[0], g[0], g[1], g[2]};
  Function f = function(lstm.inputs(), outputs);
  EXPECT_EQ(FloatJoins(f), 0) << debugprint(f);
  int stored = 0;
  for (const Node* n : Scans(f)) {
    for (const ScanOutput& out : AsScan(n)->spec().outputs) {
      stored += out.stores_initial_rows;
    }
  }
  EXPECT_EQ(stored, 2) << debugprint(f);
  ExpectSameAsUnrewritten(lstm.inputs(), outputs, Lstm::Values());
}

// Two taps (m = 2) and an initial value with a row more than m: the array
// starts with the first two rows. Zero steps: the array is those rows.
TEST(ScanRewriteTest, MultiTapStatesStoredAfterTheirInitialRows) {
  Var x = dmatrix("x"), y0 = dmatrix("y0");
  Var ys =
      scan([](const Args& in) { return StepResult{{in[1] * in[2] + in[0]}}; },
           {.sequences = {x}, .outputs_info = {OutputInfo(y0, {-2, -1})}})
          .outputs[0];
  std::vector<Var> g = grad(sum(ys * ys), {x, y0});
  const std::vector<Var> outputs = {ys, g[0], g[1]};
  Function f = function({x, y0}, outputs);
  EXPECT_EQ(FloatJoins(f), 0) << debugprint(f);
  ExpectSameAsUnrewritten(
      {x, y0}, outputs,
      {Random(DType::kFloat64, {4, 2}, 1), Random(DType::kFloat64, {3, 2}, 2)});
  ExpectSameAsUnrewritten(
      {x, y0}, outputs,
      {Random(DType::kFloat64, {0, 2}, 3), Random(DType::kFloat64, {3, 2}, 4)});
}

// Only a loop that runs all its steps stores initial rows (the rewrite
// never flags a loop with until); a spec that asks otherwise is refused
// when planned, naming what is wrong.
TEST(ScanRewriteTest, ALoopThatMayStopEarlyCannotStoreInitialRows) {
  Var x0 = dscalar("x0"), limit = dscalar("limit");
  ScanResult r = scan(
      [&](const Args& in) {
        Var next = in[0] * 2.0;
        return StepResult({next}, {}, next > in[1]);
      },
      {.outputs_info = {x0}, .non_sequences = {limit}, .n_steps = 10});
  const Node* loop = r.outputs[0].owner();
  auto spec = std::make_shared<ScanSpec>(AsScan(loop)->spec());
  ASSERT_TRUE(spec->has_until);
  spec->outputs[0].stores_initial_rows = true;
  std::vector<Var> outs = MakeScanNode(
      spec, std::vector<Var>(loop->inputs().begin(), loop->inputs().end()));
  Function f = function({x0, limit}, {outs[0]});
  EXPECT_THAT(
      testing::ErrorOf([&] {
        f({Tensor::Scalar(1.0), Tensor::Scalar(10.0)});
      }),
      HasSubstr("a loop that may stop early cannot store initial rows"));
}

// An output of which only the shape is used is still right where its
// shape is taken, and the outputs beside it keep their values (the loop
// writes its rows into one scratch row instead of the output array).
TEST(ScanRewriteTest, OutputReadOnlyForItsShapeLeavesTheOthersRight) {
  Var x = dmatrix("x");
  ScanResult r = scan(
      [](const Args& in) {
        return StepResult{{in[0] * 2.0, exp(in[0]) + in[0]}};
      },
      {.sequences = {x}});
  std::vector<Var> outputs = {r.outputs[0], shape_i(r.outputs[1], 0),
                              shape_i(r.outputs[1], 1)};
  Function f = function({x}, outputs);
  const Tensor xv = Random(DType::kFloat64, {4, 3}, 7);
  std::vector<Tensor> got = f({xv});
  EXPECT_TRUE(AllClose(got[0], testing::Map(xv, [](double v) { return 2 * v; }),
                       1e-12, 1e-12));
  EXPECT_EQ(got[1].item<int64_t>(), 4);
  EXPECT_EQ(got[2].item<int64_t>(), 3);
  // Called again, with another number of steps.
  const Tensor longer = Random(DType::kFloat64, {6, 3}, 8);
  got = f({longer});
  EXPECT_TRUE(AllClose(got[0],
                       testing::Map(longer, [](double v) { return 2 * v; }),
                       1e-12, 1e-12));
  EXPECT_EQ(got[1].item<int64_t>(), 6);
}

TEST(ScanRewriteTest, LstmRecurrentWeightAndBiasGradientsFollowTheLoop) {
  // dU = sum_t h_{t-1}^T dG_t and db = sum_t (row sum of dG_t) are not
  // accumulated step by step: the backward loop stores dG_t (h_{t-1} is in
  // the forward loop's rows already), and one product (one sum) over all
  // T*B rows follows it.
  Lstm lstm;
  std::vector<Var> g = grad(sum(lstm.r.outputs[0]), {lstm.u, lstm.b});
  Function f = function(lstm.inputs(), g);
  bool product_of_loop_results = false;
  for (Node* n : f.graph().TopologicalOrder()) {
    if (const Scan* loop = AsScan(n)) {
      for (const ScanOutput& out : loop->spec().outputs) {
        EXPECT_NE(out.kind, ScanOutputKind::kLast)
            << "an accumulator '" << out.name << "' in\n"
            << debugprint(f);
      }
      int products = 0;
      for (Node* m : TopologicalNodes(loop->spec().inner_outputs)) {
        products += AsGemm(m) != nullptr;
      }
      EXPECT_LE(products, 1) << debugprint(f);
    }
    if (AsGemm(n) != nullptr) {
      product_of_loop_results |=
          ComputedFromALoop(n->input(0)) && ComputedFromALoop(n->input(1));
    }
  }
  EXPECT_TRUE(product_of_loop_results) << debugprint(f);
  ExpectSameAsUnrewritten(lstm.inputs(), g, Lstm::Values());
}

}  // namespace
}  // namespace theta
