// Internal interface of the CPU plugin: the definitions of the ABI's opaque
// handles and one function per kernel. plugin.cc checks the handles and
// reads the args struct (the plugin kit's KernelEntry), then calls these; each
// validates the rest of its arguments and returns NULL or a status naming
// itself.
#ifndef THETA_BACKENDS_CPU_KERNELS_H_
#define THETA_BACKENDS_CPU_KERNELS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "backends/api/theta_backend.h"
#include "backends/cpu/gemm_provider.h"
#include "backends/cpu/packed_gemm.h"
#include "backends/cpu/scratch.h"
#include "backends/cpu/thread_pool.h"
#include "backends/plugin_kit/arrays.h"
#include "backends/plugin_kit/checks.h"
#include "backends/plugin_kit/status.h"

struct theta_plugin {
  theta_plugin(int num_threads, bool deterministic,
               theta::cpu::GemmSelection gemm)
      : pool(num_threads, deterministic), gemm_selection(gemm) {}
  theta::cpu::ThreadPool pool;
  // THETA_CPU_GEMM; the "cpu.set_gemm_provider" extension may change it.
  std::atomic<theta::cpu::GemmSelection> gemm_selection;
};

struct theta_device {
  theta_plugin* plugin;
};

struct theta_stream {
  explicit theta_stream(theta_device* d) : device(d) {}
  theta_device* device;
  theta::cpu::Scratch scratch;  // work space of the kernels run on it
};

// A float32 B operand packed for the packed kernel (gemm_prepare; F64 and
// small operands are not prepared), and what it was made from, which each
// GEMM given it checks against its own B.
struct theta_gemm_operand {
  theta_gemm_operand(theta::cpu::ThreadPool& pool,
                     const theta::plugin_kit::PreparedOperandSource& s)
      : source(s),
        packed(pool, static_cast<const float*>(s.data), s.ld, s.trans != 0, s.k,
               s.n) {}
  const theta::plugin_kit::PreparedOperandSource source;
  const theta::cpu::PackedB packed;
};

struct theta_buffer {
  void* data;  // 64-byte aligned; NULL for 0 bytes
  uint64_t bytes;
};

namespace theta::cpu {

// The plugin kit's statuses and checks, used throughout this plugin.
using ::theta::plugin_kit::CheckArray;
using ::theta::plugin_kit::CheckWritable;
using ::theta::plugin_kit::DtypeName;
using ::theta::plugin_kit::DtypeSize;
using ::theta::plugin_kit::InvalidArgument;
using ::theta::plugin_kit::IsValidDtype;
using ::theta::plugin_kit::MakeStatus;
using ::theta::plugin_kit::NumElements;
using ::theta::plugin_kit::RawEnum;
using ::theta::plugin_kit::ShapeString;
using ::theta::plugin_kit::StrCat;
using ::theta::plugin_kit::StrideSign;
using ::theta::plugin_kit::Unimplemented;

// Kernels (gemm.cc with packed_gemm.cc, elementwise.cc, reduce.cc, softmax.cc,
// gather.cc, copy_fill.cc, rng.cc). With args.prepared_b, Gemm checks it
// against B first (the plugin kit's CheckPreparedMatches).
theta_status* Gemm(ThreadPool& pool, GemmSelection selection,
                   const theta_gemm_args& args);
// Sets *out to a new prepared operand, or to NULL when preparing would gain
// nothing (F64, a small operand, a processor without AVX2 and FMA).
theta_status* GemmPrepare(ThreadPool& pool, const theta_gemm_prepare_args& args,
                          theta_gemm_operand** out);
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
