// Forced into every translation unit of fuzz/run_fuzzers.sh's clang builds
// (-include), and only there: Debian's clang 14 lacks the builtin that
// libstdc++ 12's <source_location> needs (__builtin_source_location), so that
// header declares nothing and base/error.h would not compile. This supplies
// std::source_location from the older builtins clang 14 has (__builtin_FILE,
// __builtin_LINE, ...), with the same members. With a compiler whose
// standard library provides it (__cpp_lib_source_location), it adds nothing.
#ifndef THETA_FUZZ_SOURCE_LOCATION_COMPAT_H_
#define THETA_FUZZ_SOURCE_LOCATION_COMPAT_H_

#include <cstdint>
#include <source_location>

#ifndef __cpp_lib_source_location
namespace std {
struct source_location {
  static constexpr source_location current(
      const char* file = __builtin_FILE(),
      const char* function = __builtin_FUNCTION(),
      uint_least32_t line = __builtin_LINE(),
      uint_least32_t column = __builtin_COLUMN()) noexcept {
    source_location location;
    location.file_ = file;
    location.function_ = function;
    location.line_ = line;
    location.column_ = column;
    return location;
  }
  constexpr source_location() noexcept = default;
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }
  constexpr uint_least32_t line() const noexcept { return line_; }
  constexpr uint_least32_t column() const noexcept { return column_; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  uint_least32_t line_ = 0;
  uint_least32_t column_ = 0;
};
}  // namespace std
#endif  // __cpp_lib_source_location

#endif  // THETA_FUZZ_SOURCE_LOCATION_COMPAT_H_
