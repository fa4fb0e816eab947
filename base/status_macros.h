// Status propagation inside Theta's libraries (absl::Status / StatusOr).
//
//   THETA_RETURN_IF_ERROR(expr);
//       evaluates `expr` (an absl::Status) once; if it is not OK, returns it
//       from the enclosing function (which returns Status or StatusOr<T>).
//   THETA_ASSIGN_OR_RETURN(lhs, expr);
//       evaluates `expr` (an absl::StatusOr<T>) once; if it holds an error,
//       returns that error, otherwise moves its value into `lhs`, which may
//       be a declaration (`auto x`, `const Tensor& t`) or an existing
//       variable. Each use is one statement; it cannot be the lone body of an
//       unbraced `if`.
#ifndef THETA_BASE_STATUS_MACROS_H_
#define THETA_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define THETA_RETURN_IF_ERROR(expr)                     \
  do {                                                  \
    ::absl::Status theta_status_macros_status = (expr); \
    if (!theta_status_macros_status.ok()) [[unlikely]]  \
      return theta_status_macros_status;                \
  } while (false)

#define THETA_STATUS_MACROS_CONCAT_INNER(a, b) a##b
#define THETA_STATUS_MACROS_CONCAT(a, b) THETA_STATUS_MACROS_CONCAT_INNER(a, b)

#define THETA_ASSIGN_OR_RETURN(lhs, expr)                                 \
  THETA_ASSIGN_OR_RETURN_IMPL(                                            \
      THETA_STATUS_MACROS_CONCAT(theta_status_macros_or_, __LINE__), lhs, \
      expr)

#define THETA_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) [[unlikely]]                       \
    return std::move(statusor).status();                 \
  lhs = std::move(statusor).value()

#endif  // THETA_BASE_STATUS_MACROS_H_
