#include "graph/debugprint.h"
#include "graph/function.h"
#include "gtest/gtest.h"
#include "ops/ops.h"

namespace theta {
namespace {

TEST(Smoke, AddAndExp) {
  Var x = matrix("x", DType::kFloat32);
  Var y = exp(x) + 1.0;
  Function f = function({x}, {y});
  Tensor in(std::vector<float>{0, 1, 2, 3}, {2, 2});
  Tensor out = f({in})[0];
  std::cout << debugprint(f) << f.DescribePlan() << "\n";
  EXPECT_NEAR(out.at<float>({0, 0}), 2.0f, 1e-6);
  EXPECT_NEAR(out.at<float>({1, 1}), std::exp(3.0f) + 1, 1e-4);
}

}  // namespace
}  // namespace theta
