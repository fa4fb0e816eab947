// The umbrella header alone is enough to build, differentiate, compile and
// run a model; a logistic-regression step on a tiny batch shows it.
#include "theta.h"

#include "gtest/gtest.h"

namespace theta {
namespace {

TEST(ThetaHeaderTest, BuildsDifferentiatesAndRunsAModel) {
  Var x = fmatrix("x");
  Var y = ivector("y");
  SharedVar w = shared(Tensor(DType::kFloat32, {3, 2}), "W");
  Var cost = mean(nnet::categorical_crossentropy(nnet::softmax(dot(x, w)), y));
  Function step =
      function({x, y}, {cost}, {.updates = {{w, w - 1.0f * grad(cost, w)}}});
  Tensor batch(DType::kFloat32, {2, 3});
  float* p = batch.data<float>();
  for (int i = 0; i < 6; ++i) p[i] = i % 3 == 0 ? 1.0f : 0.0f;
  p[1] = 1;  // sample 0: (1, 1, 0), class 0; sample 1: (1, 0, 0), class 1
  Tensor labels(DType::kInt32, {2});
  labels.data<int32_t>()[1] = 1;
  // W starts at zero: both classes equally likely, cost log 2.
  const float first = step({batch, labels})[0].data<float>()[0];
  EXPECT_NEAR(first, std::log(2.0f), 1e-6);
  float last = first;
  for (int i = 0; i < 50; ++i) last = step({batch, labels})[0].data<float>()[0];
  EXPECT_LT(last, 0.1f);
}

}  // namespace
}  // namespace theta
