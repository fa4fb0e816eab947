// Shared helpers of the benchmark programs: random inputs and the context
// line every report starts with (backend, device, threads, BLAS kernel).
#ifndef THETA_BENCHMARKS_BENCH_UTIL_H_
#define THETA_BENCHMARKS_BENCH_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "graph/tensor.h"

namespace theta::bench {

// Uniform in [-1, 1) (fixed seed).
Tensor RandomTensor(DType dtype, std::vector<int64_t> shape, uint64_t seed);
// Uniform in [-limit, limit) (fixed seed): weights at the scale a model is
// initialised with (Glorot: limit = sqrt(6 / (fan_in + fan_out))).
Tensor UniformTensor(DType dtype, std::vector<int64_t> shape, double limit,
                     uint64_t seed);
// Integers in [0, classes).
Tensor RandomLabels(int64_t n, int64_t classes, uint64_t seed);

// The BLAS kernel the CPU plugin's OpenBLAS runs ("Haswell", "SkylakeX"),
// or "n/a" when the current backend does not say.
std::string BlasCore();

// oneDNN's version and instruction set in the CPU plugin ("2.6.3 avx2"),
// or "n/a" when the current backend does not say.
std::string OneDnnIsa();

// Prints backend, device, THETA_NUM_THREADS, OPENBLAS_CORETYPE and the BLAS
// kernel on one line, and THETA_CPU_GEMM and oneDNN's ISA on the next.
void PrintContext();

}  // namespace theta::bench

#endif  // THETA_BENCHMARKS_BENCH_UTIL_H_
