#include "ops/test_util.h"

#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "graph/function_graph.h"
#include "graph/op.h"
#include "gtest/gtest.h"

namespace theta::testing {

Tensor Random(DType dtype, std::vector<int64_t> shape, uint64_t seed, double lo,
              double hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t(DType::kFloat64, shape);
  for (int64_t i = 0; i < t.size(); ++i) t.data<double>()[i] = dist(rng);
  if (!IsFloat(dtype)) {
    for (int64_t i = 0; i < t.size(); ++i) {
      t.data<double>()[i] = std::floor(t.data<double>()[i]);
    }
  }
  return t.astype(dtype);
}

std::vector<Tensor> Run(const std::vector<Var>& inputs,
                        const std::vector<Var>& outputs,
                        const std::vector<Tensor>& values,
                        FunctionOptions options) {
  Function f = function(inputs, outputs, std::move(options));
  return f(values);
}

Tensor Run1(const std::vector<Var>& inputs, const Var& output,
            const std::vector<Tensor>& values, FunctionOptions options) {
  return Run(inputs, {output}, values, std::move(options))[0];
}

std::vector<double> Values(const Tensor& t) {
  std::vector<double> out(t.size());
  for (int64_t i = 0; i < t.size(); ++i) out[i] = t.GetAsDouble(i);
  return out;
}

std::vector<double> Map(const Tensor& t,
                        const std::function<double(double)>& f) {
  std::vector<double> out(t.size());
  for (int64_t i = 0; i < t.size(); ++i) out[i] = f(t.GetAsDouble(i));
  return out;
}

::testing::AssertionResult AllClose(const Tensor& actual,
                                    const std::vector<double>& expected,
                                    double rtol, double atol) {
  if (actual.size() != static_cast<int64_t>(expected.size())) {
    return ::testing::AssertionFailure()
           << "size " << actual.size() << " (shape " << actual.dims().ToString()
           << "), expected " << expected.size();
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const double a = actual.GetAsDouble(static_cast<int64_t>(i));
    const double e = expected[i];
    if (std::isnan(e) && std::isnan(a)) continue;
    if (std::isinf(e) || std::isinf(a)) {
      if (a == e) continue;
    } else if (std::fabs(a - e) <= atol + rtol * std::fabs(e)) {
      continue;
    }
    return ::testing::AssertionFailure()
           << "element " << i << ": got " << a << ", expected " << e
           << " (shape " << actual.dims().ToString() << ")";
  }
  return ::testing::AssertionSuccess();
}

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected theta::Error, nothing was thrown";
  return "";
}

int CountOps(const Function& f, const std::string& text) {
  int n = 0;
  for (Node* node : f.graph().TopologicalOrder()) {
    n += node->op().name().find(text) != std::string::npos;
  }
  return n;
}

int TimesApplied(const Function& f, const std::string& rewrite) {
  int n = 0;
  for (const std::string& r : f.stats().rewrites_applied) n += r == rewrite;
  return n;
}

void ExpectSameAsUnrewritten(const std::vector<Var>& inputs,
                             const std::vector<Var>& outputs,
                             const std::vector<Tensor>& values, double tol) {
  const std::vector<Tensor> rewritten = Run(inputs, outputs, values);
  const std::vector<Tensor> plain =
      Run(inputs, outputs, values, {.rewrite = false});
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_TRUE(AllClose(rewritten[i], Values(plain[i]), tol, tol))
        << "output " << i;
  }
}

}  // namespace theta::testing
