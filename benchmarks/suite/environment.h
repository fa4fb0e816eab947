// What the report says about the machine and the checkout.
//
//   std::string cpu = CpuModel();  // "Intel(R) Xeon(R) Processor"
#ifndef THETA_BENCHMARKS_SUITE_ENVIRONMENT_H_
#define THETA_BENCHMARKS_SUITE_ENVIRONMENT_H_

#include <string>

namespace theta::suite {

// /proc/cpuinfo's first "model name", or "unknown".
std::string CpuModel();
int LogicalCpus();
// $OPENBLAS_CORETYPE, or "(unset)"; the suite never sets it.
std::string OpenBlasCoretypeEnv();
// `git rev-parse HEAD` in `repo_dir`, with " (modified)" when tracked files
// differ from it; "unknown" when there is no git or no checkout.
std::string ThetaCommit(const std::string& repo_dir,
                        const std::string& scratch_dir);
// Now, as 2026-12-04T14:30:00Z.
std::string DateUtc();
// The kernel name in a benchmark program's context line ("... OpenBLAS
// kernel: Haswell"), or an empty string.
std::string OpenBlasCoreFromContext(const std::string& program_output);
// The same for the context line's "oneDNN: 2.6.3 avx2".
std::string OneDnnFromContext(const std::string& program_output);

}  // namespace theta::suite

#endif  // THETA_BENCHMARKS_SUITE_ENVIRONMENT_H_
