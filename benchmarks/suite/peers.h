// The peers (PyTorch, PyTensor) as the suite runs them: the scripts in
// benchmarks/peers/ under the Python of the venv that
// benchmarks/peers/setup.sh makes. Python is never needed otherwise.
//
//   std::vector<PeerStatus> peers = ProbePeers(python, peers_dir, scratch);
//   absl::StatusOr<PeerResults> r = RunPeer(python, peers_dir, "torch", ...);
#ifndef THETA_BENCHMARKS_SUITE_PEERS_H_
#define THETA_BENCHMARKS_SUITE_PEERS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/suite/report.h"

namespace theta::suite {

// The interpreter of the venv at `venv`, or an empty string (with `why`
// set) when there is none.
std::string VenvPython(const std::string& venv, std::string* why);

// Each peer the scripts know, with its version, or why it cannot run.
std::vector<PeerStatus> ProbePeers(const std::string& python,
                                   const std::string& peers_dir,
                                   const std::string& scratch_dir);

struct PeerResults {
  std::map<std::string, double> seconds;  // per call, by workload id
  std::vector<std::string> errors;        // workloads that failed, and why
};

// One round of `framework` over `workloads` at `threads` threads. The
// Fashion-MNIST epoch trains on `fashion_mnist_images` images (0: all).
absl::StatusOr<PeerResults> RunPeer(const std::string& python,
                                    const std::string& peers_dir,
                                    const std::string& framework, int threads,
                                    const std::vector<std::string>& workloads,
                                    double min_time, int fashion_mnist_images,
                                    const std::string& scratch_dir);

}  // namespace theta::suite

#endif  // THETA_BENCHMARKS_SUITE_PEERS_H_
