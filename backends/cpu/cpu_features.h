// What the CPU plugin's kernels need of the processor. The kernels are
// compiled for x86-64-v3 (AVX2, FMA); plugin_create asks here first, so a
// processor without them gets a clear error instead of an illegal
// instruction. This file's .cc is compiled without -march flags.
#ifndef THETA_BACKENDS_CPU_CPU_FEATURES_H_
#define THETA_BACKENDS_CPU_CPU_FEATURES_H_

namespace theta::cpu {

// Null when the processor runs the kernels, else the missing features, e.g.
// "AVX2 and FMA" (a static string).
const char* MissingCpuFeatures();

// The same answer for a processor with or without each feature.
const char* MissingFeatures(bool avx2, bool fma);

}  // namespace theta::cpu

#endif  // THETA_BACKENDS_CPU_CPU_FEATURES_H_
