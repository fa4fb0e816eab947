// The code examples users read, compiled so that they cannot drift: the
// README's example and the examples in the public headers' comments, each
// verbatim inside a function (run where that is cheap), and Theano's
// cheatsheet and tutorial scan examples as they read in C++.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "graph/op.h"
#include "graph/tensor_eigen.h"
#include "graph/text.h"
#include "graph/warning.h"
#include "gtest/gtest.h"
#include "theta.h"

namespace theta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<double> Values(const Tensor& t) {
  std::vector<double> out(t.size());
  for (int64_t i = 0; i < t.size(); ++i) out[i] = t.GetAsDouble(i);
  return out;
}

// README.md, "Theta" (the first example).
float ReadmeExample(const Tensor& images, const Tensor& labels) {
  Var x = fmatrix("x");  // (batch, 784)
  Var y = ivector("y");  // (batch,) class labels
  SharedVar W = shared(Tensor(DType::kFloat32, {784, 10}), "W");
  SharedVar b = shared(Tensor(DType::kFloat32, {10}), "b");
  Var cost =
      mean(nnet::categorical_crossentropy(nnet::softmax(dot(x, W) + b), y));
  std::vector<Var> g = grad(cost, {W, b});
  Function train =
      function({x, y}, {cost},
               {.updates = {{W, W - 0.1f * g[0]}, {b, b - 0.1f * g[1]}}});
  float loss = train({images, labels})[0].data<float>()[0];
  return loss;
}

TEST(ReadmeExample, TrainsOneStep) {
  // W and b start at zero: all ten classes equally likely, loss log 10.
  EXPECT_NEAR(ReadmeExample(Tensor(DType::kFloat32, {4, 784}),
                            Tensor(DType::kInt32, {4})),
              std::log(10.0f), 1e-5);
}

// README.md, "Training: optimisers, layers, checkpoints".
TEST(ReadmeExample, OptimiserAndCheckpoint) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string path = std::string(tmp) + "/model.safetensors";
  Var x = fmatrix("x");
  Var y = ivector("y");
  SharedVar W = shared(Tensor(DType::kFloat32, {784, 10}), "W");
  SharedVar b = shared(Tensor(DType::kFloat32, {10}), "b");
  Var cost =
      mean(nnet::categorical_crossentropy(nnet::softmax(dot(x, W) + b), y));

  optim::Adam adam({.lr = 1e-3});
  Function train =
      function({x, y}, {cost},
               {.updates = adam.minimize(cost, {W, b}, {.max_norm = 5.0})});

  std::vector<SharedVar> vars = {W, b};
  for (const SharedVar& s : adam.state()) vars.push_back(s);
  const Tensor images(DType::kFloat32, {4, 784});
  const Tensor labels(std::vector<int32_t>{1, 1, 2, 3});
  train({images, labels});
  ThrowIfError(models::SaveCheckpoint(path, vars));
  const std::vector<double> saved = Values(b.get_value());
  train({images, labels});
  EXPECT_NE(Values(b.get_value()), saved);  // the second step moved b
  ThrowIfError(models::LoadCheckpoint(path, vars));
  EXPECT_EQ(Values(b.get_value()), saved);
}

// graph/tensor.h
TEST(HeaderExamples, Tensor) {
  theta::Tensor a({1.f, 2.f, 3.f, 4.f}, {2, 2});
  std::vector<float> v = a.to_vector<float>();
  float x = a.at<float>({1, 0});  // 3
  EXPECT_EQ(x, 3.f);
  EXPECT_THAT(v, ElementsAre(1, 2, 3, 4));
}

// graph/tensor_eigen.h
TEST(HeaderExamples, TensorEigen) {
  theta::Tensor t(theta::DType::kFloat32, {3, 4});
  auto m = theta::AsEigenMatrix<float>(t);  // 3x4 row-major map
  m.setRandom();
  EXPECT_EQ(m.rows(), 3);
  EXPECT_EQ(m.data(), t.data<float>());
}

// graph/dims.h, graph/dtype.h, graph/type.h
TEST(HeaderExamples, DimsDTypeType) {
  {
    theta::Dims shape = {32, 128};
    int64_t n = shape.product();  // 4096
    EXPECT_EQ(n, 4096);
  }
  const DType previous = floatX();
  {
    DType t = Upcast(DType::kInt32, DType::kFloat32);
    // t == kFloat64, as in Theano/NumPy
    theta::set_floatX(theta::DType::kFloat64);
    EXPECT_EQ(t, DType::kFloat64);
    EXPECT_EQ(floatX(), DType::kFloat64);
  }
  set_floatX(previous);
  {
    TensorType t(DType::kFloat32, {kUnknownDim, 1});  // a column
    EXPECT_TRUE(t.broadcastable(1) == true);
    EXPECT_TRUE(t.ToString() == "float32(?, 1)");
  }
}

// graph/ir.h
TEST(HeaderExamples, Ir) {
  theta::Var x = theta::matrix("x");
  theta::Var y = theta::exp(x) + 1.0;  // two Nodes
  y.owner()->op().name();              // "Elemwise{add}"
  EXPECT_EQ(y.owner()->op().name(), "Elemwise{add}");
}

// compile/function.h
TEST(HeaderExamples, Function) {
  Tensor w0({1.f, 2.f}, {2, 1});
  Tensor batch({1.f, 1.f}, {1, 2});
  Var x = matrix("x");
  SharedVar W = shared(w0, "W");
  Var cost = sum(square(dot(x, W)));
  Function step =
      function({x}, {cost}, {.updates = {{W, W - 0.1 * grad(cost, W)}}});
  Tensor c = step({batch})[0];
  // (1 + 2)^2; W -= 0.1 * 2 * 3 * (1, 1).
  EXPECT_NEAR(c.GetAsDouble(0), 9.0, 1e-5);
  EXPECT_THAT(Values(W.get_value()),
              ElementsAre(testing::DoubleNear(0.4, 1e-6),
                          testing::DoubleNear(1.4, 1e-6)));
}

// graph/shared.h
TEST(HeaderExamples, Shared) {
  Var x = fmatrix("x");
  Tensor trained(DType::kFloat32, {784, 10});
  SharedVar W = shared(Tensor(DType::kFloat32, {784, 10}), "W");
  Var y = dot(x, W);
  W.set_value(trained);
  Tensor w = W.get_value();
  SharedVar velocity = shared_like(W, 0.0, "W_velocity");
  EXPECT_EQ(y.ndim(), 2);
  EXPECT_THAT(w.shape(), ElementsAre(784, 10));
  EXPECT_EQ(velocity.value_shape(), W.value_shape());
}

// graph/source_info.h, compile/debugprint.h (compiled, not run: it writes a
// file).
[[maybe_unused]] void SourceInfoAndDebugprint(Var x, Var W, Var y, Function f) {
  {
    theta::NameScope scope("encoder");  // nodes built now carry "encoder"
    Var h = tanh(dot(x, W));            // error messages say "in encoder"
  }
  std::cout << theta::debugprint(y);  // the graph as built
  std::cout << theta::debugprint(f);  // the rewritten graph of f
  std::ofstream("f.dot") << theta::ToDot(f);
}

// graph/warning.h
TEST(HeaderExamples, Warning) {
  std::vector<std::string> logged;
  auto my_log = [&](std::string_view message) { logged.emplace_back(message); };
  theta::WarningHandler previous = theta::SetWarningHandler(
      [&](std::string_view message) { my_log(message); });
  Warn("example");
  theta::SetWarningHandler(previous);  // restores it
  EXPECT_THAT(logged, ElementsAre("example"));
}

// graph/text.h
TEST(HeaderExamples, Text) {
  const int64_t n = 1;
  const DType d = DType::kInt32;
  EXPECT_EQ(absl::StrCat("outputs_info has ", Count(n, "entry", "entries")),
            "outputs_info has 1 entry");
  EXPECT_EQ(
      absl::StrCat("got ", Article(DTypeName(d)), " ", DTypeName(d), " tensor"),
      "got an int32 tensor");
}

// base/error.h, backends/registry.h (compiled, not run: they select a
// backend).
[[maybe_unused]] void BackendExamples() {
  try {
    theta::backends::use("cuda");
  } catch (const theta::Error& e) {
    std::cerr << e.what() << "\n";
    if (e.code() == absl::StatusCode::kNotFound) { /* fall back */
    }
  }
  theta::backends::use("cuda");  // throws theta::Error if unusable
  theta::backends::Backend& b = theta::backends::current();
  (void)b;
}

// ops/tensor_types.h, ops/ops.h, ops/elementwise.h, ops/linalg.h, ops/nnet.h,
// ops/reduce.h, ops/shape.h
TEST(HeaderExamples, Ops) {
  Var x = theta::matrix("x");   // floatX, shape (?, ?)
  Var y = theta::ivector("y");  // int32 labels
  Var t = theta::tensor(DType::kFloat32, {kUnknownDim, 1, 28, 28}, "img");
  EXPECT_EQ(y.dtype(), DType::kInt32);
  EXPECT_EQ(t.ndim(), 4);
  Var W = matrix("W"), W_scale = matrix("W_scale"), b = vector("b");
  Var q = tensor3("q"), k_t = tensor3("k_t"), scores = matrix("scores");
  Var labels = ivector("labels");
  {
    Var y = theta::nnet::softmax(theta::dot(x, W) + b);
    EXPECT_EQ(y.ndim(), 2);
  }
  {
    Var y = theta::tanh(x * W_scale + b) - 1.0;
    Var m = theta::switch_(x > 0.0, x, 0.01 * x);
    EXPECT_EQ(m.ndim(), 2);
  }
  {
    Var h = dot(x, W) + b;        // one GEMM with bias after rewriting
    Var s = batched_dot(q, k_t);  // (B, m, k) x (B, k, n) -> (B, m, n)
    EXPECT_EQ(s.ndim(), 3);
  }
  {
    using namespace nnet;  // NOLINT: the header's example is unqualified
    Var p = softmax(dot(x, W) + b);
    Var loss = mean(categorical_crossentropy(p, labels));  // stable: fused
    EXPECT_EQ(loss.ndim(), 0);
  }
  {
    Var total = sum(x);             // scalar
    Var rows = mean(x, {1}, true);  // shape (n, 1)
    Var label = argmax(scores, 1);  // int64
    EXPECT_EQ(label.dtype(), DType::kInt64);
    EXPECT_EQ(rows.ndim(), 2);
  }
  {
    Var b_row = dimshuffle(b, {kNewAxis, 0});    // b.dimshuffle('x', 0)
    Var flat = reshape(x, {shape_i(x, 0), -1});  // symbolic sizes work
    Var z = zeros({3, 4});
    EXPECT_EQ(b_row.ndim(), 2);
  }
}

// ops/subtensor.h
TEST(HeaderExamples, Subtensor) {
  Var x = dmatrix("x"), d = dmatrix("d"), E = dmatrix("E");
  Var word_ids = lvector("word_ids");
  Var z = dmatrix("z"), xs = dtensor3("xs");
  Var rows = slice(x, {Slice(1, -1), Slice::All()});    // x[1:-1, :]
  Var col = slice(x, {Slice::All(), Slice::Index(0)});  // x[:, 0]
  Var rev = slice(x, {Slice(kNone, kNone, -1)});        // x[::-1]
  Var y = inc_subtensor(slice(x, {Slice(0, 2)}), d);    // x[0:2] += d
  Var emb = take(E, word_ids);                          // E[word_ids]
  Var gates = z(all, range(0, 4));                      // z[:, 0:4]
  Var last = xs(-1);                                    // xs[-1]
  EXPECT_EQ(col.ndim(), 1);
  EXPECT_EQ(last.ndim(), 2);
  Tensor zv({1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0}, {2, 5});
  EXPECT_THAT(Values(function({z}, {gates})({zv})[0]),
              ElementsAre(1, 2, 3, 4, 6, 7, 8, 9));
}

// autodiff/grad.h, autodiff/verify_grad.h
TEST(HeaderExamples, Autodiff) {
  Var x = matrix("x"), y = ivector("y");
  SharedVar W = shared(Tensor(floatX(), {3, 2}), "W");
  SharedVar b = shared(Tensor(floatX(), {2}), "b");
  {
    using namespace nnet;  // NOLINT: the header's example is unqualified
    Var cost = mean(categorical_crossentropy(softmax(dot(x, W) + b), y));
    std::vector<Var> g = grad(cost, {W, b});
    Function step =
        function({x, y}, {cost},
                 {.updates = {{W, W - 0.1 * g[0]}, {b, b - 0.1 * g[1]}}});
    // Two classes equally likely at first: the cost is log 2.
    Tensor c = step({Tensor(floatX(), {4, 3}), Tensor(DType::kInt32, {4})})[0];
    EXPECT_NEAR(c.GetAsDouble(0), std::log(2.0), 1e-5);
  }
  Tensor a({0.1, 0.2, 0.3, 0.4}, {2, 2});
  Tensor bv({0.5, -0.5, 0.25, 1.0}, {2, 2});
  {
    Tensor b = bv;
    VerifyGradResult r = verify_grad(
        [](const std::vector<Var>& x) { return tanh(dot(x[0], x[1])); },
        {a, b});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

// scan/scan.h
TEST(HeaderExamples, Scan) {
  Var x0 = dvector("x0"), A = dmatrix("A"), b = dvector("b");
  {
    // x_t = tanh(A x_{t-1} + b), 100 steps from x0:
    ScanResult r = scan(
        [&](const std::vector<Var>& in) {  // in = {x_{t-1}, A, b}
          return StepResult{{tanh(dot(in[1], in[0]) + in[2])}};
        },
        {.outputs_info = {OutputInfo(x0)},
         .non_sequences = {A, b},
         .n_steps = 100});
    Var xs = r.outputs[0];  // (100, n)
    EXPECT_EQ(xs.ndim(), 2);
  }
  Var u = dmatrix("u"), h0 = dvector("h0"), W = dmatrix("W");
  {
    ScanResult r = scan(
        [](Var u_t, Var h_prev, Var W) { return tanh(u_t + dot(h_prev, W)); },
        {.sequences = {u}, .outputs_info = {h0}, .non_sequences = {W}});
    EXPECT_EQ(r.outputs[0].ndim(), 2);
  }
}

// Theano's cheatsheet, the general form of scan:
//   results, updates = theano.scan(fn,
//       sequences=[dict(input=S1, taps=[-3, 2, -1]), S2, dict(input=S3,
//       taps=3)], outputs_info=[dict(initial=O1, taps=[-3, -5]),
//       dict(initial=O2, taps=None), O3], non_sequences=[A1, A2])
// fn receives S1[t-3], S1[t+2], S1[t-1], S2[t], S3[t+3], O1[t-3], O1[t-5],
// O3[t-1], A1, A2.
TEST(TheanoExamples, CheatsheetGeneralScan) {
  Var S1 = dvector("S1"), S2 = dvector("S2"), S3 = dvector("S3");
  Var O1 = dvector("O1"), O2 = dscalar("O2"), O3 = dscalar("O3");
  Var A1 = dscalar("A1"), A2 = dscalar("A2");
  std::vector<std::string> warnings;
  ScopedWarningHandler capture(
      [&](std::string_view message) { warnings.emplace_back(message); });

  auto [results, updates] = scan(
      [](Var s1_m3, Var s1_p2, Var s1_m1, Var s2, Var s3_p3, Var o1_m3,
         Var o1_m5, Var o3_m1, Var a1, Var a2) -> StepResult {
        return {s1_m3 + s1_p2 + s1_m1 + a1 * o1_m3 - o1_m5, s2 * a2 + s3_p3,
                o3_m1 + s2};
      },
      {.sequences = {Sequence(S1, {-3, 2, -1}), S2, Sequence(S3, {3})},
       .outputs_info = {OutputInfo(O1, {-3, -5}), OutputInfo(O2, {}), O3},
       .non_sequences = {A1, A2}});

  // Theta does not feed back O2 (taps None) and says its value is unused.
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("output 1 ('O2')"));
  EXPECT_TRUE(updates.empty());
  std::vector<double> s1(12), s2(10), s3(11), o1 = {1, 2, 3, 4, 5};
  for (int i = 0; i < 12; ++i) s1[i] = i + 1;
  for (int i = 0; i < 10; ++i) s2[i] = 10 * (i + 1);
  for (int i = 0; i < 11; ++i) s3[i] = 100 * (i + 1);
  Function f = function({S1, S2, S3, O1, O3, A1, A2}, results);
  std::vector<Tensor> out =
      f({Tensor(s1), Tensor(s2), Tensor(s3), Tensor(o1), Tensor::Scalar(7.0),
         Tensor::Scalar(0.5), Tensor::Scalar(2.0)});
  // N = min(12 - 5, 10, 11 - 3) = 7 steps. S1's taps span [-3, 2]: tap k
  // at step t reads row t + k + 3.
  std::vector<double> y1(o1), e1, e2, e3;  // y1 holds O1[-5..-1], then more
  double y3 = 7;
  for (int t = 0; t < 7; ++t) {
    const double v =
        s1[t] + s1[t + 5] + s1[t + 2] + 0.5 * y1[t + 5 - 3] - y1[t + 5 - 5];
    y1.push_back(v);
    e1.push_back(v);
    e2.push_back(s2[t] * 2 + s3[t + 3]);
    y3 += s2[t];
    e3.push_back(y3);
  }
  EXPECT_EQ(Values(out[0]), e1);
  EXPECT_EQ(Values(out[1]), e2);
  EXPECT_EQ(Values(out[2]), e3);
}

std::vector<double> VecMat(const std::vector<double>& v, const Tensor& m) {
  std::vector<double> out(m.dims()[1], 0.0);
  for (int64_t i = 0; i < m.dims()[0]; ++i) {
    for (int64_t j = 0; j < m.dims()[1]; ++j) {
      out[j] += v[i] * m.at<double>({i, j});
    }
  }
  return out;
}

// Theano's scan tutorial, "Multiple outputs, several taps values":
//   def oneStep(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2,
//               W_feedback, W_out):
//       x_t = T.tanh(theano.dot(x_tm1, W) + theano.dot(u_t, W_in_1) +
//                    theano.dot(u_tm4, W_in_2) + theano.dot(y_tm1, W_feedback))
//       y_t = theano.dot(x_tm3, W_out)
//       return [x_t, y_t]
//   ([x_vals, y_vals], updates) = theano.scan(fn=oneStep,
//       sequences=dict(input=u, taps=[-4, -0]),
//       outputs_info=[dict(initial=x0, taps=[-3, -1]), y0],
//       non_sequences=[W, W_in_1, W_in_2, W_feedback, W_out], strict=True)
TEST(TheanoExamples, OneStep) {
  Var u = dmatrix("u"), x0 = dmatrix("x0"), y0 = dvector("y0");
  Var W = dmatrix("W"), W_in_1 = dmatrix("W_in_1"), W_in_2 = dmatrix("W_in_2");
  Var W_feedback = dmatrix("W_feedback"), W_out = dmatrix("W_out");

  auto oneStep = [](Var u_tm4, Var u_t, Var x_tm3, Var x_tm1, Var y_tm1, Var W,
                    Var W_in_1, Var W_in_2, Var W_feedback,
                    Var W_out) -> StepResult {
    Var x_t = tanh(dot(x_tm1, W) + dot(u_t, W_in_1) + dot(u_tm4, W_in_2) +
                   dot(y_tm1, W_feedback));
    Var y_t = dot(x_tm3, W_out);
    return {x_t, y_t};
  };
  auto [outputs, updates] =
      scan(oneStep, {.sequences = {Sequence(u, {-4, 0})},
                     .outputs_info = {OutputInfo(x0, {-3, -1}), y0},
                     .non_sequences = {W, W_in_1, W_in_2, W_feedback, W_out},
                     .strict = true});
  Var x_vals = outputs[0], y_vals = outputs[1];

  // n = 2 hidden units, 1 input, 1 output; 7 rows of u give 3 steps.
  Tensor u_v({0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7}, {7, 1});
  Tensor x0_v({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {3, 2});
  Tensor y0_v({0.25}, {1});
  Tensor W_v({0.5, -0.1, 0.2, 0.3}, {2, 2}), W_in_1_v({0.7, -0.3}, {1, 2});
  Tensor W_in_2_v({-0.4, 0.9}, {1, 2}), W_feedback_v({0.6, 0.8}, {1, 2});
  Tensor W_out_v({1.5, -2.0}, {2, 1});
  std::vector<Tensor> out = function(
      {u, x0, y0, W, W_in_1, W_in_2, W_feedback, W_out}, {x_vals, y_vals})(
      {u_v, x0_v, y0_v, W_v, W_in_1_v, W_in_2_v, W_feedback_v, W_out_v});

  std::vector<std::vector<double>> x = {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}};
  std::vector<double> y = {0.25}, want_x, want_y;
  for (int t = 0; t < 3; ++t) {
    std::vector<double> x_t = VecMat(x[t + 2], W_v);
    std::vector<double> in_t = VecMat({u_v.at<double>({t + 4, 0})}, W_in_1_v);
    std::vector<double> in_tm4 = VecMat({u_v.at<double>({t, 0})}, W_in_2_v);
    std::vector<double> back = VecMat(y, W_feedback_v);
    for (int j = 0; j < 2; ++j) {
      x_t[j] = std::tanh(x_t[j] + in_t[j] + in_tm4[j] + back[j]);
    }
    y = VecMat(x[t], W_out_v);
    x.push_back(x_t);
    want_x.insert(want_x.end(), x_t.begin(), x_t.end());
    want_y.push_back(y[0]);
  }
  std::vector<double> got_x = Values(out[0]), got_y = Values(out[1]);
  ASSERT_EQ(got_x.size(), want_x.size());
  ASSERT_EQ(got_y.size(), want_y.size());
  for (size_t i = 0; i < want_x.size(); ++i)
    EXPECT_NEAR(got_x[i], want_x[i], 1e-12);
  for (size_t i = 0; i < want_y.size(); ++i)
    EXPECT_NEAR(got_y[i], want_y[i], 1e-12);
}

// Theano's tutorial, "Using Shared Variables":
//   state = shared(0)
//   inc = T.iscalar('inc')
//   accumulator = function([inc], state, updates=[(state, state+inc)])
TEST(TheanoExamples, Accumulator) {
  SharedVar state = shared(Tensor::Scalar<int32_t>(0), "state");
  Var inc = iscalar("inc");
  Function accumulator =
      function({inc}, {state}, {.updates = {{state, state + inc}}});

  EXPECT_EQ(accumulator({Tensor::Scalar<int32_t>(1)})[0].item<int32_t>(), 0);
  EXPECT_EQ(state.get_value().item<int32_t>(), 1);
  EXPECT_EQ(accumulator({Tensor::Scalar<int32_t>(300)})[0].item<int32_t>(), 1);
  EXPECT_EQ(state.get_value().item<int32_t>(), 301);
}

// Theano's scan tutorial, A**k by looping:
//   result, updates = theano.scan(fn=lambda prior_result, A: prior_result * A,
//                                 outputs_info=T.ones_like(A),
//                                 non_sequences=A, n_steps=k)
//   power = theano.function(inputs=[A, k], outputs=result[-1],
//                           updates=updates)
TEST(TheanoExamples, Power) {
  Var k = iscalar("k");
  Var A = dvector("A");
  auto [outputs, updates] = scan(
      [](Var prior_result, Var A) { return prior_result * A; },
      {.outputs_info = {ones_like(A)}, .non_sequences = {A}, .n_steps = k});
  Function power = function({A, k}, {outputs[0](-1)}, {.updates = updates});

  EXPECT_THAT(Values(power({Tensor({0.0, 1.0, 2.0, 3.0}, {4}),
                            Tensor::Scalar<int32_t>(2)})[0]),
              ElementsAre(0, 1, 4, 9));
}

}  // namespace
}  // namespace theta
