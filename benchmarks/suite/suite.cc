#include "benchmarks/suite/suite.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/registry.h"
#include "benchmarks/suite/environment.h"
#include "benchmarks/suite/gbench_json.h"
#include "benchmarks/suite/peers.h"
#include "benchmarks/suite/process.h"
#include "benchmarks/suite/workloads.h"

namespace theta::suite {
namespace {

// What Google Benchmark prints when --benchmark_filter selects nothing.
constexpr char kNothingMatched[] = "Failed to match any benchmarks";

// The rate in the last "(N training images/s)" of train_fashion_mnist's
// progress lines, or -1 when there is none. (Parsed by hand: std::regex
// trips GCC 12's -Wmaybe-uninitialized under the asan config.)
double LastTrainingRate(std::string_view output) {
  constexpr std::string_view kSuffix = " training images/s)";
  const size_t end = output.rfind(kSuffix);
  if (end == std::string_view::npos) return -1;
  const size_t open = output.rfind('(', end);
  if (open == std::string_view::npos) return -1;
  const std::string_view number = output.substr(open + 1, end - open - 1);
  double rate = -1;
  if (!absl::SimpleAtod(absl::string_view(number.data(), number.size()),
                        &rate) ||
      !(rate >= 0)) {
    return -1;
  }
  return rate;
}

// The last part of a program's stderr, for failure messages.
std::string ErrorTail(const std::string& path) {
  std::string text = ReadFile(path);
  if (text.size() > 400) text = "..." + text.substr(text.size() - 400);
  return text;
}

class Runner {
 public:
  Runner(const SuiteConfig& config, SuiteReport& report)
      : c_(config), report_(report) {}

  void Round(int round) {
    for (int threads : c_.threads) {
      // Alternate who goes first, so neither always runs on a cooler machine.
      const bool peers_first = round % 2 == 1;
      if (peers_first) Peers(round, threads);
      for (const BackendStatus& b : report_.backends) {
        if (!b.available) continue;
        for (const std::string& program : Programs()) {
          Program(round, threads, b.name, program);
        }
        if (c_.end_to_end) EndToEnd(round, threads, b.name);
      }
      if (!peers_first) Peers(round, threads);
    }
  }

 private:
  const std::vector<std::string>& Programs() const {
    return c_.programs.empty() ? BenchmarkPrograms() : c_.programs;
  }

  std::string Base(int round, int threads, const std::string& backend,
                   const std::string& program) const {
    return absl::StrCat(c_.scratch_dir, "/", program, "_", backend, "_",
                        threads, "t_r", round);
  }

  std::vector<std::pair<std::string, std::string>> Env(
      const std::string& backend, int threads) const {
    return {{"THETA_BACKEND", backend},
            {"THETA_NUM_THREADS", std::to_string(threads)},
            {"RUNFILES_DIR", c_.runfiles}};
  }

  void Progress(const std::string& line) const {
    if (!c_.verbose) return;
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

  void Fail(const std::string& message) {
    report_.failures.push_back(message);
    Progress("  FAILED: " + message);
  }

  void Program(int round, int threads, const std::string& backend,
               const std::string& program) {
    const std::string base = Base(round, threads, backend, program);
    std::vector<std::string> argv = {
        absl::StrCat(c_.runfiles, "/theta/benchmarks/", program),
        absl::StrCat("--benchmark_out=", base, ".json"),
        "--benchmark_out_format=json",
        absl::StrCat("--benchmark_min_time=", c_.min_time)};
    if (!c_.benchmark_filter.empty()) {
      argv.push_back("--benchmark_filter=" + c_.benchmark_filter);
    }
    if (program == "scan_bench") {
      argv.push_back(absl::StrCat("--lstm_min_time=", c_.lstm_min_time));
      argv.push_back(absl::StrCat("--bound_rounds=", c_.bound_rounds));
    }
    const ProcessResult r =
        RunProcess(argv, Env(backend, threads), base + ".out", base + ".err");
    const std::string what =
        absl::StrCat(program, " on ", backend, ", ", threads, " threads");
    Progress(
        absl::StrFormat("  [round %d] %s: %.1f s", round + 1, what, r.seconds));
    if (r.exit_code != 0) {
      Fail(absl::StrCat(what, ": ", r.error, ": ", ErrorTail(base + ".err")));
      return;
    }
    const std::string output = ReadFile(base + ".out");
    const std::string core = OpenBlasCoreFromContext(output);
    if (backend == "cpu" && !core.empty()) {
      report_.environment.openblas_core = core;
    }
    const std::string onednn = OneDnnFromContext(output);
    if (backend == "cpu" && !onednn.empty()) {
      report_.environment.onednn = onednn;
    }
    // --benchmark_filter may select nothing in one program (the filter is
    // meant for the others): Google Benchmark then says so and writes no
    // JSON, which is not a failure.
    if (absl::StrContains(ReadFile(base + ".err"), kNothingMatched) ||
        absl::StrContains(output, kNothingMatched)) {
      Progress(absl::StrCat("  ", what, ": nothing matches the filter"));
      return;
    }
    absl::StatusOr<std::vector<BenchmarkRun>> runs =
        ParseGoogleBenchmarkJson(ReadFile(base + ".json"));
    if (!runs.ok()) {
      Fail(absl::StrCat(what, ": ", runs.status().message()));
      return;
    }
    for (const BenchmarkRun& run : *runs) {
      if (!run.error.empty()) {
        Fail(absl::StrCat(what, ": ", run.name, ": ", run.error));
        continue;
      }
      Series& s =
          report_.series[{program, backend, threads, BaseName(run.name)}];
      s.values.push_back(run.real_seconds);
      s.label = run.label;
      for (const auto& [name, value] : run.counters) {
        s.counters[name].push_back(value);
      }
    }
  }

  // One epoch of train_fashion_mnist; its last progress line gives the
  // training images per second.
  void EndToEnd(int round, int threads, const std::string& backend) {
    const std::string base = Base(round, threads, backend, kEndToEndProgram);
    std::vector<std::string> argv = {
        absl::StrCat(c_.runfiles, "/theta/models/", kEndToEndProgram),
        "--backend=" + backend, "--epochs=1", "--evaluations_per_epoch=1",
        "--out_dir=" + base};
    if (c_.fashion_mnist_images > 0) {
      argv.push_back(
          absl::StrCat("--max_train_images=", c_.fashion_mnist_images));
    }
    const ProcessResult r =
        RunProcess(argv, Env(backend, threads), base + ".out", base + ".err");
    const std::string what = absl::StrCat(kEndToEndProgram, " on ", backend,
                                          ", ", threads, " threads");
    Progress(
        absl::StrFormat("  [round %d] %s: %.1f s", round + 1, what, r.seconds));
    if (r.exit_code != 0) {
      Fail(absl::StrCat(what, ": ", r.error, ": ", ErrorTail(base + ".err")));
      return;
    }
    const double images_per_second = LastTrainingRate(ReadFile(base + ".out"));
    if (images_per_second < 0) {
      Fail(what + ": no \"training images/s\" in its output");
      return;
    }
    Series& s =
        report_.series[{kEndToEndProgram, backend, threads, kEndToEndName}];
    s.unit = "images/s";
    s.values.push_back(images_per_second);
  }

  void Peers(int round, int threads) {
    if (c_.python.empty()) return;
    std::vector<std::string> ids;
    for (const Workload& w : PeerWorkloads()) {
      if (w.id == kEndToEndName && !c_.end_to_end) continue;
      if (std::find(c_.skipped_workloads.begin(), c_.skipped_workloads.end(),
                    w.id) == c_.skipped_workloads.end()) {
        ids.push_back(w.id);
      }
    }
    for (const PeerStatus& peer : report_.peers) {
      if (peer.version.empty()) continue;
      const std::string dir = absl::StrCat(c_.scratch_dir, "/peer_r", round);
      std::filesystem::create_directories(dir);
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<PeerResults> r =
          RunPeer(c_.python, c_.peers_dir, peer.name, threads, ids,
                  c_.peer_min_time, c_.fashion_mnist_images, dir);
      Progress(absl::StrFormat("  [round %d] %s, %d threads: %.1f s", round + 1,
                               peer.name, threads,
                               std::chrono::duration<double>(
                                   std::chrono::steady_clock::now() - start)
                                   .count()));
      if (!r.ok()) {
        Fail(std::string(r.status().message()));
        continue;
      }
      for (const auto& [id, seconds] : r->seconds) {
        report_.series[{peer.name, "python", threads, id}].values.push_back(
            seconds);
      }
      for (const std::string& e : r->errors) Fail(e);
    }
  }

  const SuiteConfig& c_;
  SuiteReport& report_;
};

std::vector<BackendStatus> Backends() {
  std::vector<BackendStatus> out;
  for (const backends::PluginReport& p : backends::Discover().plugins) {
    BackendStatus b{.name = p.name,
                    .path = p.path,
                    .version = p.version,
                    .available = p.available,
                    .reason = p.reason};
    if (!p.devices.empty()) b.device = p.devices.front().name;
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

SuiteReport RunSuite(const SuiteConfig& config) {
  SuiteReport report;
  Environment& e = report.environment;
  e.cpu_model = CpuModel();
  e.logical_cpus = LogicalCpus();
  e.threads = config.threads;
  e.openblas_core = "unknown (no CPU benchmark ran)";
  e.openblas_coretype_env = OpenBlasCoretypeEnv();
  e.onednn = "unknown (no CPU benchmark ran)";
  const char* cpu_gemm = std::getenv("THETA_CPU_GEMM");
  e.cpu_gemm_env = cpu_gemm != nullptr ? cpu_gemm : "(unset)";
  e.theta_commit = ThetaCommit(config.repo_dir, config.scratch_dir);
  e.date_utc = DateUtc();
  e.mode = config.mode;
  e.rounds = config.rounds;
  report.backends = Backends();
  for (const BackendStatus& b : report.backends) {
    if (!b.available && config.verbose) {
      std::printf("backend %s rejected: %s\n", b.name.c_str(),
                  b.reason.c_str());
    }
  }
  report.peers_note = config.peers_note;
  if (!config.python.empty()) {
    report.peers =
        ProbePeers(config.python, config.peers_dir, config.scratch_dir);
    for (const PeerStatus& p : report.peers) {
      if (config.verbose) {
        std::printf("peer %s: %s (%s)\n", p.name.c_str(),
                    p.version.empty() ? "not usable" : p.version.c_str(),
                    p.detail.c_str());
      }
    }
  }
  Runner runner(config, report);
  for (int round = 0; round < config.rounds; ++round) {
    if (config.verbose)
      std::printf("round %d of %d\n", round + 1, config.rounds);
    runner.Round(round);
  }
  return report;
}

}  // namespace theta::suite
