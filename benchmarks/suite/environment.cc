#include "benchmarks/suite/environment.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>

#include "benchmarks/suite/process.h"

namespace theta::suite {

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) {
        return line.substr(colon + 2);
      }
    }
  }
  return "unknown";
}

int LogicalCpus() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

std::string OpenBlasCoretypeEnv() {
  const char* v = std::getenv("OPENBLAS_CORETYPE");
  return v != nullptr ? v : "(unset)";
}

std::string ThetaCommit(const std::string& repo_dir,
                        const std::string& scratch_dir) {
  if (repo_dir.empty()) return "unknown";
  const std::string commit = OutputOf(
      {"git", "-C", repo_dir, "rev-parse", "HEAD"}, scratch_dir, "unknown");
  if (commit == "unknown") return commit;
  const std::string changes = OutputOf(
      {"git", "-C", repo_dir, "status", "--porcelain", "--untracked-files=no"},
      scratch_dir, "");
  return changes.empty() ? commit : commit + " (modified)";
}

std::string DateUtc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

namespace {

// The text after `key` up to the end of its line.
std::string ContextValue(const std::string& program_output,
                         const std::string& key) {
  const size_t at = program_output.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  const size_t end = program_output.find_first_of("\r\n", start);
  return program_output.substr(
      start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

std::string OpenBlasCoreFromContext(const std::string& program_output) {
  return ContextValue(program_output, "OpenBLAS kernel: ");
}

std::string OneDnnFromContext(const std::string& program_output) {
  return ContextValue(program_output, "oneDNN: ");
}

}  // namespace theta::suite
