// Strided copy, fill and the parallel memcpy behind the byte copies.
#include <cstring>

#include "backends/api/elementwise_semantics.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/status.h"
#include "backends/cpu/strided.h"

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

template <typename E>
void CopyAll(ThreadPool& pool, const Layout<2>& l, void* dst, const void* src) {
  E* d = static_cast<E*>(dst);
  const E* s = static_cast<const E*>(src);
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
  if (theta_status* s = CheckArray("copy", "source", src)) return s;
  if (theta_status* s = CheckArray("copy", "destination", dst)) return s;
  if (src.dtype != dst.dtype) {
    return InvalidArgument("copy: source dtype ", DtypeName(src.dtype),
                           " differs from destination dtype ",
                           DtypeName(dst.dtype));
  }
  bool same_shape = src.ndim == dst.ndim;
  for (int d = 0; same_shape && d < src.ndim; ++d) {
    same_shape = src.shape[d] == dst.shape[d];
  }
  if (!same_shape) {
    return InvalidArgument(
        "copy: source shape ", ShapeString(src.ndim, src.shape),
        " differs from destination shape ", ShapeString(dst.ndim, dst.shape));
  }
  if (theta_status* s = CheckWritable("copy", "destination", dst)) return s;
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
  if (theta_status* s = CheckArray("fill", "array", array)) return s;
  if (theta_status* s = CheckWritable("fill", "array", array)) return s;
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
