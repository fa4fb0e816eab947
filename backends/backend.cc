#include "backends/backend.h"

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/plugin_library.h"
#include "base/status_macros.h"

namespace theta::backends {
namespace {

// Since ABI 1.1 the ABI's codes are absl's.
static_assert(THETA_STATUS_INVALID_ARGUMENT ==
              static_cast<int>(absl::StatusCode::kInvalidArgument));
static_assert(THETA_STATUS_FAILED_PRECONDITION ==
              static_cast<int>(absl::StatusCode::kFailedPrecondition));
static_assert(THETA_STATUS_OUT_OF_MEMORY ==
              static_cast<int>(absl::StatusCode::kResourceExhausted));
static_assert(THETA_STATUS_UNIMPLEMENTED ==
              static_cast<int>(absl::StatusCode::kUnimplemented));
static_assert(THETA_STATUS_INTERNAL ==
              static_cast<int>(absl::StatusCode::kInternal));
static_assert(THETA_STATUS_UNAVAILABLE ==
              static_cast<int>(absl::StatusCode::kUnavailable));

}  // namespace

const char* KernelName(theta_kernel kernel) {
  static constexpr const char* kNames[THETA_KERNEL_COUNT] = {
      "gemm",        "elementwise", "reduce", "softmax", "gather",
      "scatter_add", "copy",        "fill",   "rng"};
  const int k = static_cast<int>(kernel);
  return k >= 0 && k < THETA_KERNEL_COUNT ? kNames[k] : "?";
}

const char* DtypeName(theta_dtype dtype) {
  static constexpr const char* kNames[] = {"F32", "F64", "I32",
                                           "I64", "U8",  "BOOL"};
  const int d = static_cast<int>(dtype);
  return d >= 0 && d <= THETA_DTYPE_BOOL ? kNames[d] : "?";
}

Buffer::Buffer(Buffer&& other) noexcept
    : backend_(std::exchange(other.backend_, nullptr)),
      buffer_(std::exchange(other.buffer_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    Reset();
    backend_ = std::exchange(other.backend_, nullptr);
    buffer_ = std::exchange(other.buffer_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Buffer::~Buffer() { Reset(); }

void Buffer::Reset() {
  if (buffer_ != nullptr) backend_->Free(buffer_, size_);
  backend_ = nullptr;
  buffer_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

absl::StatusOr<std::unique_ptr<Backend>> Backend::Open(
    std::shared_ptr<PluginLibrary> library, int32_t device_index) {
  std::unique_ptr<Backend> backend(new Backend());
  backend->library_ = std::move(library);
  backend->api_ = &backend->library_->api();
  backend->device_index_ = device_index;
  const theta_backend_api& api = *backend->api_;
  const std::string& path = backend->library_->path();

  if (absl::Status s =
          backend->Check(api.plugin_create(&backend->plugin_), "plugin_create");
      !s.ok()) {
    backend->plugin_ = nullptr;
    return absl::UnavailableError(
        absl::StrCat(path, ": initialisation failed: ", s.message()));
  }
  int32_t count = 0;
  if (absl::Status s = backend->Check(
          api.device_count(backend->plugin_, &count), "device_count");
      !s.ok()) {
    return absl::UnavailableError(absl::StrCat(path, ": ", s.message()));
  }
  if (device_index < 0 || device_index >= count) {
    return absl::NotFoundError(absl::StrCat(
        path, ": backend '", api.name, "' has ", count,
        count == 1 ? " device" : " devices", "; no device ", device_index));
  }
  theta_device_info info;
  std::memset(&info, 0, sizeof(info));
  info.struct_size = sizeof(info);
  if (absl::Status s = backend->Check(
          api.device_get_info(backend->plugin_, device_index, &info),
          "device_get_info");
      !s.ok()) {
    return absl::UnavailableError(absl::StrCat(path, ": ", s.message()));
  }
  info.name[sizeof(info.name) - 1] = '\0';
  backend->device_name_ = info.name;
  backend->memory_is_host_ = (info.flags & THETA_DEVICE_HOST_MEMORY) != 0;
  if (absl::Status s = backend->Check(
          api.device_open(backend->plugin_, device_index, &backend->device_),
          "device_open");
      !s.ok()) {
    backend->device_ = nullptr;
    return absl::UnavailableError(absl::StrCat(path, ": ", s.message()));
  }
  if (absl::Status s =
          backend->Check(api.stream_create(backend->device_, &backend->stream_),
                         "stream_create");
      !s.ok()) {
    backend->stream_ = nullptr;
    return absl::UnavailableError(absl::StrCat(path, ": ", s.message()));
  }
  backend->id_ = device_index == 0 ? std::string(api.name)
                                   : absl::StrCat(api.name, ":", device_index);
  return backend;
}

Backend::~Backend() {
  if (stream_ != nullptr) api_->stream_destroy(stream_);
  if (device_ != nullptr) api_->device_close(device_);
  if (plugin_ != nullptr) api_->plugin_destroy(plugin_);
}

std::string_view Backend::name() const { return api_->name; }

const std::string& Backend::library_path() const { return library_->path(); }

absl::Status Backend::ConvertAndFree(theta_status* status,
                                     std::string_view what) const {
  const theta_status_code code = api_->status_code(status);
  int32_t raw_code;
  static_assert(sizeof(raw_code) == sizeof(code));
  std::memcpy(&raw_code, &code, sizeof(raw_code));
  const char* message = api_->status_message(status);
  const std::string_view body =
      message != nullptr ? message : std::string_view("(no message)");
  // Plugins name the kernel themselves ("elementwise: program is NULL"):
  // say it once, not "cpu: elementwise: elementwise: ...".
  const bool names_itself = body.size() > what.size() + 1 &&
                            body.substr(0, what.size()) == what &&
                            body.substr(what.size(), 2) == ": ";
  std::string text = names_itself
                         ? absl::StrCat(api_->name, ": ", std::string(body))
                         : absl::StrCat(api_->name, ": ", std::string(what),
                                        ": ", std::string(body));
  api_->status_free(status);
  return absl::Status(StatusCodeFromPlugin(api_->abi_minor, raw_code),
                      std::move(text));
}

absl::StatusOr<Buffer> Backend::Allocate(uint64_t bytes) {
  theta_buffer* buffer = nullptr;
  THETA_RETURN_IF_ERROR(Check(api_->buffer_alloc(device_, bytes, &buffer),
                              absl::StrCat("allocating ", bytes, " bytes")));
  allocations_.fetch_add(1, std::memory_order_relaxed);
  int64_t in_use = bytes_in_use_.fetch_add(static_cast<int64_t>(bytes),
                                           std::memory_order_relaxed) +
                   static_cast<int64_t>(bytes);
  int64_t peak = peak_bytes_in_use_.load(std::memory_order_relaxed);
  while (in_use > peak && !peak_bytes_in_use_.compare_exchange_weak(
                              peak, in_use, std::memory_order_relaxed)) {
  }
  return Buffer(this, buffer, api_->buffer_data(buffer), bytes);
}

void Backend::Free(theta_buffer* buffer, uint64_t size) {
  api_->buffer_free(buffer);
  frees_.fetch_add(1, std::memory_order_relaxed);
  bytes_in_use_.fetch_sub(static_cast<int64_t>(size),
                          std::memory_order_relaxed);
}

absl::Status Backend::CopyToDevice(void* dst, const void* host_src,
                                   uint64_t bytes) {
  if (bytes == 0) return absl::OkStatus();
  return Check(api_->copy_host_to_device(stream_, dst, host_src, bytes),
               "copy to device");
}

absl::Status Backend::CopyToHost(void* host_dst, const void* src,
                                 uint64_t bytes) {
  if (bytes == 0) return absl::OkStatus();
  return Check(api_->copy_device_to_host(stream_, host_dst, src, bytes),
               "copy to host");
}

absl::Status Backend::CopyWithinDevice(void* dst, const void* src,
                                       uint64_t bytes) {
  if (bytes == 0) return absl::OkStatus();
  return Check(api_->copy_device_to_device(stream_, dst, src, bytes),
               "copy within device");
}

absl::Status Backend::Synchronize() {
  return Check(api_->stream_synchronize(stream_), "synchronize");
}

AllocationStats Backend::allocation_stats() const {
  AllocationStats stats;
  stats.allocations = allocations_.load(std::memory_order_relaxed);
  stats.frees = frees_.load(std::memory_order_relaxed);
  stats.bytes_in_use = bytes_in_use_.load(std::memory_order_relaxed);
  stats.peak_bytes_in_use = peak_bytes_in_use_.load(std::memory_order_relaxed);
  return stats;
}

absl::Status Backend::PrepareGemmOperand(const theta_gemm_prepare_args& args,
                                         theta_gemm_operand** out) {
  *out = nullptr;
  THETA_RETURN_IF_ERROR(
      Check(api_->gemm_prepare(stream_, &args, out), "gemm_prepare"));
  prepare_requests_.fetch_add(1, std::memory_order_relaxed);
  if (*out != nullptr) {
    operands_prepared_.fetch_add(1, std::memory_order_relaxed);
    operands_live_.fetch_add(1, std::memory_order_relaxed);
  }
  return absl::OkStatus();
}

void Backend::FreeGemmOperand(theta_gemm_operand* operand) {
  if (operand == nullptr) return;
  api_->gemm_operand_free(stream_, operand);
  operands_live_.fetch_sub(1, std::memory_order_relaxed);
}

PreparedOperandStats Backend::prepared_operand_stats() const {
  PreparedOperandStats stats;
  stats.requests = prepare_requests_.load(std::memory_order_relaxed);
  stats.prepared = operands_prepared_.load(std::memory_order_relaxed);
  stats.live = operands_live_.load(std::memory_order_relaxed);
  return stats;
}

absl::Status CopyBetween(Backend& from, const void* src, Backend& to, void* dst,
                         uint64_t bytes) {
  if (bytes == 0) return absl::OkStatus();
  std::vector<unsigned char> staging(bytes);
  THETA_RETURN_IF_ERROR(from.CopyToHost(staging.data(), src, bytes));
  THETA_RETURN_IF_ERROR(from.Synchronize());
  THETA_RETURN_IF_ERROR(to.CopyToDevice(dst, staging.data(), bytes));
  return to.Synchronize();
}

}  // namespace theta::backends
