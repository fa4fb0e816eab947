// Strided batched GEMM on cuBLAS. The ABI is row-major and cuBLAS
// column-major: a row-major matrix with row stride ld is, read column-major,
// its transpose with leading dimension ld. So C = op(A) op(B) is computed as
// C^T = op(B)^T op(A)^T: cuBLAS gets B as its first operand and A as its
// second, with the same transpose flags, and n and m swapped. Math mode
// CUBLAS_DEFAULT_MATH (no TF32) is set on the stream's handle.
#include <climits>

#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/launchers.h"
#include "backends/cuda/status.h"
#include "backends/cuda/validate.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cuda {
namespace {

theta_status* Check(const theta_stream* stream, const theta_gemm_args& g) {
  if (theta_status* s = plugin_kit::CheckGemm(g)) return s;
  if (g.prepared_b != nullptr) {
    if (g.prepared_b->device != stream->device) {
      return InvalidArgument(
          "gemm: prepared_b belongs to another device (prepared on device ",
          g.prepared_b->device->index, ", this stream's is device ",
          stream->device->index, ")");
    }
    if (theta_status* s =
            plugin_kit::CheckPreparedMatches(g, g.prepared_b->source)) {
      return s;
    }
  }
  if (plugin_kit::IsEmptyGemm(g)) return nullptr;
  for (int64_t v : {g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.batch}) {
    if (v > INT_MAX) {
      return Unimplemented("gemm: size ", v,
                           " exceeds cuBLAS's 32-bit interface (max ", INT_MAX,
                           ")");
    }
  }
  return nullptr;
}

}  // namespace

theta_status* Gemm(theta_stream* stream, const theta_gemm_args& g) {
  if (theta_status* s = Check(stream, g)) return s;
  if (g.m == 0 || g.n == 0 || g.batch == 0) return nullptr;
  const bool f64 = g.dtype == THETA_DTYPE_F64;
  if (g.k == 0) {
    ScaleParams p;
    p.c = g.c;
    p.f64 = f64;
    p.m = g.m;
    p.n = g.n;
    p.ldc = g.ldc;
    p.stride_c = g.stride_c;
    p.batch = g.batch;
    p.beta = g.beta;
    THETA_CUDA_RETURN_IF_ERROR(
        "gemm", LaunchScale(p, stream->device->sm_count, stream->stream));
    return nullptr;
  }
  cublasHandle_t handle = nullptr;
  if (theta_status* s = stream->Cublas("gemm", &handle)) return s;
  const cublasOperation_t op_a = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = static_cast<int>(g.m), n = static_cast<int>(g.n);
  const int k = static_cast<int>(g.k);
  const int lda = static_cast<int>(g.lda), ldb = static_cast<int>(g.ldb);
  const int ldc = static_cast<int>(g.ldc), batch = static_cast<int>(g.batch);
  if (f64) {
    const double alpha = g.alpha, beta = g.beta;
    THETA_CUBLAS_RETURN_IF_ERROR(
        "gemm", cublasDgemmStridedBatched(
                    handle, op_b, op_a, n, m, k, &alpha,
                    static_cast<const double*>(g.b), ldb, g.stride_b,
                    static_cast<const double*>(g.a), lda, g.stride_a, &beta,
                    static_cast<double*>(g.c), ldc, g.stride_c, batch));
  } else {
    const float alpha = static_cast<float>(g.alpha);
    const float beta = static_cast<float>(g.beta);
    THETA_CUBLAS_RETURN_IF_ERROR(
        "gemm",
        cublasSgemmStridedBatched(
            handle, op_b, op_a, n, m, k, &alpha, static_cast<const float*>(g.b),
            ldb, g.stride_b, static_cast<const float*>(g.a), lda, g.stride_a,
            &beta, static_cast<float*>(g.c), ldc, g.stride_c, batch));
  }
  return nullptr;
}

theta_status* GemmPrepare(theta_stream* stream,
                          const theta_gemm_prepare_args& args,
                          theta_gemm_operand** out) {
  if (out == nullptr) return InvalidArgument("gemm_prepare: out is NULL");
  *out = nullptr;
  if (theta_status* s = plugin_kit::CheckGemmPrepare(args)) return s;
  *out = new theta_gemm_operand{plugin_kit::SourceOf(args), stream->device};
  return nullptr;
}

}  // namespace theta::cuda
