#include "base/error.h"

namespace theta {

Error::Error(const std::string& message, absl::StatusCode code,
             std::source_location location)
    : std::runtime_error(message), code_(code), location_(location) {
  // A thrown error is never OK; a caller that passes kOk gets kUnknown.
  if (code_ == absl::StatusCode::kOk) code_ = absl::StatusCode::kUnknown;
}

absl::Status Error::status() const { return absl::Status(code_, what()); }

void ThrowIfError(const absl::Status& status, std::source_location location) {
  if (status.ok()) return;
  throw Error(std::string(status.message()), status.code(), location);
}

}  // namespace theta
