// The built-in rewrites as a compiled function sees them: constant folding
// evaluates on the function's own backend.
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/registry.h"
#include "compile/function.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/ops.h"
#include "ops/test_util.h"

namespace theta {
namespace {

using ::testing::Contains;

TEST(ConstantFolding, RunsOnTheFunctionsBackendNotTheCurrentOne) {
  // The process's current backend cannot be loaded; the function names its
  // own. Folding must not depend on the current one (it used to ask for it,
  // fail, and silently leave the constants unfolded).
  ASSERT_EQ(setenv("THETA_BACKEND", "no_such_backend_for_folding", 1), 0);
  ASSERT_FALSE(backends::CurrentBackend().ok());
  Var x = dvector("x");
  Var c = exp(constant(1.0, DType::kFloat64)) * 2.0;
  Function f = function({x}, {x + c}, {.backend = "cpu"});
  EXPECT_THAT(f.stats().rewrites_applied, Contains("constant_folding"));
  std::vector<Tensor> out = f({Tensor(std::vector<double>{1, 2})});
  const double folded = std::exp(1.0) * 2.0;
  EXPECT_TRUE(testing::AllClose(out[0], {1 + folded, 2 + folded}));
  ASSERT_EQ(unsetenv("THETA_BACKEND"), 0);
}

}  // namespace
}  // namespace theta
