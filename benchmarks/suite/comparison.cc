// Compare() and its plain-text table: Theta against the best peer.
#include "absl/strings/str_format.h"
#include "benchmarks/suite/format.h"
#include "benchmarks/suite/report.h"
#include "benchmarks/suite/workloads.h"

namespace theta::suite {
namespace {

// The workload's values from Theta's series (scaled to seconds), or none.
std::optional<Summary> ThetaSummary(const SuiteReport& report,
                                    const Workload& w, int threads) {
  const auto it = report.series.find({w.program, "cpu", threads, w.benchmark});
  if (it == report.series.end()) return std::nullopt;
  std::vector<double> values;
  if (w.rate) {
    for (double v : it->second.values) {
      if (v > 0) values.push_back(1 / v);
    }
  } else if (w.counter.empty()) {
    values = it->second.values;
  } else {
    const auto counter = it->second.counters.find(w.counter);
    if (counter == it->second.counters.end()) return std::nullopt;
    for (double v : counter->second) values.push_back(v * w.counter_seconds);
  }
  if (values.empty()) return std::nullopt;
  return Summarize(values);
}

}  // namespace

std::vector<ComparisonRow> Compare(const SuiteReport& report) {
  std::vector<ComparisonRow> rows;
  for (int threads : report.environment.threads) {
    for (const Workload& w : PeerWorkloads()) {
      ComparisonRow row{.workload = w.id,
                        .description = w.description,
                        .threads = threads,
                        .theta = ThetaSummary(report, w, threads)};
      for (const PeerStatus& peer : report.peers) {
        const auto it =
            report.series.find({peer.name, "python", threads, w.id});
        if (it == report.series.end() || it->second.values.empty()) continue;
        const Summary s = Summarize(it->second.values);
        row.peers[peer.name] = s;
        if (row.best_peer.empty() ||
            s.median < row.peers[row.best_peer].median) {
          row.best_peer = peer.name;
        }
      }
      if (row.theta && !row.best_peer.empty()) {
        row.ratio = row.theta->median / row.peers[row.best_peer].median;
      }
      if (row.theta || !row.peers.empty()) rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string ComparisonText(const SuiteReport& report) {
  std::string out =
      absl::StrFormat("%-26s %3s  %-12s %-12s %-18s %s\n", "workload", "thr",
                      "Theta", "best peer", "(peer)", "Theta/best peer");
  for (const ComparisonRow& row : Compare(report)) {
    const std::string theta =
        row.theta ? FormatSeconds(row.theta->median) : "-";
    const std::string peer =
        row.best_peer.empty()
            ? "-"
            : FormatSeconds(row.peers.at(row.best_peer).median);
    out +=
        absl::StrFormat("%-26s %3d  %-12s %-12s %-18s %s\n", row.workload,
                        row.threads, theta, peer, row.best_peer,
                        row.ratio ? FormatRatio(*row.ratio) : std::string("-"));
  }
  return out;
}

}  // namespace theta::suite
