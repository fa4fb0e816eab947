// The index spaces of reductions and gathers, computed on the host from
// checked arguments; the kernels (and the host-side tests that replay them)
// address memory through these.
//
//   ReduceGeometry g = MakeReduceGeometry(args);
//   // output o of g.out_count sums positions [0, g.red_count) of g.reduced
//   // from input offset OffsetsOf(g.kept, o)[0]
#ifndef THETA_BACKENDS_CUDA_GEOMETRY_H_
#define THETA_BACKENDS_CUDA_GEOMETRY_H_

#include <cstdint>

#include "backends/api/theta_backend.h"
#include "backends/cuda/device_math.h"

namespace theta::cuda {

// Kept dimensions (operands: input, output) and reduced ones (operand:
// input), each ordered by input stride, largest first, then collapsed, so
// that both walk memory in order where they can.
struct ReduceGeometry {
  StridedIndex<2> kept;
  StridedIndex<1> reduced;
  int64_t out_count = 0;
  int64_t red_count = 0;
  // The reduced elements of one output are closer together than
  // neighbouring outputs (PlanReduce's `contiguous`).
  bool contiguous = true;
};

// `args` must have passed the reduce checks.
ReduceGeometry MakeReduceGeometry(const theta_reduce_args& args);

// gather/scatter_add: "big" has the indexed axis, "small" the other array
// (see launchers.h's GatherParams). Position e of small is (outer o, index
// j, inner i) by SplitGatherPosition.
struct GatherGeometry {
  StridedIndex<2> outer;  // operands: big, small
  StridedIndex<2> index;  // operands: indices, small
  StridedIndex<2> inner;  // operands: big, small
  int64_t outer_count = 0, j_count = 0, inner_count = 0;
  int64_t axis_size = 0;
  int64_t axis_stride = 0;
};

// The arrays must have passed the gather checks.
GatherGeometry MakeGatherGeometry(int axis, const theta_array& big,
                                  const theta_array& indices,
                                  const theta_array& small);

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_GEOMETRY_H_
