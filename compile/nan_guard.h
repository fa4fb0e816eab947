// The NaN / Inf guard (FunctionOptions::nan_guard, $THETA_NAN_GUARD=1), as
// Theano's NanGuardMode: after a node's kernels run, its floating outputs
// are checked on the backend, and the first node whose output holds a NaN
// or an infinity that none of its floating inputs held fails the call with
// an error naming the node, its op, its inputs and the user's source line
// (the executor adds the node and line; a scan adds the step).
//
// The planner reserves one scratch block in the arena (NanGuardScratchBytes,
// for the node with the most arrays) and, for each guarded node, puts one
// launch before the node's own (NodeGuard::Before: the inputs' max and min
// into the scratch, before an in-place kernel overwrites an input) and one
// after it (NodeGuard::After: the outputs' max and min, then one copy of the
// scratch to the host and a synchronize). Only those scalars leave the
// device. When the guard is off the planner adds nothing.
//
//   NodeGuardLaunches g = MakeNodeGuard(node, in_refs, out_refs, unread,
//                                       scratch_ref);
//   if (g.before) launches.push_back(std::move(g.before));
//   launches.push_back(node_launch);
//   if (g.after) launches.push_back(std::move(g.after));
//
// Running the guard launches allocates nothing (the error path aside).
#ifndef THETA_COMPILE_NAN_GUARD_H_
#define THETA_COMPILE_NAN_GUARD_H_

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "graph/ir.h"
#include "graph/runtime.h"

namespace theta {

// Whether $THETA_NAN_GUARD turns the guard on for every function: unset,
// empty or "0" is off, "1" on; anything else is InvalidArgument naming the
// variable and its value.
absl::StatusOr<bool> NanGuardFromEnvironment();

// Bytes of scratch the guard of any node of `schedule` needs (0 when no
// node has a floating device array to check).
int64_t NanGuardScratchBytes(std::span<Node* const> schedule);

// The launches that guard one node's launch; both null when the node has no
// floating output to check (an empty one, an unread one, or one not on the
// device is not checked); `before` is null when it has no floating input
// on the device.
struct NodeGuardLaunches {
  std::unique_ptr<Launch> before;  // runs before the node's launch
  std::unique_ptr<Launch> after;   // runs after it; fails on a new NaN/Inf
  int checked_outputs = 0;
};

// `inputs` and `outputs` are the node's arrays as planned (an input with
// slot < 0 is a host value and is not checked); `unread[o]` says output o
// may be left unwritten; `scratch` is a contiguous block of at least
// NanGuardScratchBytes bytes that nothing else uses.
NodeGuardLaunches MakeNodeGuard(const Node& node,
                                std::span<const ArrayRef> inputs,
                                std::span<const ArrayRef> outputs,
                                std::span<const bool> unread,
                                const ArrayRef& scratch);

}  // namespace theta

#endif  // THETA_COMPILE_NAN_GUARD_H_
