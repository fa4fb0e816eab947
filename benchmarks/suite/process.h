// Runs a program as a child process of the benchmark suite: the parent's
// environment plus overrides, stdout and stderr into files, and waits.
//
//   ProcessResult r = RunProcess({"/bin/echo", "hi"}, {{"X", "1"}}, out, err);
//   if (r.exit_code != 0) ... r.error ...
#ifndef THETA_BENCHMARKS_SUITE_PROCESS_H_
#define THETA_BENCHMARKS_SUITE_PROCESS_H_

#include <string>
#include <utility>
#include <vector>

namespace theta::suite {

struct ProcessResult {
  int exit_code = -1;  // -1 when it could not start or was killed
  double seconds = 0;  // wall time
  std::string error;   // why it failed, empty on exit code 0
};

// argv[0] is looked up on PATH when it holds no '/'. The child's stdout
// and stderr are written to the files (created or truncated).
ProcessResult RunProcess(
    const std::vector<std::string>& argv,
    const std::vector<std::pair<std::string, std::string>>& env,
    const std::string& stdout_path, const std::string& stderr_path);

// The whole file, or an empty string when it cannot be read.
std::string ReadFile(const std::string& path);

// The child's stdout with trailing whitespace removed, or `fallback` when
// it cannot run or fails.
std::string OutputOf(const std::vector<std::string>& argv,
                     const std::string& scratch_dir,
                     const std::string& fallback);

}  // namespace theta::suite

#endif  // THETA_BENCHMARKS_SUITE_PROCESS_H_
