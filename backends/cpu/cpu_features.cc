#include "backends/cpu/cpu_features.h"

namespace theta::cpu {

const char* MissingCpuFeatures() {
  __builtin_cpu_init();
  return MissingFeatures(__builtin_cpu_supports("avx2"),
                         __builtin_cpu_supports("fma"));
}

const char* MissingFeatures(bool avx2, bool fma) {
  if (avx2 && fma) return nullptr;
  if (!avx2 && !fma) return "AVX2 and FMA";
  return avx2 ? "FMA" : "AVX2";
}

}  // namespace theta::cpu
