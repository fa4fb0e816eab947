// Strided copy, fill and the parallel memcpy behind the byte copies.
#include <cstdlib>
#include <cstring>

#include "backends/api/elementwise_semantics.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/strided.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cpu {
namespace {

// Elements per ParallelFor item below which a copy or fill stays inline.
constexpr int64_t kCopyGrain = 1 << 16;
constexpr uint64_t kMemcpyChunk = 1 << 18;  // bytes

// Copies the elements [begin, end) of the index space of `l` (operand 0 the
// destination, 1 the source); E is an unsigned type of the element's size.
template <typename E>
void CopyRange(const Layout<2>& l, E* dst, const E* src, int64_t begin,
               int64_t end) {
  const int64_t ds = l.InnerStride(0), ss = l.InnerStride(1);
  Walk(l, begin, end - begin, [&](const int64_t* off, int64_t len, int64_t) {
    E* d = dst + off[0];
    const E* s = src + off[1];
    if (ds == 1 && ss == 1) {
      std::memcpy(d, s, static_cast<size_t>(len) * sizeof(E));
    } else if (ss == 0) {
      const E v = *s;
      for (int64_t t = 0; t < len; ++t) d[t * ds] = v;
    } else {
      for (int64_t t = 0; t < len; ++t) d[t * ds] = s[t * ss];
    }
  });
}

// Side of the square tiles of a transposing copy.
constexpr int64_t kTile = 32;

// A copy whose source runs fastest along another dimension than the
// destination (a transpose) moves kTile x kTile tiles, so that both sides
// use whole cache lines. Returns false when the layout is not such a copy.
template <typename E>
bool TiledCopy(ThreadPool& pool, const Layout<2>& l, E* dst, const E* src) {
  const int r = l.rank;
  if (r < 2) return false;
  const int a = r - 1;  // the destination's innermost dimension
  int b = 0;            // the source's fastest dimension
  // Strides compare by magnitude: a reversed source runs backwards.
  for (int d = 1; d < r; ++d) {
    if (std::abs(l.stride[1][d]) < std::abs(l.stride[1][b])) b = d;
  }
  if (b == a || l.stride[1][b] == 0 ||
      std::abs(l.stride[1][b]) >= std::abs(l.stride[1][a]) ||
      l.shape[a] < kTile / 2 || l.shape[b] < kTile / 2) {
    return false;
  }
  // The other dimensions, iterated element by element.
  int64_t oshape[kMaxDims], od[kMaxDims], os[kMaxDims];
  int no = 0;
  for (int d = 0; d < r; ++d) {
    if (d == a || d == b) continue;
    oshape[no] = l.shape[d];
    od[no] = l.stride[0][d];
    os[no] = l.stride[1][d];
    ++no;
  }
  const Layout<2> outer = Collapse<2>(no, oshape, {od, os});
  const int64_t na = l.shape[a], nb = l.shape[b];
  const int64_t da = l.stride[0][a], db = l.stride[0][b];
  const int64_t sa = l.stride[1][a], sb = l.stride[1][b];
  const int64_t bands = (nb + kTile - 1) / kTile;  // bands of kTile rows of b
  const int64_t tasks = outer.Count() * bands;
  const int64_t grain = std::max<int64_t>(1, kCopyGrain / (kTile * na));
  pool.ParallelFor(tasks, grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t band = t % bands;
      int64_t doff = 0, soff = 0;
      Walk(outer, t / bands, 1, [&](const int64_t* off, int64_t, int64_t) {
        doff = off[0];
        soff = off[1];
      });
      const int64_t i0 = band * kTile, i1 = std::min(nb, i0 + kTile);
      E tile[kTile][kTile];
      for (int64_t j0 = 0; j0 < na; j0 += kTile) {
        const int64_t j1 = std::min(na, j0 + kTile);
        // Read source runs (along b), then write destination runs (along
        // a): each touches one line at a time, whatever the strides'
        // cache-set aliasing (power-of-two strides).
        for (int64_t j = j0; j < j1; ++j) {
          const E* s = src + soff + j * sa;
          for (int64_t i = i0; i < i1; ++i) tile[j - j0][i - i0] = s[i * sb];
        }
        for (int64_t i = i0; i < i1; ++i) {
          E* d = dst + doff + i * db;
          for (int64_t j = j0; j < j1; ++j) d[j * da] = tile[j - j0][i - i0];
        }
      }
    }
  });
  return true;
}

template <typename E>
void CopyAll(ThreadPool& pool, const Layout<2>& l, void* dst, const void* src) {
  E* d = static_cast<E*>(dst);
  const E* s = static_cast<const E*>(src);
  if (TiledCopy(pool, l, d, s)) return;
  pool.ParallelFor(l.Count(), kCopyGrain, [&](int64_t begin, int64_t end) {
    CopyRange(l, d, s, begin, end);
  });
}

template <typename T>
void FillAll(ThreadPool& pool, const theta_array& a, T value) {
  Layout<1> l = Collapse<1>(a.ndim, a.shape, {a.strides});
  T* data = static_cast<T*>(a.data);
  const int64_t stride = l.InnerStride(0);
  pool.ParallelFor(l.Count(), kCopyGrain, [&](int64_t begin, int64_t end) {
    Walk(l, begin, end - begin, [&](const int64_t* off, int64_t len, int64_t) {
      T* d = data + off[0];
      if (stride == 1) {
        std::fill(d, d + len, value);
      } else {
        for (int64_t t = 0; t < len; ++t) d[t * stride] = value;
      }
    });
  });
}

}  // namespace

void ParallelMemcpy(ThreadPool& pool, void* dst, const void* src,
                    uint64_t bytes) {
  if (bytes < 4 * kMemcpyChunk) {
    std::memcpy(dst, src, static_cast<size_t>(bytes));
    return;
  }
  char* d = static_cast<char*>(dst);
  const char* s = static_cast<const char*>(src);
  const int64_t chunks =
      static_cast<int64_t>((bytes + kMemcpyChunk - 1) / kMemcpyChunk);
  pool.ParallelFor(chunks, 1, [&](int64_t begin, int64_t end) {
    uint64_t lo = static_cast<uint64_t>(begin) * kMemcpyChunk;
    uint64_t hi = std::min(bytes, static_cast<uint64_t>(end) * kMemcpyChunk);
    std::memcpy(d + lo, s + lo, static_cast<size_t>(hi - lo));
  });
}

theta_status* Copy(ThreadPool& pool, const theta_copy_args& args) {
  const theta_array& src = args.source;
  const theta_array& dst = args.destination;
  if (theta_status* s = plugin_kit::CheckCopy(args)) return s;
  if (NumElements(src) == 0) return nullptr;
  bool identical = src.data == dst.data;
  for (int d = 0; identical && d < src.ndim; ++d) {
    identical = src.shape[d] == 1 || src.strides[d] == dst.strides[d];
  }
  if (identical) return nullptr;

  Layout<2> l = Collapse<2>(src.ndim, src.shape, {dst.strides, src.strides});
  const size_t size = DtypeSize(src.dtype);
  if (l.rank == 1 && l.InnerStride(0) == 1 && l.InnerStride(1) == 1) {
    ParallelMemcpy(pool, dst.data, src.data,
                   static_cast<uint64_t>(l.Count()) * size);
    return nullptr;
  }
  switch (size) {
    case 1:
      CopyAll<uint8_t>(pool, l, dst.data, src.data);
      break;
    case 4:
      CopyAll<uint32_t>(pool, l, dst.data, src.data);
      break;
    default:
      CopyAll<uint64_t>(pool, l, dst.data, src.data);
      break;
  }
  return nullptr;
}

theta_status* Fill(ThreadPool& pool, const theta_array& array, double value) {
  if (theta_status* s = plugin_kit::CheckFill(array)) return s;
  if (NumElements(array) == 0) return nullptr;
  switch (array.dtype) {
    case THETA_DTYPE_F32:
      FillAll<float>(pool, array, static_cast<float>(value));
      break;
    case THETA_DTYPE_F64:
      FillAll<double>(pool, array, value);
      break;
    case THETA_DTYPE_I32:
      FillAll<int32_t>(pool, array, ew::Convert<int32_t>(value));
      break;
    case THETA_DTYPE_I64:
      FillAll<int64_t>(pool, array, ew::Convert<int64_t>(value));
      break;
    case THETA_DTYPE_U8:
      FillAll<uint8_t>(pool, array, ew::Convert<uint8_t>(value));
      break;
    case THETA_DTYPE_BOOL:
      FillAll<uint8_t>(pool, array, ew::ConvertToBool(value));
      break;
  }
  return nullptr;
}

}  // namespace theta::cpu
