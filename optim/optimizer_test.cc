// The checks every optimizer shares (optimizer.h, hyper.h), through Sgd and
// Adam; and that a second apply() reuses a parameter's state.
#include "optim/optimizer.h"

#include "autodiff/grad.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"
#include "optim/adam.h"
#include "optim/sgd.h"

namespace theta::optim {
namespace {

using theta::testing::ErrorOf;

SharedVar Param(const std::string& name) {
  return shared(Tensor(std::vector<double>{1, 2}), name);
}

TEST(OptimizerTest, GradsAndParamsOfDifferentLengths) {
  SharedVar w = Param("w");
  Sgd sgd;
  EXPECT_EQ(ErrorOf([&] {
              sgd.apply({w * 2.0, w * 3.0}, {w});
            }),
            "Sgd: 2 gradients for 1 parameters; grads[i] must be the "
            "gradient of params[i]");
}

TEST(OptimizerTest, ParameterThatIsNotShared) {
  Var x = dvector("x");
  Sgd sgd;
  EXPECT_EQ(ErrorOf([&] { sgd.apply({x}, {SharedVar(x)}); }),
            "Sgd: parameter 0 ('x') is not a shared variable; parameters "
            "must be created with shared()");
}

TEST(OptimizerTest, IntegerParameter) {
  SharedVar n = shared(Tensor(std::vector<int32_t>{1, 2}), "n");
  Sgd sgd;
  EXPECT_EQ(ErrorOf([&] { sgd.apply({n}, {n}); }),
            "Sgd: parameter 'n' is int32; only float parameters can be "
            "optimised");
}

TEST(OptimizerTest, UnnamedParameter) {
  SharedVar w = Param("w");
  SharedVar u = shared(Tensor(std::vector<double>{1}));
  Adam adam;
  EXPECT_EQ(ErrorOf([&] {
              adam.apply({w, u}, {w, u});
            }),
            "Adam: parameter 1 has no name; name it (shared(value, \"W\")) "
            "so that its optimizer state can be named and checkpointed");
}

TEST(OptimizerTest, DuplicateParameterNames) {
  SharedVar a = Param("w");
  SharedVar b = Param("w");
  Adam adam;
  EXPECT_EQ(ErrorOf([&] {
              adam.apply({a, b}, {a, b});
            }),
            "Adam: two parameters are named 'w'; parameter names must be "
            "unique");
}

TEST(OptimizerTest, GradientOfAnotherDtype) {
  SharedVar w = Param("w");
  Sgd sgd;
  EXPECT_EQ(ErrorOf([&] { sgd.apply({fvector("g")}, {w}); }),
            "Sgd: the gradient of parameter 'w' is float32(?), the parameter "
            "is float64(?); they must have the same dtype and rank");
}

TEST(OptimizerTest, CostThatIsNotAScalar) {
  SharedVar w = Param("w");
  Sgd sgd;
  Var c = (w * 2.0).named("c");
  EXPECT_EQ(ErrorOf([&] { sgd.minimize(c, {w}); }),
            "Sgd: the cost 'c' is float64(?); it must be a float scalar");
}

TEST(OptimizerTest, SharedHyperparameterMustBeAScalar) {
  SharedVar lr = Param("lr");
  EXPECT_EQ(ErrorOf([&] { Sgd sgd({.lr = lr}); }),
            "optim::Hyper: shared variable 'lr' has rank 1; a hyperparameter "
            "must be a scalar");
}

TEST(OptimizerTest, NegativeSharedLearningRateIsCheckedWhenApplied) {
  SharedVar lr = shared(Tensor::Scalar<double>(0.1), "lr");
  SharedVar w = Param("w");
  Sgd sgd({.lr = lr});
  lr.set_value(Tensor::Scalar<double>(-1.0));
  EXPECT_EQ(ErrorOf([&] { sgd.apply({w * 1.0}, {w}); }),
            "Sgd: lr must be in [0, inf), got shared 'lr' = -1");
}

TEST(OptimizerTest, SecondApplyReusesState) {
  SharedVar w = Param("w");
  Adam adam;
  adam.apply({w * 1.0}, {w});
  adam.apply({w * 2.0}, {w});
  EXPECT_EQ(adam.state().size(), 3u);
  SharedVar other = Param("w");
  EXPECT_EQ(ErrorOf([&] { adam.apply({other * 1.0}, {other}); }),
            "Adam: state 'w.m' already belongs to another parameter named "
            "'w'");
}

TEST(OptimizerTest, StateHasTheParameterDtypeAndShape) {
  SharedVar w = shared(Tensor(DType::kFloat32, {3, 2}), "W");
  Adam adam;
  Var cost = sum(square(w));
  adam.minimize(cost, {w});
  std::vector<SharedVar> state = adam.state();
  ASSERT_EQ(state.size(), 3u);
  EXPECT_EQ(state[0].name(), "W.m");
  EXPECT_EQ(state[0].dtype(), DType::kFloat32);
  EXPECT_EQ(state[0].get_value().shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(state[2].name(), "W.step");
  EXPECT_EQ(state[2].ndim(), 0);
}

}  // namespace
}  // namespace theta::optim
