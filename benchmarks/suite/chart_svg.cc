// ComparisonChartSvg(): chart.svg. One row per workload; one bar per system
// and thread count, its time relative to Theta's at one thread on a log
// scale (bars left of the middle line: faster than Theta at one thread).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmarks/suite/report.h"

namespace theta::suite {
namespace {

constexpr double kLeft = 300, kWidth = 480, kBar = 12, kLabelWidth = 90;
constexpr double kMaxLog2 = 4;  // the axis spans 1/16x .. 16x

const char* Color(size_t system) {
  static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                 "#9467bd"};
  return colors[system % 5];
}

double X(double ratio) {
  const double l = std::clamp(std::log2(ratio), -kMaxLog2, kMaxLog2);
  return kLeft + kWidth / 2 + l / kMaxLog2 * (kWidth / 2);
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string ComparisonChartSvg(const SuiteReport& report) {
  std::vector<std::string> systems = {"Theta"};
  for (const PeerStatus& p : report.peers) systems.push_back(p.name);
  const std::vector<int>& threads = report.environment.threads;
  const std::vector<ComparisonRow> rows = Compare(report);
  // Rows by workload: the median of each system at each thread count.
  std::vector<std::string> order;
  std::map<std::string, std::map<std::pair<size_t, int>, double>> medians;
  std::map<std::string, std::string> descriptions;
  for (const ComparisonRow& row : rows) {
    if (!medians.contains(row.workload)) order.push_back(row.workload);
    descriptions[row.workload] = row.description;
    auto& m = medians[row.workload];
    if (row.theta) m[{0, row.threads}] = row.theta->median;
    for (size_t s = 1; s < systems.size(); ++s) {
      const auto it = row.peers.find(systems[s]);
      if (it != row.peers.end()) m[{s, row.threads}] = it->second.median;
    }
  }
  const double per_row = kBar * systems.size() * threads.size() + 14;
  const double top = 60;
  const double height = top + per_row * order.size() + 40;
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
      "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"10\" y=\"18\" font-size=\"14\">Time relative to Theta at 1 "
      "thread (log scale; left: faster)</text>\n",
      kLeft + kWidth + kLabelWidth + 20, height);
  // Legend: systems by color; two-thread bars are lighter.
  double lx = 10;
  for (size_t s = 0; s < systems.size(); ++s) {
    absl::StrAppend(
        &svg,
        absl::StrFormat("<rect x=\"%.0f\" y=\"28\" width=\"10\" height=\"10\" "
                        "fill=\"%s\"/><text x=\"%.0f\" y=\"37\">%s</text>\n",
                        lx, Color(s), lx + 14, Escape(systems[s])));
    lx += 24 + 7 * systems[s].size();
  }
  absl::StrAppend(&svg,
                  absl::StrFormat("<text x=\"%.0f\" y=\"37\">(lighter: more "
                                  "threads)</text>\n",
                                  lx));
  for (double r : {1.0 / 16, 1.0 / 4, 1.0, 4.0, 16.0}) {
    absl::StrAppend(
        &svg,
        absl::StrFormat("<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
                        "stroke=\"%s\"/><text x=\"%.1f\" y=\"%.0f\" "
                        "text-anchor=\"middle\">%gx</text>\n",
                        X(r), top - 8, X(r), height - 30,
                        r == 1 ? "#000" : "#ddd", X(r), height - 16, r));
  }
  double y = top;
  for (const std::string& w : order) {
    const auto& m = medians[w];
    absl::StrAppend(
        &svg, absl::StrFormat("<text x=\"10\" y=\"%.0f\">%s</text>\n", y + 10,
                              Escape(descriptions[w])));
    const auto base = m.find({0, threads.front()});
    for (size_t s = 0; s < systems.size(); ++s) {
      for (size_t t = 0; t < threads.size(); ++t) {
        const auto it = m.find({s, threads[t]});
        if (it != m.end() && base != m.end() && base->second > 0) {
          const double ratio = it->second / base->second;
          const double x0 = X(1), x1 = X(ratio);
          absl::StrAppend(
              &svg,
              absl::StrFormat(
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                  "fill=\"%s\" fill-opacity=\"%.2f\"/><text x=\"%.1f\" "
                  "y=\"%.1f\" font-size=\"9\">%s %dt: %.2fx</text>\n",
                  std::min(x0, x1), y, std::max(std::abs(x1 - x0), 1.0),
                  kBar - 2, Color(s), t == 0 ? 1.0 : 0.5, kLeft + kWidth + 4,
                  y + 9, Escape(systems[s]), threads[t], ratio));
        }
        y += kBar;
      }
    }
    y += 14;
  }
  if (order.empty()) {
    absl::StrAppend(&svg,
                    absl::StrFormat("<text x=\"10\" y=\"%.0f\">no workload was "
                                    "measured</text>\n",
                                    top + 10));
  }
  return svg + "</svg>\n";
}

}  // namespace theta::suite
