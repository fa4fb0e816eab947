// Loops that stop early (scan's `until`): their outputs have as many rows as
// steps ran, which is known only when they run. The generic run-time
// interfaces (graph/op.h, graph/runtime.h) know nothing of this; an op with
// such outputs implements EarlyStopOp beside Op, its launch derives from
// EarlyStopLaunch, and compile/ does the rest:
//
//   - the planner plans the outputs for the rows the node's last run
//     reported (at first, for the most steps the loop can run) and keys the
//     plan on them;
//   - a run that stops after another number of steps reports it to the
//     executable's EarlyStopRows and returns RowsDiffer(); the executable
//     then plans for the reported rows and runs again (a run is
//     deterministic, so the second run stops where the first did).
//
// A loop inside another loop's body cannot be planned again (its caller
// fixes the body's shapes): its launch gets no EarlyStopRows, and stopping
// at another step than planned is an error there.
#ifndef THETA_COMPILE_EARLY_STOP_H_
#define THETA_COMPILE_EARLY_STOP_H_

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "graph/op.h"
#include "graph/runtime.h"

namespace theta {

// The rows each early-stopping node of one executable last ran.
class EarlyStopRows {
 public:
  // The rows `node`'s last run reported; nullopt before any report.
  std::optional<int64_t> Get(const Node* node) const;
  void Report(const Node* node, int64_t rows) { rows_[node] = rows; }
  // Whether a plan built for `planned` (node, rows) pairs still fits.
  bool Matches(
      const std::vector<std::pair<const Node*, int64_t>>& planned) const;

 private:
  std::map<const Node*, int64_t> rows_;
};

// Implemented, besides Op, by an op whose outputs' rows are known only when
// it runs.
class EarlyStopOp {
 public:
  // Op::InferShapes, planning `rows` rows (when given) for the outputs that
  // have one per step, instead of the most the loop can run.
  virtual absl::Status InferShapesForRows(
      ShapeContext& ctx, std::optional<int64_t> rows) const = 0;

 protected:
  ~EarlyStopOp() = default;
};

// The launch of an EarlyStopOp.
class EarlyStopLaunch : public Launch {
 public:
  // Set by the planner: where to report the steps a run took when they
  // differ from the plan's, or null where the executable cannot plan again
  // (a loop body).
  void set_rows_sink(EarlyStopRows* sink, const Node* node) {
    sink_ = sink;
    node_ = node;
  }

 protected:
  // Called by Run when the loop ran `rows` steps but its outputs were
  // planned for another count: returns RowsDiffer() after reporting them,
  // or `cannot_replan` when there is nowhere to report.
  absl::Status ReportRows(int64_t rows, absl::Status cannot_replan) const;

 private:
  EarlyStopRows* sink_ = nullptr;
  const Node* node_ = nullptr;
};

// The status of a run whose plan must be built again for the rows reported
// (still recognised after the executor prefixes where it came from).
absl::Status RowsDiffer();
bool IsRowsDiffer(const absl::Status& status);

}  // namespace theta

#endif  // THETA_COMPILE_EARLY_STOP_H_
