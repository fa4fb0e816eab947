// The CUDA plugin's kernels, host side: plugin.cc checks the stream and the
// args' struct_size and makes the stream's device current, then calls
// these; each validates the rest of its arguments (with the CPU plugin's
// rules and messages), prepares the launch and enqueues it on the stream.
// They return NULL or a status naming themselves; errors found while the
// work runs come back from the stream's next synchronize.
#ifndef THETA_BACKENDS_CUDA_KERNELS_H_
#define THETA_BACKENDS_CUDA_KERNELS_H_

#include "backends/api/theta_backend.h"
#include "backends/cuda/handles.h"

namespace theta::cuda {

theta_status* Gemm(theta_stream* stream, const theta_gemm_args& args);
// ABI 1.2: records the operand (theta_gemm_operand in handles.h); touches
// no device.
theta_status* GemmPrepare(theta_stream* stream,
                          const theta_gemm_prepare_args& args,
                          theta_gemm_operand** out);
theta_status* Elementwise(theta_stream* stream,
                          const theta_elementwise_args& args);
theta_status* Reduce(theta_stream* stream, const theta_reduce_args& args);
theta_status* Softmax(theta_stream* stream, const theta_softmax_args& args);
theta_status* Gather(theta_stream* stream, const theta_gather_args& args);
theta_status* ScatterAdd(theta_stream* stream, const theta_gather_args& args);
theta_status* Copy(theta_stream* stream, const theta_copy_args& args);
theta_status* Fill(theta_stream* stream, const theta_array& array,
                   double value);
theta_status* Rng(theta_stream* stream, const theta_rng_args& args);

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_KERNELS_H_
