// ReportMarkdown(): the tables of report.md.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "benchmarks/suite/format.h"
#include "benchmarks/suite/report.h"

namespace theta::suite {
namespace {

std::string EnvironmentSection(const SuiteReport& r) {
  const Environment& e = r.environment;
  std::string out = "## Environment\n\n";
  absl::StrAppend(&out, "- CPU: ", e.cpu_model, " (", e.logical_cpus,
                  " logical CPUs)\n");
  absl::StrAppend(&out, "- threads: ", absl::StrJoin(e.threads, ", "),
                  " (THETA_NUM_THREADS; OMP/MKL_NUM_THREADS and "
                  "torch.set_num_threads for the peers)\n");
  absl::StrAppend(&out, "- OpenBLAS core: ", e.openblas_core,
                  " (OPENBLAS_CORETYPE=", e.openblas_coretype_env, ")\n");
  absl::StrAppend(&out, "- oneDNN: ", e.onednn,
                  " (CPU GEMM provider: THETA_CPU_GEMM=", e.cpu_gemm_env,
                  "; unset is the automatic choice)\n");
  absl::StrAppend(&out, "- Theta commit: ", e.theta_commit, "\n");
  absl::StrAppend(&out, "- date: ", e.date_utc, "\n");
  absl::StrAppend(&out, "- mode: ", e.mode, ", ", e.rounds,
                  " rounds; figures are medians (min..max) over rounds\n");
  for (const PeerStatus& p : r.peers) {
    absl::StrAppend(&out, "- peer ", p.name, ": ",
                    p.version.empty() ? "not usable" : p.version, " (",
                    p.detail, ")\n");
  }
  if (!r.peers_note.empty())
    absl::StrAppend(&out, "- peers: ", r.peers_note, "\n");
  return out + "\n";
}

std::string BackendSection(const SuiteReport& r) {
  std::string out =
      "## Backends\n\n| backend | status | device or reason |\n|---|---|---|\n";
  for (const BackendStatus& b : r.backends) {
    absl::StrAppend(&out, "| ", b.name, " | ",
                    b.available ? "benchmarked" : "rejected", " | ",
                    b.available ? b.device : b.reason, " |\n");
  }
  return out + "\n";
}

std::string ComparisonSection(const SuiteReport& r) {
  std::string out =
      "## Theta against its peers\n\nTime per call, medians (min..max) over "
      "rounds; Theta on the CPU backend. Ratio: Theta / best peer (below 1: "
      "Theta is faster).\n\n";
  std::vector<std::string> peer_names;
  for (const PeerStatus& p : r.peers) peer_names.push_back(p.name);
  absl::StrAppend(&out, "| workload | threads | Theta | ",
                  absl::StrJoin(peer_names, " | "),
                  peer_names.empty() ? "" : " | ", "Theta / best peer |\n");
  absl::StrAppend(&out, "|---|---|---|");
  for (size_t i = 0; i < peer_names.size(); ++i) out += "---|";
  out += "---|\n";
  for (const ComparisonRow& row : Compare(r)) {
    absl::StrAppend(&out, "| ", row.description, " | ", row.threads, " | ",
                    row.theta ? FormatRange(*row.theta, "s") : "-", " | ");
    for (const std::string& name : peer_names) {
      const auto it = row.peers.find(name);
      absl::StrAppend(
          &out, it == row.peers.end() ? "-" : FormatRange(it->second, "s"),
          " | ");
    }
    absl::StrAppend(&out,
                    row.ratio ? absl::StrCat(FormatRatio(*row.ratio), " (",
                                             row.best_peer, ")")
                              : "-",
                    " |\n");
  }
  return out + "\n";
}

std::string SeriesSection(const SuiteReport& r) {
  std::string out =
      "## Every benchmark\n\nPer iteration (or as the unit says), medians "
      "(min..max) over rounds.\n\n| program | benchmark | backend | threads | "
      "time | counters (medians) |\n|---|---|---|---|---|---|\n";
  for (const auto& [key, series] : r.series) {
    if (key.backend == "python") continue;  // peers: in the comparison
    std::vector<std::string> counters;
    for (const auto& [name, values] : series.counters) {
      counters.push_back(
          absl::StrFormat("%s=%.4g", name, Summarize(values).median));
    }
    absl::StrAppend(&out, "| ", key.program, " | ", key.name,
                    series.label.empty() ? "" : " (" + series.label + ")",
                    " | ", key.backend, " | ", key.threads, " | ",
                    FormatRange(Summarize(series.values), series.unit), " | ",
                    absl::StrJoin(counters, ", "), " |\n");
  }
  return out + "\n";
}

}  // namespace

std::string ReportMarkdown(const SuiteReport& report) {
  std::string out = "# Theta benchmark report\n\n";
  out += EnvironmentSection(report);
  out += BackendSection(report);
  out += ComparisonSection(report);
  out += "![Theta and its peers](chart.svg)\n\n";
  out += SeriesSection(report);
  if (!report.failures.empty()) {
    out += "## Failures\n\n";
    for (const std::string& f : report.failures) out += "- " + f + "\n";
  }
  return out;
}

}  // namespace theta::suite
