// The benchmark suite's results and the three files written from them:
// report.json (everything), report.md (tables) and chart.svg (each
// workload's time beside Theta's at one thread).
//
//   SuiteReport report = RunSuite(config);
//   WriteReport(report, "benchmark_report");
#ifndef THETA_BENCHMARKS_SUITE_REPORT_H_
#define THETA_BENCHMARKS_SUITE_REPORT_H_

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "benchmarks/suite/stats.h"
#include "nlohmann/json.hpp"

namespace theta::suite {

struct Environment {
  std::string cpu_model;
  int logical_cpus = 0;
  std::vector<int> threads;           // the thread counts run
  std::string openblas_core;          // as the CPU plugin's OpenBLAS reports it
  std::string openblas_coretype_env;  // $OPENBLAS_CORETYPE, "(unset)"
  std::string onednn;                 // the CPU plugin's oneDNN: "2.6.3 avx2"
  std::string cpu_gemm_env;           // $THETA_CPU_GEMM, "(unset)"
  std::string theta_commit;           // "unknown" outside a git checkout
  std::string date_utc;
  std::string mode;  // "quick" or "full"
  int rounds = 0;
};

struct BackendStatus {
  std::string name, path, version;
  bool available = false;
  std::string reason;  // why it is not usable
  std::string device;
};

struct PeerStatus {
  std::string name;     // "torch", "pytensor"
  std::string version;  // empty when it is not usable
  std::string detail;   // BLAS, mode, or why it is not usable
};

// One measurement series: the key says who measured what.
struct SeriesKey {
  std::string program;  // "core_bench", ..., or a peer: "torch"
  std::string backend;  // "cpu", "cuda"; for a peer, "python"
  int threads = 1;
  std::string name;  // benchmark name, or workload id for a peer
  auto operator<=>(const SeriesKey&) const = default;
};

struct Series {
  std::string unit = "s";      // "s" per iteration, or "images/s"
  std::vector<double> values;  // one per round
  std::map<std::string, std::vector<double>> counters;
  std::string label;
};

struct SuiteReport {
  Environment environment;
  std::vector<BackendStatus> backends;
  std::vector<PeerStatus> peers;
  std::string peers_note;  // how to set the peers up, when they are absent
  std::map<SeriesKey, Series> series;
  std::vector<std::string> failures;
};

// One row of the comparison: a workload at a thread count.
struct ComparisonRow {
  std::string workload, description;
  int threads = 1;
  std::optional<Summary> theta;          // in seconds
  std::map<std::string, Summary> peers;  // by peer name, in seconds
  std::string best_peer;                 // empty without peer results
  std::optional<double> ratio;           // Theta / best peer (medians)
};
// Theta on the CPU backend against every peer that measured the workload.
std::vector<ComparisonRow> Compare(const SuiteReport& report);

nlohmann::json ReportJson(const SuiteReport& report);
std::string ReportMarkdown(const SuiteReport& report);
std::string ComparisonChartSvg(const SuiteReport& report);
// The table of Compare() as plain text, for the terminal.
std::string ComparisonText(const SuiteReport& report);

// Writes report.json, report.md and chart.svg into `dir` (created).
absl::Status WriteReport(const SuiteReport& report, const std::string& dir);

}  // namespace theta::suite

#endif  // THETA_BENCHMARKS_SUITE_REPORT_H_
