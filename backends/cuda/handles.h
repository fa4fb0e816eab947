// Internal interface of the CUDA plugin: the definitions of the ABI's opaque
// handles. A plugin instance holds the driver API (dlopen'd), the NVRTC
// targets and the elementwise kernel cache; a device its ordinal, properties
// and caching allocator; a stream its cudaStream_t, a lazily created cuBLAS
// handle, a scratch block for multi-pass kernels, and the record of
// out-of-range indices that the next synchronize reports.
#ifndef THETA_BACKENDS_CUDA_HANDLES_H_
#define THETA_BACKENDS_CUDA_HANDLES_H_

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "backends/api/theta_backend.h"
#include "backends/cuda/allocator.h"
#include "backends/cuda/device_math.h"
#include "backends/cuda/driver_api.h"
#include "backends/cuda/ew_cache.h"
#include "backends/cuda/ew_launch_scratch.h"
#include "backends/plugin_kit/checks.h"

struct theta_plugin {
  theta_plugin() : kernels(&driver) {}
  ~theta_plugin();

  theta::cuda::DriverApi driver;
  int32_t device_count = 0;
  std::vector<int> nvrtc_archs;  // NvrtcSupportedArchs()
  theta::cuda::EwKernelCache kernels;

  std::mutex mu;
  std::set<theta_device*> devices;  // open devices (for cache release)
};

// A prepared GEMM operand (ABI 1.2). cuBLAS reads B in its plain layout as
// fast as any other, so preparing only records which B it is (to check the
// GEMMs given it) and the device it belongs to; GEMMs read `b` itself.
struct theta_gemm_operand {
  theta::plugin_kit::PreparedOperandSource source;
  theta_device* device;
};

struct theta_device {
  theta_device(theta_plugin* plugin, int32_t index,
               theta::cuda::CachingAllocator::Source source);
  ~theta_device();

  theta_plugin* const plugin;
  const int32_t index;
  int sm_count = 1;
  int cc_major = 0;
  int cc_minor = 0;
  std::string arch;  // NVRTC target, e.g. "sm_90"; empty when none
  theta::cuda::CachingAllocator allocator;
};

struct theta_stream {
  explicit theta_stream(theta_device* device) : device(device) {}
  // Waits for the stream's work, then releases what it holds.
  ~theta_stream();
  theta_stream(const theta_stream&) = delete;
  theta_stream& operator=(const theta_stream&) = delete;

  // Device memory of at least `bytes` for the next work enqueued on this
  // stream; valid until the next call. A block outgrown is returned to the
  // allocator once an event recorded after its last use has completed.
  theta_status* Scratch(const char* function, uint64_t bytes, void** out);

  // The stream's cuBLAS handle, created on first use with TF32 off
  // (CUBLAS_DEFAULT_MATH) unless THETA_CUDA_ALLOW_TF32=1.
  theta_status* Cublas(const char* function, cublasHandle_t* out);

  // What an index-checking launch (gather, scatter_add) needs to report a
  // bad index: where the indices are and how positions map to them.
  struct IndexCheck {
    const char* function;  // static
    int64_t axis_size;
    const void* indices;
    theta_dtype dtype;
    theta::cuda::StridedIndex<1> layout;  // positions -> element offsets
  };
  // Registers a launch and gives it the error key and its sequence number.
  theta_status* BeginIndexCheck(const char* function, const IndexCheck& check,
                                unsigned long long** key, uint32_t* sequence);

  // cudaStreamSynchronize, then the first recorded bad index, if any.
  theta_status* Synchronize();

  theta_device* const device;
  cudaStream_t stream = nullptr;
  // The elementwise entry point's host-side work space.
  theta::cuda::EwLaunchScratch ew_scratch;

 private:
  struct Retired {
    theta::cuda::CachingAllocator::Block block;
    cudaEvent_t event;
  };
  // Frees retired scratch blocks whose events completed (all when `all`,
  // after the stream has been synchronized).
  void ReleaseRetired(bool all);

  cublasHandle_t cublas_ = nullptr;
  theta::cuda::CachingAllocator::Block scratch_;
  std::vector<Retired> retired_;
  theta::cuda::CachingAllocator::Block error_block_;  // holds the key
  unsigned long long* host_key_ = nullptr;            // pinned copy
  std::vector<IndexCheck> checks_;  // launches since the last synchronize
  uint32_t launches_checked_ = 0;
};

struct theta_buffer {
  theta_device* device;
  theta::cuda::CachingAllocator::Block block;  // ptr NULL for 0 bytes
  uint64_t bytes;
};

namespace theta::cuda {

// Makes `ordinal` the calling thread's current device, its primary context
// current (which the driver API calls need), for the entry point that
// declares it. The device stays current afterwards: restoring a previous
// device would create that device's context on threads that never used it.
class DeviceScope {
 public:
  explicit DeviceScope(int ordinal);
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;
  // The error of cudaSetDevice, cudaSuccess when the device is current.
  cudaError_t error() const { return error_; }

 private:
  cudaError_t error_ = cudaSuccess;
};

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_HANDLES_H_
