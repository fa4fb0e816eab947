// The benchmark suite: every benchmark program on every usable backend, the
// end-to-end program, and the peers' scripts, round by round at each thread
// count, collected into a SuiteReport (report.h).
//
//   SuiteConfig config = {.runfiles = ..., .scratch_dir = ...};
//   SuiteReport report = RunSuite(config);
#ifndef THETA_BENCHMARKS_SUITE_SUITE_H_
#define THETA_BENCHMARKS_SUITE_SUITE_H_

#include <string>
#include <vector>

#include "benchmarks/suite/report.h"

namespace theta::suite {

struct SuiteConfig {
  // The Bazel runfiles root holding theta/benchmarks/<program> and
  // theta/models/train_fashion_mnist; the programs run with it as their
  // RUNFILES_DIR, so they find the same plugins.
  std::string runfiles;
  std::string scratch_dir;  // the programs' raw outputs
  std::string repo_dir;     // for the commit; empty: "unknown"
  std::string mode = "full";
  std::vector<std::string> programs;  // empty: BenchmarkPrograms()
  std::string benchmark_filter;       // --benchmark_filter for every program
  bool end_to_end = true;
  int fashion_mnist_images = 0;  // training images of the epoch; 0: all
  int rounds = 3;
  std::vector<int> threads = {1, 2};
  double min_time = 0.5;       // --benchmark_min_time
  double lstm_min_time = 2.0;  // scan_bench --lstm_min_time
  int bound_rounds = 7;        // scan_bench --bound_rounds
  // Peer workloads not run (--quick leaves out the large LSTM step, as its
  // benchmark filter does for Theta).
  std::vector<std::string> skipped_workloads;
  // Peers: the venv's Python (empty: Theta alone, with `peers_note` saying
  // why) and benchmarks/peers.
  std::string python;
  std::string peers_dir;
  std::string peers_note;
  double peer_min_time = 0.5;
  bool verbose = true;  // progress on stdout
};

SuiteReport RunSuite(const SuiteConfig& config);

}  // namespace theta::suite

#endif  // THETA_BENCHMARKS_SUITE_SUITE_H_
