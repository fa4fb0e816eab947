// Helpers for the op library's tests: random tensors, one-call evaluation,
// and comparisons against reference values computed in the test.
#ifndef THETA_OPS_TEST_UTIL_H_
#define THETA_OPS_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "compile/function.h"
#include "graph/ir.h"
#include "graph/tensor.h"
#include "gtest/gtest.h"

namespace theta::testing {

// Uniform in [lo, hi), fixed seed.
Tensor Random(DType dtype, std::vector<int64_t> shape, uint64_t seed,
              double lo = -1.0, double hi = 1.0);

// Compiles outputs(inputs) and runs it once.
std::vector<Tensor> Run(const std::vector<Var>& inputs,
                        const std::vector<Var>& outputs,
                        const std::vector<Tensor>& values,
                        FunctionOptions options = {});
Tensor Run1(const std::vector<Var>& inputs, const Var& output,
            const std::vector<Tensor>& values, FunctionOptions options = {});

// Every element of `t` as double, row-major.
std::vector<double> Values(const Tensor& t);

// Elementwise reference: out[i] = f(in[i]) over tensors of equal size.
std::vector<double> Map(const Tensor& t,
                        const std::function<double(double)>& f);

// Passes when every element is within atol + rtol * |expected| (NaN equals
// NaN; infinities must match exactly).
::testing::AssertionResult AllClose(const Tensor& actual,
                                    const std::vector<double>& expected,
                                    double rtol = 1e-5, double atol = 1e-6);

// The message of the Error `fn` throws ("" and a failure when none).
std::string ErrorOf(const std::function<void()>& fn);

// For rewrite tests. Nodes of f's rewritten graph whose op name contains
// `text`; times the rewrite named `rewrite` applied when f was compiled.
int CountOps(const Function& f, const std::string& text);
int TimesApplied(const Function& f, const std::string& rewrite);
// Runs outputs(inputs) with and without rewrites and expects the same
// values within `tol` (relative and absolute).
void ExpectSameAsUnrewritten(const std::vector<Var>& inputs,
                             const std::vector<Var>& outputs,
                             const std::vector<Tensor>& values,
                             double tol = 1e-12);

}  // namespace theta::testing

#endif  // THETA_OPS_TEST_UTIL_H_
