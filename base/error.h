// theta::Error: the one exception type of Theta's user-facing API.
//
// Inside the library failures are absl::Status values; at the API a user
// calls directly (building an expression, compiling or calling a function,
// picking a backend) a failure is thrown as theta::Error. Its message says
// what was wrong and, for graph errors, which node and the user's source line
// where it was created. Two fields help programs that handle errors:
//   code()      the absl::StatusCode of the failure (kInvalidArgument for bad
//               input, kNotFound for a missing backend or file,
//               kResourceExhausted for an allocation, ...);
//   location()  where inside Theta it was raised (for bug reports; the
//               user's own line, when known, is in the message).
//
//   try { theta::backends::use("cuda"); }
//   catch (const theta::Error& e) {
//     std::cerr << e.what() << "\n";
//     if (e.code() == absl::StatusCode::kNotFound) { /* fall back */ }
//   }
#ifndef THETA_BASE_ERROR_H_
#define THETA_BASE_ERROR_H_

#include <source_location>
#include <stdexcept>
#include <string>

#include "absl/status/status.h"

namespace theta {

class Error : public std::runtime_error {
 public:
  // An error raised by Theta itself; the code defaults to kInvalidArgument
  // because nearly every such throw reports a bad argument.
  explicit Error(
      const std::string& message,
      absl::StatusCode code = absl::StatusCode::kInvalidArgument,
      std::source_location location = std::source_location::current());

  absl::StatusCode code() const { return code_; }
  const std::source_location& location() const { return location_; }

  // The same failure as a Status (code and message), to pass on through
  // code that propagates statuses.
  absl::Status status() const;

 private:
  absl::StatusCode code_;
  std::source_location location_;
};

// Throws Error(status) at the caller's location when `status` is not OK.
// An OK status passed here is a no-op.
void ThrowIfError(
    const absl::Status& status,
    std::source_location location = std::source_location::current());

}  // namespace theta

#endif  // THETA_BASE_ERROR_H_
