#include "backends/plugin_kit/checks.h"

#include <algorithm>
#include <cstdint>

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
