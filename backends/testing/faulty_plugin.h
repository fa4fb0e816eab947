// The fault-injecting test plugin (libtheta_faulty.so, test builds only):
// it loads the CPU plugin and forwards every table entry to it, except that
// it can be told to fail the k-th buffer allocation, kernel launch or data
// transfer from now on. A test reaches the switch through the table's
// get_extension entry, by the name kFaultyControlExtension:
//
//   backends::Backend& b = *backends::GetBackend(path_of_libtheta_faulty_so);
//   auto* control = static_cast<const theta_faulty_control*>(
//       b.api().get_extension(b.plugin(), kFaultyControlExtension));
//   control->fail_at(THETA_FAULT_KERNEL, 3);  // the 3rd kernel from now fails
//
// An injected failure returns a status naming the call ("faulty: injected
// failure of kernel launch #3 (elementwise)"; allocations fail with
// RESOURCE_EXHAUSTED, kernels and transfers with INTERNAL) and does nothing
// else: the CPU plugin is not called. A fault fires once, then disarms.
// The counters and the armed faults are process-wide (every instance of
// the plugin shares them); the control functions are thread-safe.
//
// Its device does not report THETA_DEVICE_HOST_MEMORY, so callers treat it
// as a GPU's: host tensors are copied in and out, through transfers.
//
// The CPU plugin is taken from $THETA_FAULTY_INNER when set, else from
// ../cpu/libtheta_cpu.so or ./libtheta_cpu.so beside this library (the
// layout of a Bazel build and its runfiles). When it cannot be loaded,
// plugin_create fails with the path and the reason.
#ifndef THETA_BACKENDS_TESTING_FAULTY_PLUGIN_H_
#define THETA_BACKENDS_TESTING_FAULTY_PLUGIN_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// What a fault targets.
typedef enum theta_fault_kind {
  THETA_FAULT_ALLOCATION = 0,  // buffer_alloc
  THETA_FAULT_KERNEL = 1,      // gemm ... rng (the theta_kernel entries)
  THETA_FAULT_TRANSFER = 2,    // copies between host and device, memset
} theta_fault_kind;

#define THETA_FAULT_KIND_COUNT 3

typedef struct theta_faulty_control {
  // Arms a fault: the k-th call of `kind` from now fails (k >= 1); k <= 0
  // disarms it.
  void (*fail_at)(int32_t kind, int64_t k);
  // Calls of `kind` made so far (those that failed included).
  int64_t (*calls)(int32_t kind);
  // Injected failures so far, over all kinds.
  int64_t (*failures)(void);
} theta_faulty_control;

#ifdef __cplusplus
}  // extern "C"
#endif

// The get_extension name of the control table.
#define THETA_FAULTY_CONTROL_EXTENSION "faulty.control"

#ifdef __cplusplus
inline constexpr const char kFaultyControlExtension[] =
    THETA_FAULTY_CONTROL_EXTENSION;
#endif

#endif  // THETA_BACKENDS_TESTING_FAULTY_PLUGIN_H_
