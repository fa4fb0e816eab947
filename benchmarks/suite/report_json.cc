// ReportJson(): the whole report as JSON (report.json).
#include "benchmarks/suite/report.h"

namespace theta::suite {
namespace {

nlohmann::json SummaryJson(const Summary& s) {
  return {{"median", s.median},
          {"min", s.min},
          {"max", s.max},
          {"repetitions", s.count}};
}

nlohmann::json EnvironmentJson(const Environment& e) {
  return {{"cpu_model", e.cpu_model},
          {"logical_cpus", e.logical_cpus},
          {"threads", e.threads},
          {"openblas_core", e.openblas_core},
          {"openblas_coretype_env", e.openblas_coretype_env},
          {"onednn", e.onednn},
          {"cpu_gemm_env", e.cpu_gemm_env},
          {"theta_commit", e.theta_commit},
          {"date_utc", e.date_utc},
          {"mode", e.mode},
          {"rounds", e.rounds}};
}

}  // namespace

nlohmann::json ReportJson(const SuiteReport& report) {
  nlohmann::json doc;
  doc["schema"] = "theta-benchmark-report/1";
  doc["environment"] = EnvironmentJson(report.environment);
  doc["backends"] = nlohmann::json::array();
  for (const BackendStatus& b : report.backends) {
    doc["backends"].push_back({{"name", b.name},
                               {"path", b.path},
                               {"version", b.version},
                               {"available", b.available},
                               {"reason", b.reason},
                               {"device", b.device}});
  }
  doc["peers"] = nlohmann::json::array();
  for (const PeerStatus& p : report.peers) {
    doc["peers"].push_back(
        {{"name", p.name}, {"version", p.version}, {"detail", p.detail}});
  }
  doc["peers_note"] = report.peers_note;
  doc["series"] = nlohmann::json::array();
  for (const auto& [key, series] : report.series) {
    nlohmann::json entry = {{"program", key.program},
                            {"backend", key.backend},
                            {"threads", key.threads},
                            {"name", key.name},
                            {"unit", series.unit},
                            {"label", series.label},
                            {"values", series.values},
                            {"summary", SummaryJson(Summarize(series.values))}};
    entry["counters"] = nlohmann::json::object();
    for (const auto& [name, values] : series.counters) {
      entry["counters"][name] = SummaryJson(Summarize(values));
    }
    doc["series"].push_back(std::move(entry));
  }
  doc["comparison"] = nlohmann::json::array();
  for (const ComparisonRow& row : Compare(report)) {
    nlohmann::json entry = {{"workload", row.workload},
                            {"description", row.description},
                            {"threads", row.threads},
                            {"unit", "s"},
                            {"best_peer", row.best_peer}};
    entry["theta"] = row.theta ? SummaryJson(*row.theta) : nlohmann::json();
    entry["peers"] = nlohmann::json::object();
    for (const auto& [name, s] : row.peers) {
      entry["peers"][name] = SummaryJson(s);
    }
    entry["ratio_theta_to_best_peer"] =
        row.ratio ? nlohmann::json(*row.ratio) : nlohmann::json();
    doc["comparison"].push_back(std::move(entry));
  }
  doc["failures"] = report.failures;
  return doc;
}

}  // namespace theta::suite
