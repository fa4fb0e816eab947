// Status objects of the CUDA plugin: the definition of the ABI's opaque
// theta_status, helpers that build one with a formatted message, and the
// noexcept edge (Guard) of every table entry. CUDA, cuBLAS, NVRTC and driver
// errors are turned into statuses by cuda_errors.h.
//
//   if (n < 0) return InvalidArgument("gemm: m is ", n, ", must be >= 0");
//   return nullptr;  // success
#ifndef THETA_BACKENDS_CUDA_STATUS_H_
#define THETA_BACKENDS_CUDA_STATUS_H_

#include <exception>
#include <new>
#include <sstream>
#include <string>
#include <utility>

#include "backends/api/theta_backend.h"

// The ABI's opaque status: a code and an owned message.
struct theta_status {
  theta_status_code code;
  std::string message;
};

namespace theta::cuda {

// Returns a new status, or a static out-of-memory status when even that
// allocation fails. Never returns NULL. `code` must not be THETA_STATUS_OK.
theta_status* MakeStatus(theta_status_code code, std::string message) noexcept;

// Releases a status from MakeStatus (the static one is left alone).
void FreeStatus(theta_status* status) noexcept;

// The shared status returned when memory for a status runs out; FreeStatus
// never deletes it.
theta_status* OutOfMemoryStatus() noexcept;

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

// Runs `body` (returning theta_status*) and turns any exception into a
// status naming `function`: std::bad_alloc gives OUT_OF_MEMORY, anything
// else INTERNAL.
template <typename Body>
theta_status* Guard(const char* function, Body&& body) noexcept {
  try {
    try {
      return std::forward<Body>(body)();
    } catch (const std::bad_alloc&) {
      return MakeStatus(THETA_STATUS_OUT_OF_MEMORY,
                        std::string(function) + ": out of host memory");
    } catch (const std::exception& e) {
      return MakeStatus(
          THETA_STATUS_INTERNAL,
          std::string(function) + ": internal error: " + e.what());
    } catch (...) {
      return MakeStatus(THETA_STATUS_INTERNAL,
                        std::string(function) + ": unknown internal error");
    }
  } catch (...) {  // building the message itself failed
    return OutOfMemoryStatus();
  }
}

// Prefixes a status's message with "<function>: " and returns it (NULL
// stays NULL).
theta_status* Prefixed(const char* function, theta_status* status) noexcept;

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_STATUS_H_
