// Which variables are small values computed on the host rather than
// tensors on the device: constants of at most kMaxHostElements elements,
// scalar inputs, and the results of host-evaluable ops (Shape, shape
// arithmetic) on such values with a static size of at most
// kMaxHostElements. The executor plans with this; rewrites consult it so
// that they leave host arithmetic alone (fusing x.shape[0] into a device
// kernel would move it to the device).
//
//   HostValueAnalysis host(/*scalar_inputs_on_host=*/true);
//   if (host.IsHostValue(v.get())) ...
#ifndef THETA_GRAPH_HOST_VALUES_H_
#define THETA_GRAPH_HOST_VALUES_H_

#include "absl/container/flat_hash_map.h"
#include "graph/ir.h"

namespace theta {

class HostValueAnalysis {
 public:
  // `scalar_inputs_on_host`: whether rank-0 inputs arrive as host values
  // (true for functions; false for loop bodies, whose inputs are slices of
  // device arrays).
  explicit HostValueAnalysis(bool scalar_inputs_on_host)
      : scalar_inputs_on_host_(scalar_inputs_on_host) {}

  // Declares an input variable a host value (an input given on the host
  // whatever its rank).
  void MarkHostInput(const Variable* v) { memo_[v] = true; }

  // Memoised; iterative, so deep graphs are fine.
  bool IsHostValue(const Variable* v);

 private:
  bool scalar_inputs_on_host_;
  absl::flat_hash_map<const Variable*, bool> memo_;
};

}  // namespace theta

#endif  // THETA_GRAPH_HOST_VALUES_H_
