// Internal interface of the CPU plugin: the definitions of the ABI's opaque
// handles and one function per kernel. plugin.cc checks the handles and the
// args' struct_size, then calls these; each validates the rest of its
// arguments and returns NULL or a status naming itself.
#ifndef THETA_BACKENDS_CPU_KERNELS_H_
#define THETA_BACKENDS_CPU_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "backends/api/theta_backend.h"
#include "backends/cpu/scratch.h"
#include "backends/cpu/thread_pool.h"

struct theta_plugin {
  explicit theta_plugin(int num_threads) : pool(num_threads) {}
  theta::cpu::ThreadPool pool;
};

struct theta_device {
  theta_plugin* plugin;
};

struct theta_stream {
  explicit theta_stream(theta_device* d) : device(d) {}
  theta_device* device;
  theta::cpu::Scratch scratch;  // work space of the kernels run on it
};

struct theta_buffer {
  void* data;  // 64-byte aligned; NULL for 0 bytes
  uint64_t bytes;
};

namespace theta::cpu {

// The integer value of an enum field of a caller's struct. A C caller may
// store any int there, but in C++ loading an enum outside its declared
// range is undefined (UBSan: -fsanitize=enum), so enum fields are
// validated through this before they are used as enums.
template <typename E>
int32_t RawEnum(const E& field) {
  static_assert(sizeof(E) == sizeof(int32_t), "C enums are int-sized");
  int32_t value;
  std::memcpy(&value, &field, sizeof(value));
  return value;
}

// Bytes per element of a valid dtype (0 for unknown values).
size_t DtypeSize(int dtype);
bool IsValidDtype(int dtype);

// Whether an array may have negative strides: the ABI allows them only for
// arrays that copy and elementwise read (reversed views).
enum class StrideSign { kNonNegative, kAnyForReadOnly };

// Checks an array: known dtype, 0 <= ndim <= THETA_MAX_DIMS, shape and
// strides present when ndim > 0, shape >= 0, strides >= 0 unless `strides`
// allows negative ones, element count and offsets representable, data
// present when it has elements. `what` names it in messages ("input",
// "output", ...).
theta_status* CheckArray(const char* function, const char* what,
                         const theta_array& array,
                         StrideSign strides = StrideSign::kNonNegative);

// Checks an output: no zero stride along a dimension of size > 1 (every
// element is written once, possibly from several threads).
theta_status* CheckWritable(const char* function, const char* what,
                            const theta_array& array);

// Element count of an array that passed CheckArray.
int64_t NumElements(const theta_array& array);

// Formats a shape as "(2, 3)".
std::string ShapeString(int ndim, const int64_t* shape);

// Kernels (gemm.cc, elementwise.cc, reduce.cc, softmax.cc, gather.cc,
// copy_fill.cc, rng.cc).
theta_status* Gemm(ThreadPool& pool, const theta_gemm_args& args);
theta_status* Elementwise(ThreadPool& pool, const theta_elementwise_args& args);
theta_status* Reduce(ThreadPool& pool, Scratch& scratch,
                     const theta_reduce_args& args);
theta_status* Softmax(ThreadPool& pool, const theta_softmax_args& args);
theta_status* Gather(ThreadPool& pool, Scratch& scratch,
                     const theta_gather_args& args);
theta_status* ScatterAdd(ThreadPool& pool, Scratch& scratch,
                         const theta_gather_args& args);
theta_status* Copy(ThreadPool& pool, const theta_copy_args& args);
theta_status* Fill(ThreadPool& pool, const theta_array& array, double value);
theta_status* Rng(ThreadPool& pool, const theta_rng_args& args);

// memcpy of `bytes`, split across the pool when large.
void ParallelMemcpy(ThreadPool& pool, void* dst, const void* src,
                    uint64_t bytes);

}  // namespace theta::cpu

#endif  // THETA_BACKENDS_CPU_KERNELS_H_
