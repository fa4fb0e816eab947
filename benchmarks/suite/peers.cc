#include "benchmarks/suite/peers.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "benchmarks/suite/process.h"
#include "nlohmann/json.hpp"

namespace theta::suite {
namespace {

// The last lines of a file, for error messages.
std::string Tail(const std::string& path) {
  std::string text = ReadFile(path);
  if (text.size() > 600) text = "..." + text.substr(text.size() - 600);
  return text;
}

}  // namespace

std::string VenvPython(const std::string& venv, std::string* why) {
  const std::string python = venv + "/bin/python";
  if (std::filesystem::exists(python)) return python;
  *why = absl::StrCat("no peers' venv at ", venv,
                      "; make it with benchmarks/peers/setup.sh [VENV] "
                      "(PyTorch and PyTensor from PyPI) to compare Theta with "
                      "them; running Theta alone");
  return "";
}

std::vector<PeerStatus> ProbePeers(const std::string& python,
                                   const std::string& peers_dir,
                                   const std::string& scratch_dir) {
  const std::string out = scratch_dir + "/peers_probe.json";
  const std::string err = scratch_dir + "/peers_probe.err";
  const ProcessResult r =
      RunProcess({python, peers_dir + "/run_peer.py", "--probe", "--out", out},
                 {}, scratch_dir + "/peers_probe.out", err);
  std::vector<PeerStatus> peers;
  const nlohmann::json doc =
      nlohmann::json::parse(ReadFile(out), nullptr, false);
  if (r.exit_code != 0 || doc.is_discarded() || !doc.is_object()) {
    peers.push_back({"torch", "", "probe failed: " + r.error + Tail(err)});
    peers.push_back({"pytensor", "", "probe failed: " + r.error + Tail(err)});
    return peers;
  }
  for (const auto& [name, info] : doc.items()) {
    peers.push_back({name, info.value("version", ""),
                     info.contains("error") ? info.value("error", "")
                                            : info.value("detail", "")});
  }
  return peers;
}

absl::StatusOr<PeerResults> RunPeer(const std::string& python,
                                    const std::string& peers_dir,
                                    const std::string& framework, int threads,
                                    const std::vector<std::string>& workloads,
                                    double min_time, int fashion_mnist_images,
                                    const std::string& scratch_dir) {
  const std::string base =
      absl::StrCat(scratch_dir, "/", framework, "_", threads, "t");
  const std::string n = std::to_string(threads);
  const ProcessResult r = RunProcess(
      {python, peers_dir + "/run_peer.py", "--framework", framework,
       "--threads", n, "--workloads", absl::StrJoin(workloads, ","),
       "--min_time", absl::StrCat(min_time), "--fashion_mnist_images",
       absl::StrCat(fashion_mnist_images), "--out", base + ".json"},
      {{"OMP_NUM_THREADS", n},
       {"MKL_NUM_THREADS", n},
       {"OPENBLAS_NUM_THREADS", n},
       {"NUMBA_NUM_THREADS", n}},
      base + ".out", base + ".err");
  if (r.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(framework, " peer: ", r.error, ": ", Tail(base + ".err")));
  }
  const nlohmann::json doc =
      nlohmann::json::parse(ReadFile(base + ".json"), nullptr, false);
  if (doc.is_discarded() || !doc.contains("seconds")) {
    return absl::InternalError(
        absl::StrCat(framework, " peer wrote no results to ", base, ".json"));
  }
  PeerResults results;
  for (const auto& [id, seconds] : doc["seconds"].items()) {
    results.seconds[id] = seconds.get<double>();
  }
  if (!doc.contains("errors")) return results;
  for (const auto& [id, message] : doc["errors"].items()) {
    results.errors.push_back(
        absl::StrCat(framework, " ", id, " (", threads,
                     " threads): ", message.get<std::string>()));
  }
  return results;
}

}  // namespace theta::suite
