// The plugin kit's status objects: the definition of the ABI's opaque
// theta_status that every plugin linking the kit shares, helpers that build
// one with a formatted message, and the three status entries of the table.
//
//   if (n < 0) return InvalidArgument("gemm: m is ", n, ", must be >= 0");
//   return nullptr;  // success
//
// MakeStatus never returns NULL: when even the status cannot be allocated it
// returns a static OUT_OF_MEMORY status that FreeStatus leaves alone.
#ifndef THETA_BACKENDS_PLUGIN_KIT_STATUS_H_
#define THETA_BACKENDS_PLUGIN_KIT_STATUS_H_

#include <sstream>
#include <string>

#include "backends/api/theta_backend.h"

// The ABI's opaque status: a code and an owned message.
struct theta_status {
  theta_status_code code;
  std::string message;
};

namespace theta::plugin_kit {

// Returns a new status, or the static out-of-memory status when even that
// allocation fails. `code` must not be THETA_STATUS_OK.
theta_status* MakeStatus(theta_status_code code, std::string message) noexcept;

// Releases a status from MakeStatus (the static one is left alone).
void FreeStatus(theta_status* status) noexcept;

// The shared status returned when memory for a status runs out; FreeStatus
// never deletes it. Its message is "out of memory".
theta_status* OutOfMemoryStatus() noexcept;

// Prefixes a status's message with "<function>: " and returns it (NULL
// stays NULL; the static out-of-memory status is returned unchanged).
theta_status* Prefixed(const char* function, theta_status* status) noexcept;

// Message text of a dtype, e.g. "F32"; "dtype(9)" for unknown values.
std::string DtypeName(int dtype);

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

template <typename... Args>
theta_status* InvalidArgument(const Args&... args) {
  return MakeStatus(THETA_STATUS_INVALID_ARGUMENT, StrCat(args...));
}

template <typename... Args>
theta_status* Unimplemented(const Args&... args) {
  return MakeStatus(THETA_STATUS_UNIMPLEMENTED, StrCat(args...));
}

template <typename... Args>
theta_status* FailedPrecondition(const Args&... args) {
  return MakeStatus(THETA_STATUS_FAILED_PRECONDITION, StrCat(args...));
}

// The table's status_code, status_message and status_free entries.
theta_status_code StatusCode(const theta_status* status) noexcept;
const char* StatusMessage(const theta_status* status) noexcept;
void StatusFree(theta_status* status) noexcept;

}  // namespace theta::plugin_kit

#endif  // THETA_BACKENDS_PLUGIN_KIT_STATUS_H_
