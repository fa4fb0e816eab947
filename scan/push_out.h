// Pushing sequence-only work out of a loop: a computation inside the body
// that reads only one sequence's slice (and values that do not change from
// step to step) is computed for every step at once before the loop, and the
// body reads its rows as a new sequence. The input projection of an LSTM,
// x_t W for every t, becomes one GEMM over all T*B rows; a bias added to the
// step's sum (x_t W + h U + b) is regrouped to join it (x_t W + b), so the
// step adds nothing but h U.
//
//   LoopBody body{inner_inputs, inner_outputs, sequence_inputs, non_seqs};
//   int pushed = PushOutSequenceWork(spec, body);
#ifndef THETA_SCAN_PUSH_OUT_H_
#define THETA_SCAN_PUSH_OUT_H_

#include <vector>

#include "graph/ir.h"
#include "scan/scan_op.h"

namespace theta {

// A loop body being built: the spec's inner inputs and outputs, the node's
// [n_steps, sequences...] inputs and its non-sequence inputs.
struct LoopBody {
  std::vector<Var> inner_inputs;
  std::vector<Var> inner_outputs;
  std::vector<Var> sequence_inputs;
  std::vector<Var> non_sequences;
};

// Rewrites `body` (and spec.sequences) so that sequence-only subgraphs
// containing a product run before the loop. Returns how many values were
// pushed out. The spec's outputs, until and non-sequence count must
// describe `body` already.
int PushOutSequenceWork(ScanSpec& spec, LoopBody& body);

}  // namespace theta

#endif  // THETA_SCAN_PUSH_OUT_H_
