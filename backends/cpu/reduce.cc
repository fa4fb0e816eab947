// Reductions over any set of axes of a strided array.
//
// The kept and reduced dimensions are each ordered by input stride
// (largest first) and collapsed (strided.h). When the reduced dimensions
// are the innermost in memory, each output runs along its own elements
// ("per output"); otherwise, e.g. a sum over axis 0 of a row-major matrix,
// a chunk of outputs is accumulated together while the reduced index moves
// row by row ("accumulate"), so both read memory in order. Outputs are split
// across the pool; a long reduction into few outputs is also cut into fixed
// pieces whose partial results are merged in order, so results never depend
// on the thread count.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/cpu/kernels.h"
#include "backends/cpu/reduce_runs.h"
#include "backends/cpu/strided.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cpu {
namespace {

// Input elements below which a ParallelFor range is not split off.
constexpr int64_t kParallelWork = 1 << 16;
// Outputs accumulated together in the "accumulate" order.
constexpr int64_t kOutputChunk = 1024;
// Reductions into at most kSplitOutputs outputs over at least 2 * kMinPiece
// elements are cut into at most kMaxPieces pieces of >= kMinPiece.
constexpr int64_t kSplitOutputs = 64;
constexpr int64_t kMinPiece = 1 << 15;
constexpr int64_t kMaxPieces = 256;
// In the accumulate order, outputs that fit in fewer than kSplitChunks
// chunks are also cut along the reduced rows: at most kMaxRowPieces pieces
// of at least kMinRows rows.
constexpr int64_t kSplitChunks = 16;
constexpr int64_t kMaxRowPieces = 16;
constexpr int64_t kMinRows = 16;
// Rows added per pass over a chunk's accumulators in the accumulate order.
constexpr int64_t kRowBlock = 4;

// Sums and products: double for floats, the unsigned type (wrapping) for
// integers.
template <typename T, bool kFloat = std::is_floating_point_v<T>>
struct WideOf {
  using type = double;
};
template <typename T>
struct WideOf<T, false> {
  using type = std::make_unsigned_t<T>;
};

// The accumulator of one op over element type T (kBool: T is the one-byte
// BOOL). Float sums and products accumulate in double; integer ones wrap.
template <typename T, int OP, bool kBool>
struct Reducer {
  static constexpr bool kFloat = std::is_floating_point_v<T>;
  static constexpr bool kArg =
      OP == THETA_REDUCE_ARGMAX || OP == THETA_REDUCE_ARGMIN;
  static constexpr bool kMaxLike =
      OP == THETA_REDUCE_MAX || OP == THETA_REDUCE_ARGMAX;
  using Wide = typename WideOf<T>::type;
  using Value =
      std::conditional_t<OP == THETA_REDUCE_SUM || OP == THETA_REDUCE_PROD,
                         Wide, T>;
  struct ArgAcc {
    T v;
    int64_t i;
  };
  using Acc = std::conditional_t<kArg, ArgAcc, Value>;
  using Out = std::conditional_t<kArg, int64_t, T>;

  static T Lowest() {
    if constexpr (kFloat) return -std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::lowest();
  }
  static T Highest() {
    if constexpr (kFloat) return std::numeric_limits<T>::infinity();
    if constexpr (kBool) return T(1);
    return std::numeric_limits<T>::max();
  }
  static bool IsNan(T x) { return x != x; }
  // x beats best for MAX/MIN: larger (smaller), or the first NaN.
  static bool Beats(T x, T best) {
    if constexpr (kMaxLike) {
      return x > best || (IsNan(x) && !IsNan(best));
    } else {
      return x < best || (IsNan(x) && !IsNan(best));
    }
  }

  static Acc Init() {
    if constexpr (OP == THETA_REDUCE_SUM) return Value(0);
    if constexpr (OP == THETA_REDUCE_PROD) return Value(1);
    if constexpr (OP == THETA_REDUCE_MAX) return Lowest();
    if constexpr (OP == THETA_REDUCE_MIN) return Highest();
    if constexpr (OP == THETA_REDUCE_ARGMAX) return Acc{Lowest(), 0};
    if constexpr (OP == THETA_REDUCE_ARGMIN) return Acc{Highest(), 0};
  }

  static void Add(Acc& acc, T x, int64_t pos) {
    if constexpr (OP == THETA_REDUCE_SUM) {
      acc = static_cast<Value>(acc + static_cast<Value>(x));
    } else if constexpr (OP == THETA_REDUCE_PROD) {
      acc = static_cast<Value>(acc * static_cast<Value>(x));
    } else if constexpr (kArg) {
      if (Beats(x, acc.v)) acc = Acc{x, pos};
    } else {
      acc = Beats(x, acc) ? x : acc;
    }
  }

  // acc = acc followed by `later` (a later piece of the same reduction).
  static void Merge(Acc& acc, const Acc& later) {
    if constexpr (OP == THETA_REDUCE_SUM) {
      acc = static_cast<Value>(acc + later);
    } else if constexpr (OP == THETA_REDUCE_PROD) {
      acc = static_cast<Value>(acc * later);
    } else if constexpr (kArg) {
      if (Beats(later.v, acc.v)) acc = later;
    } else {
      acc = Beats(later, acc) ? later : acc;
    }
  }

  static Out Final(const Acc& acc) {
    if constexpr (kArg) {
      return acc.i;
    } else {
      return static_cast<T>(acc);
    }
  }

  // Adds p[0], p[s], ... p[(len - 1) s] at positions pos, pos + 1, ...
  static void AddRun(Acc& acc, const T* p, int64_t s, int64_t len,
                     int64_t pos) {
    // Runs shorter than the vector loops' step stay inline here.
    if constexpr (kFloat) {
      if (s == 1) {
        if constexpr (OP == THETA_REDUCE_SUM) {
          if (len >= 16) return reduce_runs::Sum(acc, p, len);
        } else if constexpr (OP != THETA_REDUCE_PROD) {
          if (len >= simd::Vec<T>::kWidth && AddExtremeRun(acc, p, len, pos)) {
            return;
          }
        }
      }
    }
    for (int64_t t = 0; t < len; ++t) Add(acc, p[t * s], pos + t);
  }

  // a[u] += p[r * rs + u] (in Add's sense, at position pos + r) for rows
  // r = 0, 1, ... rows - 1 in turn, u in [0, len).
  static void AddRows(Acc* a, const T* p, int64_t rs, int64_t rows, int64_t len,
                      int64_t pos) {
    if constexpr (OP == THETA_REDUCE_SUM && kFloat) {
      return reduce_runs::AddRows(a, p, rs, rows, len);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = p + r * rs;
      for (int64_t u = 0; u < len; ++u) Add(a[u], row[u], pos + r);
    }
  }

 private:
  // MAX, MIN, ARGMAX or ARGMIN over contiguous p[0, len): the whole
  // vectors give the run's extremum, and the first element equal to it is
  // the one the element-by-element loop would keep (for a tie of +0 and -0
  // as well); the rest goes one by one. Returns false, having added
  // nothing, when the vectors hold a NaN: the plain loop then finds the
  // first one.
  static bool AddExtremeRun(Acc& acc, const T* p, int64_t len, int64_t pos) {
    T e;
    const int64_t whole = reduce_runs::Extreme<kMaxLike>(p, len, &e);
    if (whole < 0) return false;
    if (whole > 0) {
      if constexpr (kArg) {
        if (Beats(e, acc.v)) {
          const int64_t i = reduce_runs::FirstEqual(p, whole, e);
          acc = Acc{p[i], pos + i};
        }
      } else if (Beats(e, acc)) {
        acc = e != 0 ? e : p[reduce_runs::FirstEqual(p, whole, e)];
      }
    }
    for (int64_t t = whole; t < len; ++t) Add(acc, p[t], pos + t);
    return true;
  }
};

// The reduction's geometry: kept dimensions (operands: input, output) and
// reduced dimensions (operand: input), each collapsed.
struct Geometry {
  Layout<2> kept;
  Layout<1> reduced;
  int64_t out_count;
  int64_t red_count;
  bool per_output;  // iterate reduced elements per output (else accumulate)
};

Geometry MakeGeometry(const theta_reduce_args& args) {
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
  // Stable insertion sort by decreasing input stride: at most kMaxDims
  // items, and std::stable_sort would allocate a buffer on every call.
  auto sort_by_stride = [](Dim* dims, int n) {
    for (int i = 1; i < n; ++i) {
      for (int j = i; j > 0 && dims[j - 1].in < dims[j].in; --j) {
        std::swap(dims[j - 1], dims[j]);
      }
    }
  };
  sort_by_stride(kept, nk);
  sort_by_stride(red, nr);
  int64_t shape[kMaxDims], s0[kMaxDims], s1[kMaxDims];
  for (int i = 0; i < nk; ++i) {
    shape[i] = kept[i].size;
    s0[i] = kept[i].in;
    s1[i] = kept[i].out;
  }
  Geometry g;
  g.kept = Collapse<2>(nk, shape, {s0, s1});
  for (int i = 0; i < nr; ++i) {
    shape[i] = red[i].size;
    s0[i] = red[i].in;
  }
  g.reduced = Collapse<1>(nr, shape, {s0});
  g.out_count = g.kept.Count();
  g.red_count = g.reduced.Count();
  g.per_output =
      nk == 0 || nr == 0 || g.reduced.InnerStride(0) < g.kept.InnerStride(0);
  return g;
}

template <typename R, typename T>
class Reduction {
 public:
  using Acc = typename R::Acc;
  using Out = typename R::Out;

  Reduction(const Geometry& g, const T* in, Out* out)
      : g_(g), in_(in), out_(out) {}

  // Reduces elements [r0, r1) of the reduced space for outputs [o0, o1)
  // (kept linear order). Each output's accumulator goes to partial[o] when
  // `partial` is given, else (finished) to the output.
  void Run(int64_t o0, int64_t o1, int64_t r0, int64_t r1, Acc* partial) const {
    if (g_.per_output) {
      RunPerOutput(o0, o1, r0, r1, partial);
    } else {
      for (int64_t c = o0; c < o1; c += kOutputChunk) {
        RunAccumulate(c, std::min(o1, c + kOutputChunk), r0, r1, partial);
      }
    }
  }

  void Write(int64_t out_offset, const Acc& acc) const {
    out_[out_offset] = R::Final(acc);
  }

 private:
  void Emit(Acc* partial, int64_t o, int64_t out_offset, const Acc& acc) const {
    if (partial != nullptr) {
      partial[o] = acc;
    } else {
      Write(out_offset, acc);
    }
  }

  void RunPerOutput(int64_t o0, int64_t o1, int64_t r0, int64_t r1,
                    Acc* partial) const {
    const Layout<1>& rl = g_.reduced;
    const int64_t ks = g_.kept.InnerStride(0), os = g_.kept.InnerStride(1);
    const int64_t rs = rl.InnerStride(0);
    Walk(g_.kept, o0, o1 - o0, [&](const int64_t* off, int64_t len, int64_t k) {
      for (int64_t t = 0; t < len; ++t) {
        const T* base = in_ + off[0] + t * ks;
        Acc acc = R::Init();
        if (rl.rank == 1) {
          R::AddRun(acc, base + r0 * rs, rs, r1 - r0, r0);
        } else {
          Walk(rl, r0, r1 - r0,
               [&](const int64_t* roff, int64_t rlen, int64_t rk) {
                 R::AddRun(acc, base + roff[0], rs, rlen, r0 + rk);
               });
        }
        Emit(partial, o0 + k + t, off[1] + t * os, acc);
      }
    });
  }

  void RunAccumulate(int64_t o0, int64_t o1, int64_t r0, int64_t r1,
                     Acc* partial) const {
    struct Run {
      int64_t in, out, len, k;
    };
    Run runs[kOutputChunk];
    int num_runs = 0;
    Walk(g_.kept, o0, o1 - o0, [&](const int64_t* off, int64_t len, int64_t k) {
      runs[num_runs++] = Run{off[0], off[1], len, k};
    });
    Acc acc[kOutputChunk];
    const int count = static_cast<int>(std::min(o1 - o0, kOutputChunk));
    for (int i = 0; i < count; ++i) acc[i] = R::Init();
    const int64_t ks = g_.kept.InnerStride(0), os = g_.kept.InnerStride(1);
    const int64_t rs = g_.reduced.InnerStride(0);
    Walk(g_.reduced, r0, r1 - r0,
         [&](const int64_t* roff, int64_t rlen, int64_t rk) {
           for (int64_t t = 0; t < rlen; t += kRowBlock) {
             const T* base = in_ + roff[0] + t * rs;
             const int64_t rows = std::min(kRowBlock, rlen - t);
             const int64_t pos = r0 + rk + t;
             for (int i = 0; i < num_runs; ++i) {
               const T* p = base + runs[i].in;
               Acc* a = acc + runs[i].k;
               const int64_t len = runs[i].len;
               if (ks == 1) {
                 R::AddRows(a, p, rs, rows, len, pos);
               } else {
                 for (int64_t r = 0; r < rows; ++r) {
                   for (int64_t u = 0; u < len; ++u) {
                     R::Add(a[u], p[r * rs + u * ks], pos + r);
                   }
                 }
               }
             }
           }
         });
    for (int i = 0; i < num_runs; ++i) {
      for (int64_t u = 0; u < runs[i].len; ++u) {
        const int64_t k = runs[i].k + u;
        Emit(partial, o0 + k, runs[i].out + u * os, acc[k]);
      }
    }
  }

  const Geometry& g_;
  const T* in_;
  Out* out_;
};

template <typename R, typename T>
void RunReduction(ThreadPool& pool, Scratch& scratch, const Geometry& g,
                  const void* input, void* output) {
  using Acc = typename R::Acc;
  Reduction<R, T> red(g, static_cast<const T*>(input),
                      static_cast<typename R::Out*>(output));
  if (g.red_count == 0) {  // the empty set: every output is the identity
    Walk(g.kept, 0, g.out_count, [&](const int64_t* off, int64_t len, int64_t) {
      for (int64_t t = 0; t < len; ++t) {
        red.Write(off[1] + t * g.kept.InnerStride(1), R::Init());
      }
    });
    return;
  }
  // Pieces depend on the sizes only, never on the thread count.
  int64_t piece = g.red_count;
  if (g.per_output) {
    // Few outputs over long reductions.
    if (g.out_count <= kSplitOutputs && g.red_count >= 2 * kMinPiece) {
      piece = std::max(kMinPiece, (g.red_count + kMaxPieces - 1) / kMaxPieces);
    }
  } else if (g.out_count < kSplitChunks * kOutputChunk &&
             g.out_count * g.red_count >= 2 * kMinPiece) {
    // Accumulating rows into few chunks of outputs: give each piece a
    // contiguous band of rows, so tasks read long runs of memory.
    piece =
        std::max(kMinRows, (g.red_count + kMaxRowPieces - 1) / kMaxRowPieces);
  }
  const int64_t pieces = (g.red_count + piece - 1) / piece;
  if (pieces == 1) {
    const int64_t grain = std::max<int64_t>(1, kParallelWork / g.red_count);
    pool.ParallelFor(g.out_count, grain, [&](int64_t o0, int64_t o1) {
      red.Run(o0, o1, 0, g.red_count, /*partial=*/nullptr);
    });
    return;
  }
  Acc* partial = scratch.Get<Acc>(Scratch::kFirst, pieces * g.out_count);
  const int64_t grain = std::max<int64_t>(
      1, kParallelWork / std::max<int64_t>(1, piece * g.out_count));
  pool.ParallelFor(pieces, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      red.Run(0, g.out_count, p * piece, std::min(g.red_count, (p + 1) * piece),
              partial + p * g.out_count);
    }
  });
  Walk(g.kept, 0, g.out_count, [&](const int64_t* off, int64_t len, int64_t k) {
    for (int64_t t = 0; t < len; ++t) {
      Acc acc = partial[k + t];
      for (int64_t p = 1; p < pieces; ++p) {
        R::Merge(acc, partial[p * g.out_count + k + t]);
      }
      red.Write(off[1] + t * g.kept.InnerStride(1), acc);
    }
  });
}

template <int OP>
void Dispatch(ThreadPool& pool, Scratch& scratch, const Geometry& g,
              const theta_reduce_args& a) {
  const void* in = a.input.data;
  void* out = a.output.data;
  switch (a.input.dtype) {
    case THETA_DTYPE_F32:
      return RunReduction<Reducer<float, OP, false>, float>(pool, scratch, g,
                                                            in, out);
    case THETA_DTYPE_F64:
      return RunReduction<Reducer<double, OP, false>, double>(pool, scratch, g,
                                                              in, out);
    case THETA_DTYPE_I32:
      return RunReduction<Reducer<int32_t, OP, false>, int32_t>(pool, scratch,
                                                                g, in, out);
    case THETA_DTYPE_I64:
      return RunReduction<Reducer<int64_t, OP, false>, int64_t>(pool, scratch,
                                                                g, in, out);
    case THETA_DTYPE_U8:
      return RunReduction<Reducer<uint8_t, OP, false>, uint8_t>(pool, scratch,
                                                                g, in, out);
    case THETA_DTYPE_BOOL:
      if constexpr (OP != THETA_REDUCE_SUM && OP != THETA_REDUCE_PROD) {
        return RunReduction<Reducer<uint8_t, OP, true>, uint8_t>(pool, scratch,
                                                                 g, in, out);
      }
      return;
  }
}

}  // namespace

theta_status* Reduce(ThreadPool& pool, Scratch& scratch,
                     const theta_reduce_args& args) {
  if (theta_status* s = plugin_kit::CheckReduce(args)) return s;
  if (NumElements(args.output) == 0) return nullptr;
  const Geometry g = MakeGeometry(args);
  switch (args.op) {
    case THETA_REDUCE_SUM:
      Dispatch<THETA_REDUCE_SUM>(pool, scratch, g, args);
      break;
    case THETA_REDUCE_PROD:
      Dispatch<THETA_REDUCE_PROD>(pool, scratch, g, args);
      break;
    case THETA_REDUCE_MAX:
      Dispatch<THETA_REDUCE_MAX>(pool, scratch, g, args);
      break;
    case THETA_REDUCE_MIN:
      Dispatch<THETA_REDUCE_MIN>(pool, scratch, g, args);
      break;
    case THETA_REDUCE_ARGMAX:
      Dispatch<THETA_REDUCE_ARGMAX>(pool, scratch, g, args);
      break;
    case THETA_REDUCE_ARGMIN:
      Dispatch<THETA_REDUCE_ARGMIN>(pool, scratch, g, args);
      break;
  }
  return nullptr;
}

}  // namespace theta::cpu
