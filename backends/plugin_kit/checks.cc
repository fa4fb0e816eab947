#include "backends/plugin_kit/checks.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <ios>

#include "backends/plugin_kit/arrays.h"
#include "backends/plugin_kit/status.h"

namespace theta::plugin_kit {

bool IsEmptyGemm(const theta_gemm_args& g) {
  return g.m == 0 || g.n == 0 || g.batch == 0;
}

theta_status* CheckGemm(const theta_gemm_args& g) {
  const int32_t dtype = RawEnum(g.dtype);
  if (dtype != THETA_DTYPE_F32 && dtype != THETA_DTYPE_F64) {
    return InvalidArgument("gemm: dtype ", DtypeName(dtype),
                           " is not supported (F32 or F64 only)");
  }
  const struct {
    const char* name;
    int64_t value;
  } sizes[] = {{"m", g.m},
               {"n", g.n},
               {"k", g.k},
               {"batch", g.batch},
               {"stride_a", g.stride_a},
               {"stride_b", g.stride_b},
               {"stride_c", g.stride_c}};
  for (const auto& s : sizes) {
    if (s.value < 0) {
      return InvalidArgument("gemm: ", s.name, " is ", s.value,
                             " (must be >= 0)");
    }
  }
  if (IsEmptyGemm(g)) return nullptr;
  const int64_t a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_cols = g.trans_b ? g.k : g.n;
  if (g.k > 0 && g.lda < std::max<int64_t>(1, a_cols)) {
    return InvalidArgument("gemm: lda ", g.lda, " is smaller than the ", a_cols,
                           " columns of A");
  }
  if (g.k > 0 && g.ldb < std::max<int64_t>(1, b_cols)) {
    return InvalidArgument("gemm: ldb ", g.ldb, " is smaller than the ", b_cols,
                           " columns of B");
  }
  if (g.ldc < g.n) {
    return InvalidArgument("gemm: ldc ", g.ldc, " is smaller than the ", g.n,
                           " columns of C");
  }
  if (g.c == nullptr || (g.k > 0 && (g.a == nullptr || g.b == nullptr))) {
    return InvalidArgument("gemm: ",
                           g.c == nullptr   ? "c"
                           : g.a == nullptr ? "a"
                                            : "b",
                           " is NULL");
  }
  if (g.batch > 1 && g.stride_c < (g.m - 1) * g.ldc + g.n) {
    return InvalidArgument("gemm: stride_c ", g.stride_c,
                           " makes the batch's C matrices overlap (each spans ",
                           (g.m - 1) * g.ldc + g.n, " elements)");
  }
  return nullptr;
}

theta_status* CheckGemmPrepare(const theta_gemm_prepare_args& p) {
  const int32_t dtype = RawEnum(p.dtype);
  if (dtype != THETA_DTYPE_F32 && dtype != THETA_DTYPE_F64) {
    return InvalidArgument("gemm_prepare: dtype ", DtypeName(dtype),
                           " is not supported (F32 or F64 only)");
  }
  if (p.k < 0 || p.n < 0) {
    return InvalidArgument("gemm_prepare: ", p.k < 0 ? "k" : "n", " is ",
                           p.k < 0 ? p.k : p.n, " (must be >= 0)");
  }
  if (p.k == 0 || p.n == 0) return nullptr;
  const int64_t cols = p.trans ? p.k : p.n;
  if (p.ld < cols) {
    return InvalidArgument("gemm_prepare: ld ", p.ld, " is smaller than the ",
                           cols, " columns of B");
  }
  if (p.data == nullptr) return InvalidArgument("gemm_prepare: data is NULL");
  return nullptr;
}

PreparedOperandSource SourceOf(const theta_gemm_prepare_args& p) {
  return {p.dtype, p.trans != 0, p.k, p.n, p.data, p.ld};
}

theta_status* CheckPreparedMatches(const theta_gemm_args& g,
                                   const PreparedOperandSource& s) {
  const char* field = nullptr;
  if (RawEnum(g.dtype) != RawEnum(s.dtype)) {
    field = "dtype";
  } else if ((g.trans_b != 0) != (s.trans != 0)) {
    field = "trans_b";
  } else if (g.k != s.k) {
    field = "k";
  } else if (g.n != s.n) {
    field = "n";
  } else if (g.b != s.data) {
    field = "b";
  } else if (g.ldb != s.ld) {
    field = "ldb";
  }
  if (field != nullptr) {
    return InvalidArgument(
        "gemm: prepared_b was prepared from another B (", field,
        " differs: prepared for a ", s.k, "x", s.n, " ",
        DtypeName(RawEnum(s.dtype)), " B", s.trans ? " stored transposed" : "",
        ", ld ", s.ld, "; this call has a ", g.k, "x", g.n, " ",
        DtypeName(RawEnum(g.dtype)), " B",
        g.trans_b ? " stored transposed" : "", ", ldb ", g.ldb, ")");
  }
  if (g.batch > 1 && g.stride_b != 0) {
    return InvalidArgument(
        "gemm: prepared_b needs one B for the batch "
        "(stride_b 0), not stride_b ",
        g.stride_b);
  }
  return nullptr;
}

// When theta_ew_program gains a field, plugins must read it through ReadArgs
// (entry.h) instead of in place.
static_assert(THETA_EW_PROGRAM_SIZE_1_0 == sizeof(theta_ew_program),
              "theta_ew_program grew: read it with ReadArgs");

theta_status* CheckProgramHeader(const theta_elementwise_args& args) {
  const theta_ew_program* program = args.program;
  if (program == nullptr) {
    return InvalidArgument("elementwise: program is NULL");
  }
  if (program->struct_size < THETA_EW_PROGRAM_SIZE_1_0) {
    return InvalidArgument("elementwise: program->struct_size is ",
                           program->struct_size, ", expected at least ",
                           THETA_EW_PROGRAM_SIZE_1_0, " (its ABI 1.0 size)");
  }
  const int32_t ct = RawEnum(program->compute_dtype);
  if (ct != THETA_DTYPE_F32 && ct != THETA_DTYPE_F64 && ct != THETA_DTYPE_I32 &&
      ct != THETA_DTYPE_I64) {
    return InvalidArgument("elementwise: compute dtype ", DtypeName(ct),
                           " is not supported (F32, F64, I32 or I64)");
  }
  if (program->num_instrs > 0 && program->instrs == nullptr) {
    return InvalidArgument("elementwise: program has ", program->num_instrs,
                           " instructions but instrs is NULL");
  }
  return nullptr;
}

const char* ReduceOpName(int op) {
  switch (op) {
    case THETA_REDUCE_SUM:
      return "SUM";
    case THETA_REDUCE_PROD:
      return "PROD";
    case THETA_REDUCE_MAX:
      return "MAX";
    case THETA_REDUCE_MIN:
      return "MIN";
    case THETA_REDUCE_ARGMAX:
      return "ARGMAX";
    case THETA_REDUCE_ARGMIN:
      return "ARGMIN";
    default:
      return "?";
  }
}

theta_status* CheckReduce(const theta_reduce_args& a) {
  const theta_array& in = a.input;
  const theta_array& out = a.output;
  if (RawEnum(a.op) < THETA_REDUCE_SUM || RawEnum(a.op) > THETA_REDUCE_ARGMIN) {
    return InvalidArgument("reduce: unknown op ", RawEnum(a.op));
  }
  const char* op = ReduceOpName(a.op);
  if (theta_status* s = CheckArray("reduce", "input", in)) return s;
  if (theta_status* s = CheckArray("reduce", "output", out)) return s;
  if (theta_status* s = CheckWritable("reduce", "output", out)) return s;
  const uint32_t all = in.ndim >= 32 ? ~0u : ((1u << in.ndim) - 1);
  if (a.axes_mask & ~all) {
    return InvalidArgument("reduce: axes_mask 0x", std::hex, a.axes_mask,
                           std::dec, " names axis ",
                           std::countr_zero(a.axes_mask & ~all),
                           " but the input has rank ", in.ndim);
  }
  const bool arg = a.op == THETA_REDUCE_ARGMAX || a.op == THETA_REDUCE_ARGMIN;
  if (arg && std::popcount(a.axes_mask) != 1) {
    return InvalidArgument(
        "reduce: ", op, " needs exactly one axis, axes_mask 0x", std::hex,
        a.axes_mask, std::dec, " has ", std::popcount(a.axes_mask));
  }
  if (in.dtype == THETA_DTYPE_BOOL &&
      (a.op == THETA_REDUCE_SUM || a.op == THETA_REDUCE_PROD)) {
    return InvalidArgument("reduce: ", op,
                           " does not support BOOL (use MAX for any, MIN for "
                           "all, or convert first)");
  }
  const theta_dtype want = arg ? THETA_DTYPE_I64 : in.dtype;
  if (out.dtype != want) {
    return InvalidArgument("reduce: ", op, " output dtype is ",
                           DtypeName(out.dtype), ", expected ",
                           DtypeName(want));
  }
  bool shape_ok = out.ndim == in.ndim;
  for (int d = 0; shape_ok && d < in.ndim; ++d) {
    shape_ok = out.shape[d] == ((a.axes_mask >> d & 1) ? 1 : in.shape[d]);
  }
  if (!shape_ok) {
    int64_t want_shape[THETA_MAX_DIMS];
    for (int d = 0; d < in.ndim; ++d) {
      want_shape[d] = (a.axes_mask >> d & 1) ? 1 : in.shape[d];
    }
    return InvalidArgument("reduce: output shape ",
                           ShapeString(out.ndim, out.shape), ", expected ",
                           ShapeString(in.ndim, want_shape), " for input ",
                           ShapeString(in.ndim, in.shape), " and axes_mask 0x",
                           std::hex, a.axes_mask);
  }
  if (arg) {
    const int axis = std::countr_zero(a.axes_mask);
    if (in.shape[axis] == 0) {
      return InvalidArgument(
          "reduce: ", op, " over axis ", axis,
          " of size 0 (an empty axis has no ",
          a.op == THETA_REDUCE_ARGMAX ? "maximum" : "minimum", ")");
    }
  }
  return nullptr;
}

theta_status* CheckGatherArrays(const char* fn, const theta_gather_args& a,
                                const theta_array& big, const char* big_name,
                                const theta_array& small,
                                const char* small_name) {
  const theta_array& idx = a.indices;
  if (theta_status* s = CheckArray(fn, big_name, big)) return s;
  if (theta_status* s = CheckArray(fn, "indices", idx)) return s;
  if (theta_status* s = CheckArray(fn, small_name, small)) return s;
  if (idx.dtype != THETA_DTYPE_I32 && idx.dtype != THETA_DTYPE_I64) {
    return InvalidArgument(fn, ": indices dtype ", DtypeName(idx.dtype),
                           " is not supported (I32 or I64)");
  }
  if (big.ndim < 1) {
    return InvalidArgument(fn, ": ", big_name, " has rank 0 (needs an axis)");
  }
  if (a.axis < 0 || a.axis >= big.ndim) {
    return InvalidArgument(fn, ": axis ", a.axis, " out of range [0, ",
                           big.ndim, ") for ", big_name, " of rank ", big.ndim);
  }
  if (small.dtype != big.dtype) {
    return InvalidArgument(fn, ": ", small_name, " dtype ",
                           DtypeName(small.dtype), " differs from ", big_name,
                           " dtype ", DtypeName(big.dtype));
  }
  const int ax = a.axis;
  const int rank = big.ndim - 1 + idx.ndim;
  int64_t want[2 * THETA_MAX_DIMS];
  for (int d = 0; d < ax; ++d) want[d] = big.shape[d];
  for (int d = 0; d < idx.ndim; ++d) want[ax + d] = idx.shape[d];
  for (int d = ax + 1; d < big.ndim; ++d) want[idx.ndim - 1 + d] = big.shape[d];
  bool shape_ok = small.ndim == rank;
  for (int d = 0; shape_ok && d < rank; ++d) {
    shape_ok = small.shape[d] == want[d];
  }
  if (!shape_ok) {
    return InvalidArgument(
        fn, ": ", small_name, " shape ", ShapeString(small.ndim, small.shape),
        ", expected ", ShapeString(rank, want), " (", big_name, " ",
        ShapeString(big.ndim, big.shape), ", indices ",
        ShapeString(idx.ndim, idx.shape), ", axis ", ax, ")");
  }
  return nullptr;
}

theta_status* CheckCopy(const theta_copy_args& args) {
  const theta_array& src = args.source;
  const theta_array& dst = args.destination;
  if (theta_status* s =
          CheckArray("copy", "source", src, StrideSign::kAnyForReadOnly)) {
    return s;
  }
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
  return CheckWritable("copy", "destination", dst);
}

theta_status* CheckFill(const theta_array& array) {
  if (theta_status* s = CheckArray("fill", "array", array)) return s;
  return CheckWritable("fill", "array", array);
}

theta_status* CheckSoftmax(const theta_softmax_args& a) {
  const char* fn = "softmax";
  if (theta_status* s = CheckArray(fn, "input", a.input)) return s;
  if (theta_status* s = CheckArray(fn, "output", a.output)) return s;
  if (a.input.dtype != THETA_DTYPE_F32 && a.input.dtype != THETA_DTYPE_F64) {
    return InvalidArgument(fn, ": input dtype ", DtypeName(a.input.dtype),
                           " is not supported (F32 or F64 only)");
  }
  if (a.input.ndim < 1) {
    return InvalidArgument(fn, ": input has rank 0 (needs a last dimension)");
  }
  if (a.output.dtype != a.input.dtype) {
    return InvalidArgument(fn, ": output dtype ", DtypeName(a.output.dtype),
                           " differs from input dtype ",
                           DtypeName(a.input.dtype));
  }
  bool same_shape = a.output.ndim == a.input.ndim;
  for (int d = 0; same_shape && d < a.input.ndim; ++d) {
    same_shape = a.output.shape[d] == a.input.shape[d];
  }
  if (!same_shape) {
    return InvalidArgument(
        fn, ": output shape ", ShapeString(a.output.ndim, a.output.shape),
        " differs from input shape ", ShapeString(a.input.ndim, a.input.shape));
  }
  return CheckWritable(fn, "output", a.output);
}

theta_status* CheckRng(const theta_rng_args& args) {
  const theta_array& out = args.output;
  if (theta_status* s = CheckArray("rng", "output", out)) return s;
  if (theta_status* s = CheckWritable("rng", "output", out)) return s;
  if (out.dtype != THETA_DTYPE_F32 && out.dtype != THETA_DTYPE_F64) {
    return InvalidArgument("rng: output dtype ", DtypeName(out.dtype),
                           " is not supported (F32 or F64 only)");
  }
  const int32_t distribution = RawEnum(args.distribution);
  if (distribution != THETA_RNG_UNIFORM && distribution != THETA_RNG_NORMAL) {
    return InvalidArgument("rng: unknown distribution ", distribution);
  }
  return nullptr;
}

}  // namespace theta::plugin_kit
