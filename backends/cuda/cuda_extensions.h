/*
 * cuda_extensions.h -- features of the CUDA plugin reached through
 * get_extension (theta_backend.h). Plain C, like the ABI.
 *
 *   "cuda.release_cached_memory": a pointer to
 *       theta_status* (*)(theta_plugin* plugin)
 *     that returns every cached (freed, kept for reuse) device block of the
 *     plugin's open devices to the driver. Buffers in use are unaffected.
 *
 *   "cuda.device_stats": a pointer to
 *       theta_status* (*)(theta_device* device, theta_cuda_device_stats* out)
 *     that fills the fields `out->struct_size` covers.
 *
 * Both functions are static: the pointers stay valid while the library is
 * loaded.
 */
#ifndef THETA_BACKENDS_CUDA_CUDA_EXTENSIONS_H_
#define THETA_BACKENDS_CUDA_CUDA_EXTENSIONS_H_

#include <stddef.h>
#include <stdint.h>

#include "backends/api/theta_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define THETA_CUDA_EXT_RELEASE_CACHED_MEMORY "cuda.release_cached_memory"
#define THETA_CUDA_EXT_DEVICE_STATS "cuda.device_stats"

typedef struct theta_cuda_device_stats {
  size_t struct_size; /* set by the caller */
  /* The caching allocator, in bytes of size classes. */
  uint64_t bytes_in_use;
  uint64_t bytes_cached;
  uint64_t cuda_mallocs; /* cudaMalloc calls that succeeded */
  uint64_t cuda_frees;
  uint64_t cache_hits; /* allocations served from the cache */
  /* Elementwise kernels compiled with NVRTC for this device so far. */
  uint64_t elementwise_kernels;
  int32_t compute_capability; /* e.g. 90 */
  int32_t multiprocessors;
} theta_cuda_device_stats;

typedef theta_status* (*theta_cuda_release_cached_memory_fn)(
    theta_plugin* plugin);
typedef theta_status* (*theta_cuda_device_stats_fn)(
    theta_device* device, theta_cuda_device_stats* out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* THETA_BACKENDS_CUDA_CUDA_EXTENSIONS_H_ */
