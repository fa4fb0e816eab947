// The planner's NaN guard hooks (compile/nan_guard.h): kept apart from the
// passes in planner.cc, which they touch only through three calls.
#include "absl/strings/str_cat.h"
#include "compile/nan_guard.h"
#include "compile/planner.h"

namespace theta {

void Planner::ReserveNanGuardScratch() {
  if (!exe_.options_.nan_guard) return;
  const int64_t bytes = NanGuardScratchBytes(exe_.schedule_);
  if (bytes == 0) return;
  // Never freed: no value placed after this overlaps it.
  nan_guard_scratch_ =
      MakeContiguousRef(0, arena_.Allocate(bytes), DType::kUInt8, Dims{bytes});
}

void Planner::PushNanGuardBefore(const Node& node,
                                 std::span<const ArrayRef> inputs,
                                 std::span<const ArrayRef> outputs,
                                 std::span<const bool> unread) {
  if (nan_guard_scratch_.slot < 0) return;
  NodeGuardLaunches guard =
      MakeNodeGuard(node, inputs, outputs, unread, nan_guard_scratch_);
  if (guard.before != nullptr) {
    plan_->launches_.push_back(std::move(guard.before));
    plan_->launch_nodes_.push_back(&node);
    plan_->description_.push_back(
        absl::StrCat("nan guard: inputs of ", node.op().name()));
    ++plan_->nan_guard_launches_;
  }
  nan_guard_after_ = std::move(guard.after);
}

void Planner::PushNanGuardAfter(const Node& node) {
  if (nan_guard_after_ == nullptr) return;
  plan_->launches_.push_back(std::move(nan_guard_after_));
  plan_->launch_nodes_.push_back(&node);
  plan_->description_.push_back(
      absl::StrCat("nan guard: outputs of ", node.op().name()));
  ++plan_->nan_guard_launches_;
}

}  // namespace theta
