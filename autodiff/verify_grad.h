// verify_grad: Theano's numeric check of a symbolic gradient. The function
// is projected on a fixed random direction to a scalar; its gradient with
// respect to each input is compared with central differences.
//
//   VerifyGradResult r = verify_grad(
//       [](const std::vector<Var>& x) { return tanh(dot(x[0], x[1])); },
//       {a, b});
//   EXPECT_TRUE(r.ok) << r.message;
#ifndef THETA_AUTODIFF_VERIFY_GRAD_H_
#define THETA_AUTODIFF_VERIFY_GRAD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/tensor.h"

namespace theta {

struct VerifyGradOptions {
  // Central-difference step; 0 picks 1e-7 for float64 and 1e-3 for float32.
  double eps = 0;
  // Tolerances on |analytic - numeric|: an element passes when the absolute
  // or the relative error is below them; 0 picks 1e-4 (float64) and 1e-2
  // (float32).
  double abs_tol = 0;
  double rel_tol = 0;
  uint64_t seed = 42;  // of the random projection
};

struct VerifyGradResult {
  bool ok = false;
  double max_abs_error = 0;
  double max_rel_error = 0;
  // Where it failed: input, element, analytic and numeric values.
  std::string message;
};

// `fn` builds the expression from symbolic inputs of the given values'
// types (float inputs only are checked; all are passed).
VerifyGradResult verify_grad(
    const std::function<Var(const std::vector<Var>&)>& fn,
    const std::vector<Tensor>& inputs, const VerifyGradOptions& options = {});

}  // namespace theta

#endif  // THETA_AUTODIFF_VERIFY_GRAD_H_
