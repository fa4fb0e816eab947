// Reads the JSON that Google Benchmark programs write with
// --benchmark_out_format=json: one entry per benchmark run, times in
// seconds per iteration, and the user counters.
//
//   absl::StatusOr<std::vector<BenchmarkRun>> runs =
//       ParseGoogleBenchmarkJson(ReadFile("core_bench.json"));
#ifndef THETA_BENCHMARKS_SUITE_GBENCH_JSON_H_
#define THETA_BENCHMARKS_SUITE_GBENCH_JSON_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace theta::suite {

struct BenchmarkRun {
  std::string name;  // "BM_SoftmaxForward/20/16"
  std::string label;
  double real_seconds = 0;  // per iteration
  double cpu_seconds = 0;
  std::map<std::string, double> counters;  // user counters, as reported
  std::string error;  // non-empty when the benchmark reported an error
};

// The iteration runs (aggregates such as mean or median are skipped).
// InvalidArgument when the text is not Google Benchmark's JSON.
absl::StatusOr<std::vector<BenchmarkRun>> ParseGoogleBenchmarkJson(
    std::string_view json);

}  // namespace theta::suite

#endif  // THETA_BENCHMARKS_SUITE_GBENCH_JSON_H_
