// What the benchmark suite runs: the Google Benchmark programs of
// //benchmarks, the end-to-end program, and the workloads measured both by
// a Theta benchmark and by the peers' scripts (benchmarks/peers/).
//
//   for (const Workload& w : PeerWorkloads()) ... w.id, w.benchmark ...
#ifndef THETA_BENCHMARKS_SUITE_WORKLOADS_H_
#define THETA_BENCHMARKS_SUITE_WORKLOADS_H_

#include <string>
#include <string_view>
#include <vector>

namespace theta::suite {

// backend_bench, core_bench, autodiff_bench, scan_bench.
const std::vector<std::string>& BenchmarkPrograms();

// One workload that Theta and the peers measure alike.
struct Workload {
  std::string id;           // the peers' scripts know it by this name
  std::string description;  // for the report
  std::string program;      // the Theta benchmark program that measures it
  std::string benchmark;    // its benchmark name (see BaseName)
  // Empty: the real time per iteration. Else a counter of the benchmark,
  // times `counter_seconds` (1e-3 for a counter in ms).
  std::string counter;
  double counter_seconds = 1;
  // Theta's values are rates per second (images/s) and are compared as
  // their reciprocals: seconds per item, as the peers report them.
  bool rate = false;
};
const std::vector<Workload>& PeerWorkloads();

// A Google Benchmark run name without the options it prints after the
// arguments: "BM_X/50/32/min_time:2.000/real_time" -> "BM_X/50/32".
std::string BaseName(std::string_view name);

// The end-to-end workload: one epoch of //models:train_fashion_mnist, in
// training images per second. It is also the id of the peers' epoch.
inline constexpr char kEndToEndProgram[] = "train_fashion_mnist";
inline constexpr char kEndToEndName[] = "fashion_mnist_lstm_epoch";

}  // namespace theta::suite

#endif  // THETA_BENCHMARKS_SUITE_WORKLOADS_H_
