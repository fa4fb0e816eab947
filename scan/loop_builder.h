// BuildLoop: the common last stage of every loop (user scans and
// gradients): hoists what does not change from step to step out of the
// body, pushes sequence-only work out, and creates the Scan node.
#ifndef THETA_SCAN_LOOP_BUILDER_H_
#define THETA_SCAN_LOOP_BUILDER_H_

#include <memory>
#include <vector>

#include "graph/ir.h"
#include "scan/scan_op.h"

namespace theta {

struct LoopDefinition {
  // Sequences and outputs filled in; BuildLoop sets the body.
  std::shared_ptr<ScanSpec> spec;
  // Placeholders read per step: every sequence tap, then every output tap
  // (outputs that are not kMap, in order).
  std::vector<Var> step_placeholders;
  // Placeholders for the non-sequences, and their outer values.
  std::vector<Var> non_sequence_placeholders;
  std::vector<Var> non_sequences;
  // One per output, then the until condition if any.
  std::vector<Var> inner_outputs;
  Var n_steps;                      // int64 scalar
  std::vector<Var> sequences;       // outer arrays, one per spec sequence
  std::vector<Var> initial_states;  // one per output that is not kMap
  // Values from outside the loop must come in as non-sequences.
  bool strict = false;
};

// Returns the node's outputs. Throws Error at `where` in strict mode when
// the body uses an outside variable that is not a non-sequence.
std::vector<Var> BuildLoop(LoopDefinition def);

}  // namespace theta

#endif  // THETA_SCAN_LOOP_BUILDER_H_
