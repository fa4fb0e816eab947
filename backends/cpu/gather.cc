// gather (take along an axis) and its adjoint scatter_add.
//
// Both see three index groups: the outer dimensions (before the axis), the
// index positions j (the indices' dimensions) and the inner dimensions
// (after the axis). Indices are read, range-checked and wrapped once, in
// row-major order, so an error names the first bad position. gather splits
// (outer, j) rows across the pool. scatter_add splits (outer, inner-chunk)
// pairs and runs every j in order inside one task: no two tasks touch the
// same destination element, so duplicates accumulate race-free and in a
// fixed order.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "backends/cpu/kernels.h"
#include "backends/cpu/strided.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cpu {
namespace {

// Elements moved below which a ParallelFor range is not split off.
constexpr int64_t kParallelWork = 1 << 15;
// Inner elements per scatter_add task.
constexpr int64_t kInnerChunk = 4096;

// The geometry shared by both ops. "big" is the array with the indexed axis
// (gather: source; scatter_add: destination), "small" the other one
// (gather: output; scatter_add: source).
struct Geometry {
  Layout<2> outer;  // operands: big, small
  Layout<2> inner;  // operands: big, small
  int64_t outer_count, inner_count, j_count;
  int64_t axis_stride;    // big's stride along the axis
  int64_t axis_size;      // big's size along the axis
  int64_t* index;         // per j: the index, wrapped (in scratch)
  int64_t* small_offset;  // per j: offset of j in small (in scratch)
};

// Validates the arrays and reads the indices into g.
theta_status* Prepare(const char* fn, const theta_gather_args& a,
                      const theta_array& big, const char* big_name,
                      const theta_array& small, const char* small_name,
                      Scratch& scratch, Geometry* g) {
  const theta_array& idx = a.indices;
  if (theta_status* s = plugin_kit::CheckGatherArrays(fn, a, big, big_name,
                                                      small, small_name)) {
    return s;
  }
  const int ax = a.axis;

  // Indices, in row-major order of the indices' shape.
  const int64_t size = big.shape[ax];
  g->j_count = NumElements(idx);
  g->axis_stride = big.strides[ax];
  g->axis_size = size;
  g->index = scratch.Get<int64_t>(Scratch::kFirst, g->j_count);
  g->small_offset = scratch.Get<int64_t>(Scratch::kSecond, g->j_count);
  if (g->j_count > 0) {
    const Layout<2> il =
        Collapse<2>(idx.ndim, idx.shape, {idx.strides, small.strides + ax});
    const int64_t is = il.InnerStride(0), ss = il.InnerStride(1);
    int64_t bad = -1, bad_value = 0;
    Walk(il, 0, g->j_count, [&](const int64_t* off, int64_t len, int64_t k) {
      for (int64_t t = 0; t < len && bad < 0; ++t) {
        int64_t v =
            idx.dtype == THETA_DTYPE_I32
                ? static_cast<const int32_t*>(idx.data)[off[0] + t * is]
                : static_cast<const int64_t*>(idx.data)[off[0] + t * is];
        if (v < -size || v >= size) {
          bad = k + t;
          bad_value = v;
        }
        if (v < 0) v += size;
        g->index[k + t] = v;
        g->small_offset[k + t] = off[1] + t * ss;
      }
    });
    if (bad >= 0) {
      return InvalidArgument(fn, ": index ", bad_value, " out of range [",
                             -size, ", ", size, ") at position ", bad);
    }
  }

  const std::array<const int64_t*, 2> outer_strides = {big.strides,
                                                       small.strides};
  g->outer = Collapse<2>(ax, big.shape, outer_strides);
  g->outer_count = g->outer.Count();
  const int n_inner = big.ndim - ax - 1;
  g->inner = Collapse<2>(n_inner, big.shape + ax + 1,
                         {big.strides + ax + 1, small.strides + ax + idx.ndim});
  g->inner_count = g->inner.Count();
  return nullptr;
}

// Offsets (big, small) of outer index o.
void OuterOffsets(const Layout<2>& l, int64_t o, int64_t* big, int64_t* small) {
  *big = 0;
  *small = 0;
  for (int d = l.rank - 1; d >= 0; --d) {
    const int64_t i = o % l.shape[d];
    o /= l.shape[d];
    *big += i * l.stride[0][d];
    *small += i * l.stride[1][d];
  }
}

template <typename E>
void RunGather(ThreadPool& pool, const Geometry& g, const E* src, E* out) {
  const int64_t rows = g.outer_count * g.j_count;
  const int64_t bs = g.inner.InnerStride(0), ss = g.inner.InnerStride(1);
  const int64_t grain = std::max<int64_t>(1, kParallelWork / g.inner_count);
  pool.ParallelFor(rows, grain, [&](int64_t r0, int64_t r1) {
    int64_t o = r0 / g.j_count, j = r0 % g.j_count;
    int64_t ob, os;
    OuterOffsets(g.outer, o, &ob, &os);
    for (int64_t r = r0; r < r1; ++r) {
      const E* s = src + ob + g.index[j] * g.axis_stride;
      E* d = out + os + g.small_offset[j];
      if (g.inner_count == 1) {
        *d = *s;
      } else {
        Walk(g.inner, 0, g.inner_count,
             [&](const int64_t* off, int64_t len, int64_t) {
               if (bs == 1 && ss == 1) {
                 std::memcpy(d + off[1], s + off[0],
                             static_cast<size_t>(len) * sizeof(E));
               } else {
                 for (int64_t t = 0; t < len; ++t) {
                   d[off[1] + t * ss] = s[off[0] + t * bs];
                 }
               }
             });
      }
      if (++j == g.j_count && r + 1 < r1) {
        j = 0;
        OuterOffsets(g.outer, ++o, &ob, &os);
      }
    }
  });
}

template <typename T>
T Add(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}

template <typename T>
void RunScatterAdd(ThreadPool& pool, const Geometry& g, const T* src, T* dst) {
  const int64_t chunks = (g.inner_count + kInnerChunk - 1) / kInnerChunk;
  const int64_t inner = std::min(g.inner_count, kInnerChunk);
  // With few (outer, chunk) pairs, also split the destination axis into
  // parts: a task then adds only the indices that fall in its part. Any
  // split gives the same sums: each destination element still receives its
  // terms in order of j.
  int64_t parts = 1;
  const int64_t pairs = g.outer_count * chunks;
  if (pairs < 2 * pool.num_threads() &&
      g.j_count * inner >= 2 * kParallelWork) {
    parts = std::min<int64_t>(g.axis_size,
                              (2 * pool.num_threads() + pairs - 1) / pairs);
  }
  const int64_t tasks = pairs * parts;
  const int64_t per_task = std::max<int64_t>(1, g.j_count * inner / parts);
  const int64_t grain = std::max<int64_t>(1, kParallelWork / per_task);
  const int64_t ds = g.inner.InnerStride(0), ss = g.inner.InnerStride(1);
  pool.ParallelFor(tasks, grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t part = t % parts, pair = t / parts;
      const int64_t o = pair / chunks, c = pair % chunks;
      const int64_t lo = part * g.axis_size / parts;
      const int64_t hi = (part + 1) * g.axis_size / parts;
      const int64_t i0 = c * kInnerChunk;
      const int64_t i1 = std::min(g.inner_count, i0 + kInnerChunk);
      int64_t ob, os;
      OuterOffsets(g.outer, o, &ob, &os);
      for (int64_t j = 0; j < g.j_count; ++j) {
        if (g.index[j] < lo || g.index[j] >= hi) continue;
        T* d = dst + ob + g.index[j] * g.axis_stride;
        const T* s = src + os + g.small_offset[j];
        if (g.inner_count == 1) {
          *d = Add(*d, *s);
          continue;
        }
        Walk(g.inner, i0, i1 - i0,
             [&](const int64_t* off, int64_t len, int64_t) {
               T* dd = d + off[0];
               const T* sp = s + off[1];
               for (int64_t u = 0; u < len; ++u) {
                 dd[u * ds] = Add(dd[u * ds], sp[u * ss]);
               }
             });
      }
    }
  });
}

}  // namespace

theta_status* Gather(ThreadPool& pool, Scratch& scratch,
                     const theta_gather_args& a) {
  Geometry g;
  if (theta_status* s = Prepare("gather", a, a.source, "source", a.output,
                                "output", scratch, &g)) {
    return s;
  }
  if (theta_status* s = CheckWritable("gather", "output", a.output)) return s;
  if (g.outer_count == 0 || g.j_count == 0 || g.inner_count == 0) {
    return nullptr;
  }
  switch (DtypeSize(a.source.dtype)) {
    case 1:
      RunGather(pool, g, static_cast<const uint8_t*>(a.source.data),
                static_cast<uint8_t*>(a.output.data));
      break;
    case 4:
      RunGather(pool, g, static_cast<const uint32_t*>(a.source.data),
                static_cast<uint32_t*>(a.output.data));
      break;
    default:
      RunGather(pool, g, static_cast<const uint64_t*>(a.source.data),
                static_cast<uint64_t*>(a.output.data));
      break;
  }
  return nullptr;
}

// scatter_add: args.output is the destination (the gather source's shape),
// args.source has the gather output's shape, args.axis indexes the
// destination.
theta_status* ScatterAdd(ThreadPool& pool, Scratch& scratch,
                         const theta_gather_args& a) {
  Geometry g;
  if (theta_status* s = Prepare("scatter_add", a, a.output, "destination",
                                a.source, "source", scratch, &g)) {
    return s;
  }
  if (theta_status* s = CheckWritable("scatter_add", "destination", a.output)) {
    return s;
  }
  if (a.output.dtype == THETA_DTYPE_BOOL) {
    return InvalidArgument(
        "scatter_add: BOOL is not supported (F32, F64, I32, I64 or U8)");
  }
  if (g.outer_count == 0 || g.j_count == 0 || g.inner_count == 0) {
    return nullptr;
  }
  const void* src = a.source.data;
  void* dst = a.output.data;
  switch (a.output.dtype) {
    case THETA_DTYPE_F32:
      RunScatterAdd(pool, g, static_cast<const float*>(src),
                    static_cast<float*>(dst));
      break;
    case THETA_DTYPE_F64:
      RunScatterAdd(pool, g, static_cast<const double*>(src),
                    static_cast<double*>(dst));
      break;
    case THETA_DTYPE_I32:
      RunScatterAdd(pool, g, static_cast<const int32_t*>(src),
                    static_cast<int32_t*>(dst));
      break;
    case THETA_DTYPE_I64:
      RunScatterAdd(pool, g, static_cast<const int64_t*>(src),
                    static_cast<int64_t*>(dst));
      break;
    default:
      RunScatterAdd(pool, g, static_cast<const uint8_t*>(src),
                    static_cast<uint8_t*>(dst));
      break;
  }
  return nullptr;
}

}  // namespace theta::cpu
