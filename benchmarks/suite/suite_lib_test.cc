// Tests of the suite's parts that need no programs: Google Benchmark JSON,
// benchmark names, medians, the comparison and the report's JSON.
#include <gtest/gtest.h>

#include "benchmarks/suite/format.h"
#include "benchmarks/suite/gbench_json.h"
#include "benchmarks/suite/report.h"
#include "benchmarks/suite/stats.h"
#include "benchmarks/suite/workloads.h"

namespace theta::suite {
namespace {

constexpr char kJson[] = R"({
  "context": {"num_cpus": 2},
  "benchmarks": [
    {"name": "BM_A/20/16", "run_name": "BM_A/20/16", "run_type": "iteration",
     "repetitions": 1, "iterations": 10, "real_time": 12.5, "cpu_time": 12.0,
     "time_unit": "us", "kernel_GB/s": 3.5, "label": "fused"},
    {"name": "BM_A/20/16_median", "run_type": "aggregate",
     "aggregate_name": "median", "real_time": 1.0, "time_unit": "us"},
    {"name": "BM_B", "run_type": "iteration", "error_occurred": true,
     "error_message": "no device"},
    {"name": "BM_C/min_time:2.000", "run_type": "iteration",
     "real_time": 3, "cpu_time": 2, "time_unit": "ms", "ms_per_step": 3}
  ]
})";

TEST(GoogleBenchmarkJson, ReadsIterationRunsInSecondsWithCounters) {
  absl::StatusOr<std::vector<BenchmarkRun>> runs =
      ParseGoogleBenchmarkJson(kJson);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 3u);  // the aggregate is skipped
  EXPECT_EQ((*runs)[0].name, "BM_A/20/16");
  EXPECT_DOUBLE_EQ((*runs)[0].real_seconds, 12.5e-6);
  EXPECT_DOUBLE_EQ((*runs)[0].cpu_seconds, 12.0e-6);
  EXPECT_EQ((*runs)[0].label, "fused");
  EXPECT_EQ((*runs)[0].counters.size(), 1u);
  EXPECT_DOUBLE_EQ((*runs)[0].counters.at("kernel_GB/s"), 3.5);
  EXPECT_EQ((*runs)[1].error, "no device");
  EXPECT_DOUBLE_EQ((*runs)[2].real_seconds, 3e-3);
  EXPECT_DOUBLE_EQ((*runs)[2].counters.at("ms_per_step"), 3);
}

TEST(GoogleBenchmarkJson, RejectsOtherText) {
  EXPECT_FALSE(ParseGoogleBenchmarkJson("not json").ok());
  EXPECT_FALSE(ParseGoogleBenchmarkJson(R"({"context": {}})").ok());
  EXPECT_FALSE(ParseGoogleBenchmarkJson(
                   R"({"benchmarks": [{"name": "x", "real_time": 1,
                       "time_unit": "fortnights"}]})")
                   .ok());
}

TEST(BaseName, DropsTheOptionsAfterTheArguments) {
  EXPECT_EQ(BaseName("BM_X/50/32/min_time:2.000/real_time"), "BM_X/50/32");
  EXPECT_EQ(BaseName("BM_X"), "BM_X");
  EXPECT_EQ(BaseName("BM_X/repeats:3"), "BM_X");
}

TEST(Summarize, MedianMinMax) {
  const Summary odd = Summarize({3, 1, 2});
  EXPECT_EQ(odd.count, 3);
  EXPECT_DOUBLE_EQ(odd.median, 2);
  EXPECT_DOUBLE_EQ(odd.min, 1);
  EXPECT_DOUBLE_EQ(odd.max, 3);
  EXPECT_DOUBLE_EQ(Summarize({4, 1, 2, 10}).median, 3);
  EXPECT_EQ(Summarize({}).count, 0);
}

TEST(Format, PicksTheUnit) {
  EXPECT_EQ(FormatSeconds(0.0123), "12.3 ms");
  EXPECT_EQ(FormatSeconds(2.5e-7), "250 ns");
  EXPECT_EQ(FormatSeconds(1.5), "1.50 s");
  EXPECT_EQ(FormatRatio(1.234), "1.23");
  EXPECT_EQ(FormatRatio(0.000904), "0.0009");
  EXPECT_EQ(FormatRange(Summarize({1e-3, 2e-3, 3e-3}), "s"),
            "2.00 ms (1.00 ms..3.00 ms)");
}

// A report with Theta and two peers measuring the first workload.
SuiteReport TwoPeerReport() {
  SuiteReport r;
  r.environment.threads = {1};
  r.peers = {{"torch", "2.x", ""}, {"pytensor", "3.x", ""}};
  const Workload& w = PeerWorkloads().front();
  r.series[{w.program, "cpu", 1, w.benchmark}].values = {2e-3, 4e-3, 3e-3};
  r.series[{"torch", "python", 1, w.id}].values = {2e-3};
  r.series[{"pytensor", "python", 1, w.id}].values = {1.5e-3, 1.5e-3};
  return r;
}

TEST(Compare, RatioAgainstTheFastestPeer) {
  const std::vector<ComparisonRow> rows = Compare(TwoPeerReport());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].workload, PeerWorkloads().front().id);
  ASSERT_TRUE(rows[0].theta.has_value());
  EXPECT_DOUBLE_EQ(rows[0].theta->median, 3e-3);
  EXPECT_EQ(rows[0].best_peer, "pytensor");
  ASSERT_TRUE(rows[0].ratio.has_value());
  EXPECT_DOUBLE_EQ(*rows[0].ratio, 2.0);
}

TEST(Compare, CounterWorkloadsAreScaledToSeconds) {
  SuiteReport r;
  r.environment.threads = {1};
  const Workload* compile = nullptr;
  for (const Workload& w : PeerWorkloads()) {
    if (!w.counter.empty()) compile = &w;
  }
  ASSERT_NE(compile, nullptr);
  r.series[{compile->program, "cpu", 1, compile->benchmark}]
      .counters[compile->counter] = {5, 7};
  const std::vector<ComparisonRow> rows = Compare(r);
  bool found = false;
  for (const ComparisonRow& row : rows) {
    if (row.workload != compile->id) continue;
    found = true;
    ASSERT_TRUE(row.theta.has_value());
    EXPECT_DOUBLE_EQ(row.theta->median, 6 * compile->counter_seconds);
    EXPECT_FALSE(row.ratio.has_value());  // no peer measured it
  }
  EXPECT_TRUE(found);
}

TEST(Compare, RateWorkloadsAreComparedAsSecondsPerItem) {
  SuiteReport r;
  r.environment.threads = {2};
  r.peers = {{"torch", "2.x", ""}};
  r.series[{kEndToEndProgram, "cpu", 2, kEndToEndName}].values = {1000, 4000,
                                                                  2000};
  r.series[{"torch", "python", 2, kEndToEndName}].values = {2.5e-4};
  bool found = false;
  for (const ComparisonRow& row : Compare(r)) {
    if (row.workload != kEndToEndName) continue;
    found = true;
    ASSERT_TRUE(row.theta.has_value());
    EXPECT_DOUBLE_EQ(row.theta->median, 5e-4);  // 2000 images/s
    ASSERT_TRUE(row.ratio.has_value());
    EXPECT_DOUBLE_EQ(*row.ratio, 2.0);  // Theta takes twice as long
  }
  EXPECT_TRUE(found);
}

TEST(ReportJson, HoldsTheComparisonAndTheSeries) {
  const nlohmann::json doc = ReportJson(TwoPeerReport());
  EXPECT_EQ(doc["schema"], "theta-benchmark-report/1");
  ASSERT_EQ(doc["comparison"].size(), 1u);
  EXPECT_DOUBLE_EQ(doc["comparison"][0]["ratio_theta_to_best_peer"], 2.0);
  EXPECT_EQ(doc["series"].size(), 3u);
  EXPECT_TRUE(ReportMarkdown(TwoPeerReport()).find("2.00 (pytensor)") !=
              std::string::npos);
  EXPECT_EQ(ComparisonChartSvg(TwoPeerReport()).rfind("<svg", 0), 0u);
}

}  // namespace
}  // namespace theta::suite
