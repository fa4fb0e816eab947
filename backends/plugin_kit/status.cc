#include "backends/plugin_kit/status.h"

#include <new>
#include <utility>

namespace theta::plugin_kit {

theta_status* OutOfMemoryStatus() noexcept {
  // A short literal fits std::string's inline buffer: no allocation.
  static theta_status status{THETA_STATUS_OUT_OF_MEMORY, "out of memory"};
  return &status;
}

theta_status* MakeStatus(theta_status_code code, std::string message) noexcept {
  theta_status* status = new (std::nothrow) theta_status;
  if (status == nullptr) return OutOfMemoryStatus();
  status->code = code;
  status->message = std::move(message);
  return status;
}

void FreeStatus(theta_status* status) noexcept {
  if (status == nullptr || status == OutOfMemoryStatus()) return;
  delete status;
}

theta_status* Prefixed(const char* function, theta_status* status) noexcept {
  if (status == nullptr || status == OutOfMemoryStatus()) return status;
  try {
    status->message = std::string(function) + ": " + status->message;
  } catch (...) {  // keep the unprefixed message
  }
  return status;
}

std::string DtypeName(int dtype) {
  switch (dtype) {
    case THETA_DTYPE_F32:
      return "F32";
    case THETA_DTYPE_F64:
      return "F64";
    case THETA_DTYPE_I32:
      return "I32";
    case THETA_DTYPE_I64:
      return "I64";
    case THETA_DTYPE_U8:
      return "U8";
    case THETA_DTYPE_BOOL:
      return "BOOL";
    default:
      return "dtype(" + std::to_string(dtype) + ")";
  }
}

theta_status_code StatusCode(const theta_status* status) noexcept {
  return status == nullptr ? THETA_STATUS_OK : status->code;
}

const char* StatusMessage(const theta_status* status) noexcept {
  return status == nullptr ? "" : status->message.c_str();
}

void StatusFree(theta_status* status) noexcept { FreeStatus(status); }

}  // namespace theta::plugin_kit
