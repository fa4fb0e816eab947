#include "optim/factory.h"

#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "optim/test_problem.h"

namespace theta::optim {
namespace {

using testing::UnitGradientProblem;

// Every name makes its optimizer, which takes a step with the given rate:
// on cost = sum(p) (gradient 1) the first step of each moves p by a
// rate-sized amount (Adadelta's first step is lr * sqrt(eps) / sqrt(0.05 +
// eps)).
TEST(FactoryTest, EveryNameMakesItsOptimizer) {
  const std::map<std::string, std::string> class_names = {
      {"sgd", "Sgd"},           {"momentum", "Momentum"},
      {"nesterov", "Nesterov"}, {"adagrad", "Adagrad"},
      {"adadelta", "Adadelta"}, {"rmsprop", "RmsProp"},
      {"adam", "Adam"},         {"adamw", "AdamW"}};
  ASSERT_EQ(OptimizerNames().size(), class_names.size());
  for (const std::string& name : OptimizerNames()) {
    absl::StatusOr<std::unique_ptr<Optimizer>> opt = MakeOptimizer(name, 0.5);
    ASSERT_TRUE(opt.ok()) << opt.status();
    EXPECT_EQ((*opt)->name(), class_names.at(name));
    EXPECT_LT(UnitGradientProblem(**opt).Step(), 0.0) << name;
  }
  absl::StatusOr<std::unique_ptr<Optimizer>> sgd = MakeOptimizer("sgd", 0.5);
  ASSERT_TRUE(sgd.ok()) << sgd.status();
  EXPECT_EQ(UnitGradientProblem(**sgd).Step(), -0.5);
}

TEST(FactoryTest, Errors) {
  EXPECT_EQ(MakeOptimizer("lbfgs", 0.1).status().message(),
            "unknown optimizer 'lbfgs'; choose one of sgd, momentum, "
            "nesterov, adagrad, adadelta, rmsprop, adam, adamw");
  EXPECT_EQ(MakeOptimizer("adam", -1.0).status().message(),
            "Adam: lr must be in [0, inf), got -1");
}

}  // namespace
}  // namespace theta::optim
