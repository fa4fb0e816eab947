// suite: runs every benchmark program on every usable backend, the
// end-to-end program and, when their venv exists, the peers (PyTorch,
// PyTensor), round by round at 1 and 2 threads; writes report.json,
// report.md and chart.svg and prints Theta / best peer per workload.
//
//   bazel run //benchmarks:suite                 # full: about 20-40 min
//   bazel run //benchmarks:suite -- --quick      # under 3 minutes
//   benchmarks/peers/setup.sh                    # the peers' venv (.venv)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "benchmarks/suite/peers.h"
#include "benchmarks/suite/process.h"
#include "benchmarks/suite/report.h"
#include "benchmarks/suite/suite.h"

ABSL_FLAG(bool, quick, false,
          "fewer rounds and shorter runs (under 3 minutes); leaves out the "
          "100,000-node graphs, the LSTM step L and the hand-written LSTM "
          "loops, runs one thread count, and trains on 1,280 images instead "
          "of an epoch");
ABSL_FLAG(int, rounds, 0, "rounds (repetitions); default 3, 2 with --quick");
ABSL_FLAG(std::string, threads, "",
          "thread counts, comma-separated; default 1,2 (1 with --quick)");
ABSL_FLAG(std::string, out_dir, "benchmark_report",
          "where the report goes (relative to where `bazel run` started)");
ABSL_FLAG(std::string, venv, "",
          "the peers' venv; default: .venv in the repository root");
ABSL_FLAG(bool, peers, true, "run the peers when their venv exists");
ABSL_FLAG(std::string, programs, "",
          "benchmark programs to run (comma-separated); default: all");
ABSL_FLAG(std::string, benchmark_filter, "",
          "--benchmark_filter for every program");
ABSL_FLAG(bool, end_to_end, true, "run the Fashion-MNIST LSTM epoch");
ABSL_FLAG(double, min_time, 0, "--benchmark_min_time of the programs");

namespace {

// A path given relative to where `bazel run` was started.
std::string FromWorkingDirectory(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || cwd == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

std::string RunfilesRoot(const char* argv0) {
  for (const char* var : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  std::error_code error;
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", error);
  return (error ? std::string(argv0) : exe.string()) + ".runfiles";
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "runs Theta's benchmarks (and the peers') and writes a report");
  absl::ParseCommandLine(argc, argv);
  const bool quick = absl::GetFlag(FLAGS_quick);
  theta::suite::SuiteConfig c;
  c.mode = quick ? "quick" : "full";
  c.runfiles = RunfilesRoot(argv[0]);
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  // The checkout: where `bazel run` was started from, else the current
  // directory (git finds the repository above it, or says there is none).
  c.repo_dir = workspace != nullptr ? workspace
                                    : std::filesystem::current_path().string();
  c.rounds = absl::GetFlag(FLAGS_rounds) > 0 ? absl::GetFlag(FLAGS_rounds)
                                             : (quick ? 2 : 3);
  c.threads.clear();
  std::string threads = absl::GetFlag(FLAGS_threads);
  if (threads.empty()) threads = quick ? "1" : "1,2";
  for (absl::string_view t : absl::StrSplit(threads, ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(t, &n) || n < 1) {
      std::fprintf(stderr, "suite: bad --threads entry '%s'\n",
                   std::string(t).c_str());
      return 2;
    }
    c.threads.push_back(n);
  }
  c.min_time = absl::GetFlag(FLAGS_min_time) > 0 ? absl::GetFlag(FLAGS_min_time)
                                                 : (quick ? 0.02 : 0.5);
  c.lstm_min_time = quick ? 0.1 : 2.0;
  c.bound_rounds = quick ? 1 : 7;
  c.peer_min_time = quick ? 0.1 : 0.5;
  c.benchmark_filter = absl::GetFlag(FLAGS_benchmark_filter);
  if (quick && c.benchmark_filter.empty()) {
    // The long ones: 100,000-node graphs, the LSTM step L, and the LSTM
    // steps' hand-written loops.
    c.benchmark_filter =
        "-/100000|/100/64/256/512|LstmTrainingStep_HandWrittenLoop";
    c.skipped_workloads = {"lstm_step_l"};
  }
  c.end_to_end = absl::GetFlag(FLAGS_end_to_end);
  c.fashion_mnist_images = quick ? 1280 : 0;
  for (absl::string_view p :
       absl::StrSplit(absl::GetFlag(FLAGS_programs), ',', absl::SkipEmpty())) {
    c.programs.emplace_back(p);
  }
  const std::string out_dir =
      FromWorkingDirectory(absl::GetFlag(FLAGS_out_dir));
  c.scratch_dir = out_dir + "/raw";
  std::filesystem::remove_all(c.scratch_dir);
  std::filesystem::create_directories(c.scratch_dir);

  if (absl::GetFlag(FLAGS_peers)) {
    std::string venv = absl::GetFlag(FLAGS_venv);
    if (venv.empty()) {
      // .venv in the repository root (bazel run gives it; else ask git).
      venv = theta::suite::OutputOf(
                 {"git", "-C", c.repo_dir, "rev-parse", "--show-toplevel"},
                 c.scratch_dir, c.repo_dir) +
             "/.venv";
    } else {
      venv = FromWorkingDirectory(venv);
    }
    c.python = theta::suite::VenvPython(venv, &c.peers_note);
    c.peers_dir = c.runfiles + "/theta/benchmarks/peers";
    if (c.python.empty()) std::printf("%s\n", c.peers_note.c_str());
  } else {
    c.peers_note = "peers not run (--nopeers)";
  }

  const theta::suite::SuiteReport report = theta::suite::RunSuite(c);
  if (absl::Status s = theta::suite::WriteReport(report, out_dir); !s.ok()) {
    std::fprintf(stderr, "suite: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("\n%s\nwrote %s/report.json, report.md and chart.svg",
              theta::suite::ComparisonText(report).c_str(), out_dir.c_str());
  if (!report.failures.empty()) {
    std::printf(" (%zu failures: see report.md)", report.failures.size());
  }
  std::printf("\n");
  return 0;
}
