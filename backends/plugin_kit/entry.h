// The plugin kit's table edge: the noexcept guard every table entry runs
// its body in, the reading of versioned argument structs (ABI rule 3 of
// theta_backend.h: any struct_size from the frozen 1.0 size up, newer
// fields defaulted), the kernel-entry guard built from the two, and the
// macro that exports a plugin's entry point.
//
//   theta_status* GemmEntry(theta_stream* stream,
//                           const theta_gemm_args* args) noexcept {
//     return KernelEntry("gemm", stream, args,
//                        [&](const theta_gemm_args& a) { return Gemm(a); });
//   }
//   ...
//   THETA_PLUGIN_KIT_EXPORT_API(theta::cpu::kApi)
//
// Nothing here allocates unless a status is returned.
#ifndef THETA_BACKENDS_PLUGIN_KIT_ENTRY_H_
#define THETA_BACKENDS_PLUGIN_KIT_ENTRY_H_

#include <cstddef>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "backends/api/theta_backend.h"
#include "backends/plugin_kit/status.h"

namespace theta::plugin_kit {

// Runs `body` (returning theta_status*) and turns any exception into a
// status naming `function`: std::bad_alloc gives OUT_OF_MEMORY ("<function>:
// out of host memory"), anything else INTERNAL. This is the noexcept edge
// of every table entry.
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

// What the kit knows of one versioned argument struct: its smallest size
// (frozen: its size under ABI 1.0, or under the minor that introduced it),
// and the struct a caller gets when it passes only the 1.0 fields
// (every field past them at its documented default). Specialised below for
// each kernel's struct; a struct gaining a field under ABI 1.x sets that
// field's default in its Defaults().
template <typename Args>
struct ArgsTraits;

#define THETA_PLUGIN_KIT_ARGS_TRAITS(TYPE, MIN_SIZE) \
  template <>                                        \
  struct ArgsTraits<TYPE> {                          \
    static constexpr size_t kMinSize = MIN_SIZE;     \
    static TYPE Defaults() {                         \
      TYPE args{};                                   \
      args.struct_size = sizeof(TYPE);               \
      return args;                                   \
    }                                                \
  }

THETA_PLUGIN_KIT_ARGS_TRAITS(theta_gemm_args, THETA_GEMM_ARGS_SIZE_1_0);
THETA_PLUGIN_KIT_ARGS_TRAITS(theta_ew_program, THETA_EW_PROGRAM_SIZE_1_0);
THETA_PLUGIN_KIT_ARGS_TRAITS(theta_elementwise_args,
                             THETA_ELEMENTWISE_ARGS_SIZE_1_0);
THETA_PLUGIN_KIT_ARGS_TRAITS(theta_reduce_args, THETA_REDUCE_ARGS_SIZE_1_0);
THETA_PLUGIN_KIT_ARGS_TRAITS(theta_softmax_args, THETA_SOFTMAX_ARGS_SIZE_1_0);
THETA_PLUGIN_KIT_ARGS_TRAITS(theta_gather_args, THETA_GATHER_ARGS_SIZE_1_0);
THETA_PLUGIN_KIT_ARGS_TRAITS(theta_copy_args, THETA_COPY_ARGS_SIZE_1_0);
THETA_PLUGIN_KIT_ARGS_TRAITS(theta_rng_args, THETA_RNG_ARGS_SIZE_1_0);
// Introduced in ABI 1.2: its smallest size is its size then.
THETA_PLUGIN_KIT_ARGS_TRAITS(theta_gemm_prepare_args,
                             THETA_GEMM_PREPARE_ARGS_SIZE_1_2);

// Reads a caller's argument struct. `what` names it in messages ("args",
// "program"). A struct_size of at least sizeof(Args) is used in place
// (*out = args); one from ArgsTraits<Args>::kMinSize up is copied into
// *local over the defaults, and *out = local; a NULL or smaller struct is
// INVALID_ARGUMENT naming the size.
template <typename Args>
theta_status* ReadArgs(const char* function, const char* what, const Args* args,
                       Args* local, const Args** out) {
  if (args == nullptr) return InvalidArgument(function, ": ", what, " is NULL");
  if (args->struct_size < ArgsTraits<Args>::kMinSize) {
    return InvalidArgument(function, ": ", what, "->struct_size is ",
                           args->struct_size, ", expected at least ",
                           ArgsTraits<Args>::kMinSize, " (its frozen size)");
  }
  if (args->struct_size >= sizeof(Args)) {
    *out = args;
    return nullptr;
  }
  *local = ArgsTraits<Args>::Defaults();
  std::memcpy(static_cast<void*>(local), args, args->struct_size);
  local->struct_size = sizeof(Args);
  *out = local;
  return nullptr;
}

// The kernel-entry guard: inside Guard, checks that the stream is present
// and reads the args struct (ReadArgs), then returns body(args) with the
// full-size struct.
template <typename Stream, typename Args, typename Body>
theta_status* KernelEntry(const char* function, Stream* stream,
                          const Args* args, Body&& body) noexcept {
  return Guard(function, [&]() -> theta_status* {
    if (stream == nullptr) return InvalidArgument(function, ": stream is NULL");
    Args local;
    const Args* full = nullptr;
    if (theta_status* s = ReadArgs(function, "args", args, &local, &full)) {
      return s;
    }
    return body(*full);
  });
}

}  // namespace theta::plugin_kit

// Defines the plugin's one exported symbol, theta_backend_get_api(),
// returning `table` (a static theta_backend_api). Use once per plugin, at
// namespace scope outside any namespace.
#define THETA_PLUGIN_KIT_EXPORT_API(table)                                    \
  extern "C" THETA_BACKEND_EXPORT const theta_backend_api*                    \
  theta_backend_get_api(void) {                                               \
    static_assert(                                                            \
        std::is_same_v<std::remove_cv_t<decltype(table)>, theta_backend_api>, \
        "THETA_PLUGIN_KIT_EXPORT_API needs a theta_backend_api");             \
    return &(table);                                                          \
  }

#endif  // THETA_BACKENDS_PLUGIN_KIT_ENTRY_H_
