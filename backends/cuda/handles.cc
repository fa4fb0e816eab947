// Plugin, device and stream state (handles.h).
#include "backends/cuda/handles.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/status.h"

namespace theta::cuda {

// Index-checking launches remembered per synchronize interval; later ones
// are still checked, but an error in them is reported without the value.
constexpr size_t kMaxTrackedChecks = 4096;

// THETA_CUDA_ALLOW_TF32=1 lets cuBLAS use TF32 tensor cores for F32 GEMM
// (faster, about 10 bits of mantissa).
static bool AllowTf32() {
  const char* v = std::getenv("THETA_CUDA_ALLOW_TF32");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

DeviceScope::DeviceScope(int ordinal) {
  // Set even when it is already the current device: cudaSetDevice also
  // makes the primary context current on this thread.
  error_ = cudaSetDevice(ordinal);
  if (error_ != cudaSuccess) (void)cudaGetLastError();
}

}  // namespace theta::cuda

using theta::cuda::AllowTf32;
using theta::cuda::CachingAllocator;
using theta::cuda::CudaError;
using theta::cuda::DeviceScope;
using theta::cuda::InvalidArgument;
using theta::cuda::kMaxTrackedChecks;
using theta::cuda::Prefixed;

theta_plugin::~theta_plugin() {
  std::lock_guard<std::mutex> lock(mu);
  for (theta_device* device : devices) device->allocator.ReleaseCached();
}

theta_device::theta_device(theta_plugin* plugin, int32_t index,
                           CachingAllocator::Source source)
    : plugin(plugin), index(index), allocator(std::move(source)) {}

theta_device::~theta_device() = default;

theta_stream::~theta_stream() {
  DeviceScope scope(device->index);
  if (stream != nullptr) cudaStreamSynchronize(stream);
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  ReleaseRetired(true);
  if (scratch_.ptr != nullptr) device->allocator.Free(scratch_);
  if (error_block_.ptr != nullptr) device->allocator.Free(error_block_);
  if (host_key_ != nullptr) cudaFreeHost(host_key_);
  if (stream != nullptr) cudaStreamDestroy(stream);
  (void)cudaGetLastError();
}

void theta_stream::ReleaseRetired(bool all) {
  size_t kept = 0;
  for (Retired& r : retired_) {
    if (all || cudaEventQuery(r.event) == cudaSuccess) {
      device->allocator.Free(r.block);
      cudaEventDestroy(r.event);
    } else {
      retired_[kept++] = r;
    }
  }
  retired_.resize(kept);
  (void)cudaGetLastError();  // cudaErrorNotReady from the queries
}

theta_status* theta_stream::Scratch(const char* function, uint64_t bytes,
                                    void** out) {
  ReleaseRetired(false);
  if (scratch_.ptr != nullptr && scratch_.size >= bytes) {
    *out = scratch_.ptr;
    return nullptr;
  }
  CachingAllocator::Block fresh;
  const uint64_t want = std::max<uint64_t>(bytes, 2 * scratch_.size);
  if (theta_status* s = device->allocator.Allocate(want, &fresh)) {
    return Prefixed(function, s);
  }
  if (scratch_.ptr != nullptr) {
    retired_.reserve(retired_.size() + 1);
    cudaEvent_t event = nullptr;
    cudaError_t e = cudaEventCreateWithFlags(&event, cudaEventDisableTiming);
    if (e == cudaSuccess) e = cudaEventRecord(event, stream);
    if (e == cudaSuccess) {
      retired_.push_back(Retired{scratch_, event});
    } else {
      // Without an event, wait for the old block's users instead.
      if (event != nullptr) cudaEventDestroy(event);
      (void)cudaGetLastError();
      const cudaError_t sync = cudaStreamSynchronize(stream);
      if (sync != cudaSuccess) {
        device->allocator.Free(fresh);
        return CudaError(function, "cudaStreamSynchronize", sync);
      }
      device->allocator.Free(scratch_);
    }
  }
  scratch_ = fresh;
  *out = scratch_.ptr;
  return nullptr;
}

theta_status* theta_stream::Cublas(const char* function, cublasHandle_t* out) {
  if (cublas_ == nullptr) {
    cublasHandle_t handle = nullptr;
    THETA_CUBLAS_RETURN_IF_ERROR(function, cublasCreate(&handle));
    cublasStatus_t s = cublasSetStream(handle, stream);
    const char* call = "cublasSetStream";
    if (s == CUBLAS_STATUS_SUCCESS) {
      // CUBLAS_DEFAULT_MATH keeps single precision in FP32: no TF32 tensor
      // cores (that needs CUBLAS_TF32_TENSOR_OP_MATH), so results match the
      // CPU plugin within float32 rounding.
      s = cublasSetMathMode(handle, AllowTf32() ? CUBLAS_TF32_TENSOR_OP_MATH
                                                : CUBLAS_DEFAULT_MATH);
      call = "cublasSetMathMode";
    }
    if (s != CUBLAS_STATUS_SUCCESS) {
      cublasDestroy(handle);
      return theta::cuda::CublasError(function, call, s);
    }
    cublas_ = handle;
  }
  *out = cublas_;
  return nullptr;
}

theta_status* theta_stream::BeginIndexCheck(const char* function,
                                            const IndexCheck& check,
                                            unsigned long long** key,
                                            uint32_t* sequence) {
  if (error_block_.ptr == nullptr) {
    CachingAllocator::Block block;
    if (theta_status* s =
            device->allocator.Allocate(sizeof(unsigned long long), &block)) {
      return Prefixed(function, s);
    }
    cudaError_t e =
        cudaMemsetAsync(block.ptr, 0xff, sizeof(unsigned long long), stream);
    if (e != cudaSuccess) {
      device->allocator.Free(block);
      return CudaError(function, "cudaMemsetAsync", e);
    }
    error_block_ = block;
  }
  if (host_key_ == nullptr) {
    void* host = nullptr;
    cudaError_t e =
        cudaHostAlloc(&host, sizeof(unsigned long long), cudaHostAllocDefault);
    if (e != cudaSuccess) return CudaError(function, "cudaHostAlloc", e);
    host_key_ = static_cast<unsigned long long*>(host);
  }
  *key = static_cast<unsigned long long*>(error_block_.ptr);
  *sequence = launches_checked_;
  if (checks_.size() < kMaxTrackedChecks &&
      checks_.size() == launches_checked_) {
    checks_.push_back(check);
  }
  if (launches_checked_ < theta::cuda::kMaxIndexErrorSequence) {
    ++launches_checked_;
  }
  return nullptr;
}

theta_status* theta_stream::Synchronize() {
  const char* fn = "stream_synchronize";
  const bool check = launches_checked_ > 0;
  if (check) {
    const cudaError_t e =
        cudaMemcpyAsync(host_key_, error_block_.ptr, sizeof(unsigned long long),
                        cudaMemcpyDeviceToHost, stream);
    if (e != cudaSuccess) return CudaError(fn, "cudaMemcpyAsync", e);
  }
  const cudaError_t e = cudaStreamSynchronize(stream);
  if (e != cudaSuccess) {
    checks_.clear();
    launches_checked_ = 0;
    return CudaError(fn, "cudaStreamSynchronize", e);
  }
  ReleaseRetired(true);
  if (!check) return nullptr;
  const uint64_t key = *host_key_;
  launches_checked_ = 0;
  if (key == theta::cuda::kNoIndexError) {
    checks_.clear();  // keeps its capacity: the next launches allocate nothing
    return nullptr;
  }
  // An error path: the tracked launches move out so that checks_ is empty
  // whichever way this returns.
  std::vector<IndexCheck> checks = std::move(checks_);
  checks_.clear();

  // Re-arm the key, and read the offending index for the message.
  THETA_CUDA_RETURN_IF_ERROR(
      fn, cudaMemsetAsync(error_block_.ptr, 0xff, sizeof(unsigned long long),
                          stream));
  const uint32_t sequence = theta::cuda::IndexErrorSequence(key);
  const int64_t position = theta::cuda::IndexErrorPosition(key);
  if (sequence >= checks.size()) {
    THETA_CUDA_RETURN_IF_ERROR(fn, cudaStreamSynchronize(stream));
    return InvalidArgument(
        "gather or scatter_add: an index out of range at position ", position,
        " (found on the device; reported by stream_synchronize)");
  }
  const IndexCheck& c = checks[sequence];
  int64_t offset = 0;
  theta::cuda::OffsetsOf(c.layout, position, &offset);
  const size_t size = c.dtype == THETA_DTYPE_I32 ? 4 : 8;
  int32_t v32 = 0;
  int64_t v64 = 0;
  void* host = size == 4 ? static_cast<void*>(&v32) : static_cast<void*>(&v64);
  THETA_CUDA_RETURN_IF_ERROR(
      fn,
      cudaMemcpyAsync(host, static_cast<const char*>(c.indices) + offset * size,
                      size, cudaMemcpyDeviceToHost, stream));
  THETA_CUDA_RETURN_IF_ERROR(fn, cudaStreamSynchronize(stream));
  const int64_t value = size == 4 ? v32 : v64;
  return InvalidArgument(c.function, ": index ", value, " out of range [",
                         -c.axis_size, ", ", c.axis_size, ") at position ",
                         position,
                         " (found on the device; reported by "
                         "stream_synchronize)");
}
