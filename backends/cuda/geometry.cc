#include "backends/cuda/geometry.h"

#include "backends/cuda/strided.h"

namespace theta::cuda {

ReduceGeometry MakeReduceGeometry(const theta_reduce_args& args) {
  struct Dim {
    int64_t size, in, out;
  };
  const theta_array& in = args.input;
  const theta_array& out = args.output;
  Dim kept[kMaxDims], red[kMaxDims];
  int nk = 0, nr = 0;
  for (int d = 0; d < in.ndim; ++d) {
    if (in.shape[d] == 1) continue;
    if (args.axes_mask >> d & 1) {
      red[nr++] = Dim{in.shape[d], in.strides[d], 0};
    } else {
      kept[nk++] = Dim{in.shape[d], in.strides[d], out.strides[d]};
    }
  }
  // A stable insertion sort by input stride, largest first: at most
  // kMaxDims entries, and std::stable_sort would take a heap buffer on
  // every call.
  auto sort_by_stride = [](Dim* dims, int n) {
    for (int i = 1; i < n; ++i) {
      const Dim d = dims[i];
      int j = i;
      for (; j > 0 && dims[j - 1].in < d.in; --j) dims[j] = dims[j - 1];
      dims[j] = d;
    }
  };
  sort_by_stride(kept, nk);
  sort_by_stride(red, nr);
  int64_t shape[kMaxDims] = {}, s0[kMaxDims] = {}, s1[kMaxDims] = {};
  for (int i = 0; i < nk; ++i) {
    shape[i] = kept[i].size;
    s0[i] = kept[i].in;
    s1[i] = kept[i].out;
  }
  ReduceGeometry g;
  g.kept = Collapse<2>(nk, shape, {s0, s1});
  for (int i = 0; i < nr; ++i) {
    shape[i] = red[i].size;
    s0[i] = red[i].in;
  }
  g.reduced = Collapse<1>(nr, shape, {s0});
  g.out_count = CountOf(g.kept);
  g.red_count = CountOf(g.reduced);
  const int64_t kept_inner = g.kept.stride[0][g.kept.rank - 1];
  const int64_t red_inner = g.reduced.stride[0][g.reduced.rank - 1];
  g.contiguous = nk == 0 || nr == 0 || red_inner < kept_inner;
  return g;
}

GatherGeometry MakeGatherGeometry(int axis, const theta_array& big,
                                  const theta_array& indices,
                                  const theta_array& small) {
  GatherGeometry g;
  g.outer = Collapse<2>(axis, big.shape, {big.strides, small.strides});
  g.index = Collapse<2>(indices.ndim, indices.shape,
                        {indices.strides, small.strides + axis});
  g.inner = Collapse<2>(
      big.ndim - axis - 1, big.shape + axis + 1,
      {big.strides + axis + 1, small.strides + axis + indices.ndim});
  g.outer_count = CountOf(g.outer);
  g.j_count = CountOf(g.index);
  g.inner_count = CountOf(g.inner);
  g.axis_size = big.shape[axis];
  g.axis_stride = big.strides[axis];
  return g;
}

}  // namespace theta::cuda
