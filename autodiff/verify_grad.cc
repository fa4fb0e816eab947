#include "autodiff/verify_grad.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "autodiff/grad.h"
#include "compile/function.h"
#include "ops/ops.h"

namespace theta {
namespace {

void SetElement(Tensor& t, int64_t i, double value) {
  if (t.dtype() == DType::kFloat32) {
    t.data<float>()[i] = static_cast<float>(value);
  } else {
    t.data<double>()[i] = value;
  }
}

}  // namespace

VerifyGradResult verify_grad(
    const std::function<Var(const std::vector<Var>&)>& fn,
    const std::vector<Tensor>& inputs, const VerifyGradOptions& options) {
  VerifyGradResult result;
  std::vector<Var> vars;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Dims shape = inputs[i].dims();
    for (int d = 0; d < shape.size(); ++d) {
      if (shape[d] != 1) shape[d] = kUnknownDim;
    }
    vars.push_back(MakeInput(TensorType(inputs[i].dtype(), shape),
                             absl::StrCat("input", i)));
  }
  Var out = fn(vars);
  // Any float32 value in the computation limits the precision to float32's.
  const bool float32 =
      out.dtype() == DType::kFloat32 ||
      std::any_of(inputs.begin(), inputs.end(),
                  [](const Tensor& t) { return t.dtype() == DType::kFloat32; });
  const double eps = options.eps > 0 ? options.eps : (float32 ? 1e-3 : 1e-7);
  const double abs_tol =
      options.abs_tol > 0 ? options.abs_tol : (float32 ? 1e-2 : 1e-4);
  const double rel_tol =
      options.rel_tol > 0 ? options.rel_tol : (float32 ? 1e-2 : 1e-4);

  // A fixed random projection of the output to a scalar.
  Function f_out = function(vars, {out},
                            {.name = "verify_grad_output",
                             .on_unused_input = OnUnusedInput::kIgnore});
  Tensor value = f_out(inputs)[0];
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> uniform(0.5, 1.5);
  Tensor projection(out.dtype(), value.dims());
  for (int64_t i = 0; i < projection.size(); ++i) {
    SetElement(projection, i, (rng() % 2 ? 1.0 : -1.0) * uniform(rng));
  }
  Var cost = sum(out * constant(projection));
  std::vector<Var> float_vars;
  std::vector<size_t> float_index;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (IsFloat(vars[i].dtype())) {
      float_vars.push_back(vars[i]);
      float_index.push_back(i);
    }
  }
  GradOptions grad_options;
  grad_options.disconnected_inputs = DisconnectedInputs::kIgnore;
  std::vector<Var> grads = grad(cost, float_vars, grad_options);
  Function f_grad = function(vars, grads,
                             {.name = "verify_grad_gradient",
                              .on_unused_input = OnUnusedInput::kIgnore});
  Function f_cost = function(
      vars, {cost},
      {.name = "verify_grad_cost", .on_unused_input = OnUnusedInput::kIgnore});
  std::vector<Tensor> analytic = f_grad(inputs);

  std::vector<Tensor> probe;
  for (const Tensor& t : inputs) probe.push_back(t.clone());
  result.ok = true;
  for (size_t k = 0; k < float_index.size(); ++k) {
    const size_t i = float_index[k];
    Tensor& x = probe[i];
    for (int64_t e = 0; e < x.size(); ++e) {
      const double original = x.GetAsDouble(e);
      SetElement(x, e, original + eps);
      const double plus = f_cost(probe)[0].GetAsDouble(0);
      SetElement(x, e, original - eps);
      const double minus = f_cost(probe)[0].GetAsDouble(0);
      SetElement(x, e, original);
      const double numeric = (plus - minus) / (2 * eps);
      const double symbolic = analytic[k].GetAsDouble(e);
      const double abs_err = std::fabs(numeric - symbolic);
      const double rel_err =
          abs_err / std::max(std::fabs(numeric) + std::fabs(symbolic), 1e-12);
      result.max_abs_error = std::max(result.max_abs_error, abs_err);
      result.max_rel_error = std::max(result.max_rel_error, rel_err);
      if ((abs_err > abs_tol && rel_err > rel_tol) ||
          std::isnan(symbolic) != std::isnan(numeric)) {
        if (result.ok) {
          result.message = absl::StrCat(
              "gradient mismatch for input ", i, " (", x.dims().ToString(),
              ") at element ", e, ": symbolic ", symbolic, ", numeric ",
              numeric, " (abs error ", abs_err, ", rel error ", rel_err, ")");
        }
        result.ok = false;
      }
    }
  }
  return result;
}

}  // namespace theta
