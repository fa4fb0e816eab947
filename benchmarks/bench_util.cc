#include "benchmarks/bench_util.h"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <utility>

#include "backends/registry.h"

namespace theta::bench {

Tensor RandomTensor(DType dtype, std::vector<int64_t> shape, uint64_t seed) {
  return UniformTensor(dtype, std::move(shape), 1.0, seed);
}

Tensor UniformTensor(DType dtype, std::vector<int64_t> shape, double limit,
                     uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-limit, limit);
  Tensor t(DType::kFloat64, shape);
  for (int64_t i = 0; i < t.size(); ++i) t.data<double>()[i] = dist(rng);
  return t.astype(dtype);
}

Tensor RandomLabels(int64_t n, int64_t classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Tensor t(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) {
    t.data<int32_t>()[i] = static_cast<int32_t>(rng() % classes);
  }
  return t;
}

std::string BlasCore() {
  backends::Backend& b = backends::current();
  using CoreFn = const char* (*)(theta_plugin*);
  void* fn = b.api().get_extension(b.plugin(), "cpu.blas_core");
  if (fn == nullptr) return "n/a";
  const char* core = reinterpret_cast<CoreFn>(fn)(b.plugin());
  return core != nullptr ? core : "n/a";
}

std::string OneDnnIsa() {
  backends::Backend& b = backends::current();
  using IsaFn = const char* (*)(theta_plugin*);
  void* fn = b.api().get_extension(b.plugin(), "cpu.onednn_isa");
  if (fn == nullptr) return "n/a";
  const char* isa = reinterpret_cast<IsaFn>(fn)(b.plugin());
  return isa != nullptr ? isa : "n/a";
}

void PrintContext() {
  backends::Backend& b = backends::current();
  const char* threads = std::getenv("THETA_NUM_THREADS");
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf(
      "backend: %s (%s), THETA_NUM_THREADS=%s, OPENBLAS_CORETYPE=%s, "
      "OpenBLAS kernel: %s\n",
      b.id().c_str(), b.device_name().c_str(), threads ? threads : "(unset)",
      coretype ? coretype : "(unset)", BlasCore().c_str());
  const char* gemm = std::getenv("THETA_CPU_GEMM");
  std::printf("THETA_CPU_GEMM=%s, oneDNN: %s\n", gemm ? gemm : "(unset)",
              OneDnnIsa().c_str());
}

}  // namespace theta::bench
