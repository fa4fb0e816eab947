// theta::Error: the one exception type of Theta's user-facing API.
//
// Inside the library errors are absl::Status values; at the API a user calls
// directly (building an expression, compiling or calling a function, picking
// a backend) a failure is thrown as theta::Error, whose message says what was
// wrong and, for graph errors, which node and where it was created.
//
//   try { theta::backends::use("cuda"); }
//   catch (const theta::Error& e) { std::cerr << e.what() << "\n"; }
#ifndef THETA_BACKENDS_ERROR_H_
#define THETA_BACKENDS_ERROR_H_

#include <stdexcept>
#include <string>

#include "absl/status/status.h"

namespace theta {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws Error(status.message()) when `status` is not OK.
inline void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) throw Error(std::string(status.message()));
}

}  // namespace theta

#endif  // THETA_BACKENDS_ERROR_H_
