// The scan-based jacobian (Theano's): one gradient per element of the
// expression, as a loop over the elements, for expressions whose size is
// only known at run time. Registered with //autodiff when //scan is linked.
#include "autodiff/grad.h"
#include "ops/ops.h"
#include "scan/scan.h"

namespace theta {
namespace {

Var ScanJacobian(const Var& expression_flat, const Var& wrt) {
  GradOptions options;
  options.disconnected_inputs = DisconnectedInputs::kIgnore;
  // The body differentiates element i of the outer expression, selected by
  // a mask rather than by an index (inside a loop, i is a device value):
  // the parts that do not depend on i are hoisted out of the loop by scan.
  const Var positions = arange(0, shape_i(expression_flat, 0));
  ScanResult rows = scan(
      [&](const std::vector<Var>& in) {
        Var mask = cast(eq(positions, in[0]), expression_flat.dtype());
        return StepResult{{grad(sum(expression_flat * mask), wrt, options)}};
      },
      {.sequences = {Sequence(arange(0, shape_i(expression_flat, 0)))},
       .name = "jacobian"});
  return rows.outputs[0];
}

[[maybe_unused]] const bool registered = [] {
  RegisterSymbolicJacobian(ScanJacobian);
  return true;
}();

}  // namespace
}  // namespace theta
