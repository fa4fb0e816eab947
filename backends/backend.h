// Backend and Buffer: thin C++ wrappers over one loaded plugin's device.
//
// A Backend is one device of one plugin instance with its stream; everything
// Theta computes goes through it. Buffers are RAII device allocations.
//
//   theta::backends::Backend& cpu = theta::backends::current();
//   absl::StatusOr<Buffer> buf = cpu.Allocate(1024);
//   cpu.CopyToDevice(buf->data(), host, 1024);
//
// Kernel calls go straight to the plugin's table (`api()`), with `Check`
// turning the returned status object into an absl::Status; nothing here
// allocates on a successful call.
#ifndef THETA_BACKENDS_BACKEND_H_
#define THETA_BACKENDS_BACKEND_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/api/theta_backend.h"

namespace theta::backends {

class Backend;
class PluginLibrary;

// Counters of the device allocations made through one Backend.
struct AllocationStats {
  int64_t allocations = 0;  // buffer_alloc calls that succeeded
  int64_t frees = 0;
  int64_t bytes_in_use = 0;
  int64_t peak_bytes_in_use = 0;
};

// A device allocation, freed on destruction. Move-only. Must not outlive the
// Backend that made it (backends live until the process exits).
class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  // The device address; null for an empty Buffer. Not host-dereferenceable
  // unless the backend's memory is host memory.
  void* data() const { return data_; }
  uint64_t size() const { return size_; }
  Backend* backend() const { return backend_; }
  explicit operator bool() const { return buffer_ != nullptr; }

 private:
  friend class Backend;
  Buffer(Backend* backend, theta_buffer* buffer, void* data, uint64_t size)
      : backend_(backend), buffer_(buffer), data_(data), size_(size) {}
  void Reset();

  Backend* backend_ = nullptr;
  theta_buffer* buffer_ = nullptr;
  void* data_ = nullptr;
  uint64_t size_ = 0;
};

// Counters of the prepared GEMM operands (ABI 1.2) asked of one Backend.
struct PreparedOperandStats {
  int64_t requests = 0;  // PrepareGemmOperand calls that succeeded
  int64_t prepared = 0;  // of those, the ones the plugin prepared (non-null)
  int64_t live = 0;      // prepared and not yet freed
};

class Backend {
 public:
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  ~Backend();

  // Opens device `device_index` of a new instance of `library`'s plugin.
  static absl::StatusOr<std::unique_ptr<Backend>> Open(
      std::shared_ptr<PluginLibrary> library, int32_t device_index);

  // "cpu", "cuda", ... as the plugin names itself.
  std::string_view name() const;
  // "cpu", or "cuda:1" for a device other than the first.
  const std::string& id() const { return id_; }
  const std::string& device_name() const { return device_name_; }
  // Whether the device's memory is the host's (THETA_DEVICE_HOST_MEMORY,
  // ABI 1.3): kernels then take host tensors' memory as arrays, and a
  // compiled function binds its inputs and outputs instead of copying.
  bool memory_is_host() const { return memory_is_host_; }
  const std::string& library_path() const;
  int32_t device_index() const { return device_index_; }

  const theta_backend_api& api() const { return *api_; }
  theta_plugin* plugin() const { return plugin_; }
  theta_device* device() const { return device_; }
  theta_stream* stream() const { return stream_; }

  // Converts a plugin status into an absl::Status (prefixed with
  // "<backend>: <what>: ") and frees it. Null is OK and costs one branch.
  absl::Status Check(theta_status* status, std::string_view what) const {
    if (status == nullptr) return absl::OkStatus();
    return ConvertAndFree(status, what);
  }

  // The capability query: whether the plugin runs `kernel` on operands of
  // `dtype` (theta_backend.h says which operand). False for every pair when
  // the plugin predates the query (ABI 1.0). Allocates nothing.
  bool Supports(theta_kernel kernel, theta_dtype dtype) const {
    return api_->supports(plugin_, kernel, dtype) != 0;
  }

  absl::StatusOr<Buffer> Allocate(uint64_t bytes);
  absl::Status CopyToDevice(void* dst, const void* host_src, uint64_t bytes);
  absl::Status CopyToHost(void* host_dst, const void* src, uint64_t bytes);
  absl::Status CopyWithinDevice(void* dst, const void* src, uint64_t bytes);
  absl::Status Synchronize();

  AllocationStats allocation_stats() const;

  // Prepared GEMM operands (theta_backend.h, ABI 1.2). *out is null when the
  // plugin gains nothing from preparing this operand, or predates 1.2 (the
  // loader's stand-in); GEMMs then read B as always. Free each non-null
  // operand once; freeing null is a no-op.
  absl::Status PrepareGemmOperand(const theta_gemm_prepare_args& args,
                                  theta_gemm_operand** out);
  void FreeGemmOperand(theta_gemm_operand* operand);
  PreparedOperandStats prepared_operand_stats() const;

 private:
  Backend() = default;
  absl::Status ConvertAndFree(theta_status* status,
                              std::string_view what) const;
  void Free(theta_buffer* buffer, uint64_t size);
  friend class Buffer;

  std::shared_ptr<PluginLibrary> library_;
  const theta_backend_api* api_ = nullptr;
  theta_plugin* plugin_ = nullptr;
  theta_device* device_ = nullptr;
  bool memory_is_host_ = false;
  theta_stream* stream_ = nullptr;
  int32_t device_index_ = 0;
  std::string id_;
  std::string device_name_;

  std::atomic<int64_t> allocations_{0};
  std::atomic<int64_t> frees_{0};
  std::atomic<int64_t> bytes_in_use_{0};
  std::atomic<int64_t> peak_bytes_in_use_{0};
  std::atomic<int64_t> prepare_requests_{0};
  std::atomic<int64_t> operands_prepared_{0};
  std::atomic<int64_t> operands_live_{0};
};

// The ABI's name of a kernel ("gemm", "scatter_add", ...) and of a dtype
// ("F32", ...); "?" for values outside the enums.
const char* KernelName(theta_kernel kernel);
const char* DtypeName(theta_dtype dtype);

// Copies `bytes` from `src` on backend `from` to `dst` on backend `to`
// through host memory (the way data moves between backends). Synchronizes
// both backends.
absl::Status CopyBetween(Backend& from, const void* src, Backend& to, void* dst,
                         uint64_t bytes);

}  // namespace theta::backends

#endif  // THETA_BACKENDS_BACKEND_H_
