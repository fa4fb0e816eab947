#include "benchmarks/suite/gbench_json.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace theta::suite {
namespace {

// Seconds per `time_unit`.
absl::StatusOr<double> UnitSeconds(const std::string& unit) {
  if (unit == "ns") return 1e-9;
  if (unit == "us") return 1e-6;
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1.0;
  return absl::InvalidArgumentError(absl::StrCat("unknown time_unit ", unit));
}

// Keys of a run entry that are not user counters.
const std::set<std::string>& FixedKeys() {
  static const std::set<std::string> keys = {"name",
                                             "family_index",
                                             "per_family_instance_index",
                                             "run_name",
                                             "run_type",
                                             "repetitions",
                                             "repetition_index",
                                             "threads",
                                             "iterations",
                                             "real_time",
                                             "cpu_time",
                                             "time_unit",
                                             "label",
                                             "aggregate_name",
                                             "aggregate_unit",
                                             "error_occurred",
                                             "error_message"};
  return keys;
}

}  // namespace

absl::StatusOr<std::vector<BenchmarkRun>> ParseGoogleBenchmarkJson(
    std::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("benchmarks") ||
      !doc["benchmarks"].is_array()) {
    return absl::InvalidArgumentError(
        "not Google Benchmark JSON (no \"benchmarks\" array)");
  }
  std::vector<BenchmarkRun> runs;
  for (const nlohmann::json& entry : doc["benchmarks"]) {
    if (!entry.is_object() || !entry.contains("name")) {
      return absl::InvalidArgumentError("a benchmark entry without a name");
    }
    if (entry.value("run_type", "iteration") != "iteration") continue;
    BenchmarkRun run;
    run.name = entry["name"].get<std::string>();
    run.label = entry.value("label", "");
    if (entry.value("error_occurred", false)) {
      run.error = entry.value("error_message", "error");
      runs.push_back(std::move(run));
      continue;
    }
    absl::StatusOr<double> unit = UnitSeconds(entry.value("time_unit", "ns"));
    if (!unit.ok()) return unit.status();
    if (!entry.contains("real_time") || !entry["real_time"].is_number()) {
      return absl::InvalidArgumentError(
          absl::StrCat(run.name, ": no real_time"));
    }
    run.real_seconds = entry["real_time"].get<double>() * *unit;
    run.cpu_seconds = entry.value("cpu_time", 0.0) * *unit;
    for (const auto& [key, value] : entry.items()) {
      if (value.is_number() && !FixedKeys().contains(key)) {
        run.counters[key] = value.get<double>();
      }
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace theta::suite
