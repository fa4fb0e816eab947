// Runs the suite binary (//benchmarks:suite) on one tiny benchmark, once
// without a venv and once with a stand-in peer, and checks the structure of
// the report it writes. Timings are never checked.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "benchmarks/suite/process.h"
#include "nlohmann/json.hpp"

namespace theta::suite {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string TmpDir() { return Env("TEST_TMPDIR"); }

// A stand-in for the venv's Python: answers run_peer.py's --probe with one
// peer, "fake", and reports 1 ms for every workload it is given.
constexpr char kFakePython[] = R"(#!/bin/sh
shift  # run_peer.py
out=""; probe=0; workloads=""
while [ $# -gt 0 ]; do
  case "$1" in
    --probe) probe=1 ;;
    --out) out="$2"; shift ;;
    --workloads) workloads="$2"; shift ;;
  esac
  shift
done
if [ "$probe" = 1 ]; then
  echo '{"fake": {"version": "0.1", "detail": "stand-in"}}' > "$out"
  exit 0
fi
sep=""
printf '{"seconds": {' > "$out"
for w in $(echo "$workloads" | tr ',' ' '); do
  printf '%s"%s": 0.001' "$sep" "$w" >> "$out"
  sep=", "
done
printf '}, "errors": {}}\n' >> "$out"
)";

// Runs the suite on `programs`' benchmarks that match `filter` with two
// rounds at one thread; returns the parsed report.json.
nlohmann::json RunSuite(const std::string& name, const std::string& filter,
                        const std::string& venv,
                        const std::string& programs = "core_bench") {
  const std::string out = TmpDir() + "/" + name;
  const std::string suite =
      Env("TEST_SRCDIR") + "/" + Env("TEST_WORKSPACE") + "/benchmarks/suite";
  const ProcessResult r = RunProcess(
      {suite, "--programs=" + programs, "--benchmark_filter=" + filter,
       "--rounds=2", "--threads=1", "--min_time=0.01", "--noend_to_end",
       "--venv=" + venv, "--out_dir=" + out},
      {}, out + ".stdout", out + ".stderr");
  EXPECT_EQ(r.exit_code, 0) << r.error << "\n" << ReadFile(out + ".stderr");
  const nlohmann::json doc =
      nlohmann::json::parse(ReadFile(out + "/report.json"), nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "no report.json in " << out;
  EXPECT_NE(ReadFile(out + "/report.md").find("## Environment"),
            std::string::npos);
  EXPECT_EQ(ReadFile(out + "/chart.svg").rfind("<svg", 0), 0u);
  return doc;
}

const nlohmann::json* FindSeries(const nlohmann::json& doc,
                                 const std::string& program,
                                 const std::string& name) {
  for (const nlohmann::json& s : doc["series"]) {
    if (s["program"] == program && s["name"] == name) return &s;
  }
  return nullptr;
}

TEST(Suite, WithoutVenvRunsThetaAloneAndSaysHowToGetThePeers) {
  // The filter matches nothing in autodiff_bench: not a failure.
  const nlohmann::json doc =
      RunSuite("no_venv", "BM_CallOneOpFunctionOn16Floats",
               TmpDir() + "/no_venv", "core_bench,autodiff_bench");
  if (doc.is_discarded()) return;
  EXPECT_EQ(doc["schema"], "theta-benchmark-report/1");
  const nlohmann::json& env = doc["environment"];
  for (const char* key :
       {"cpu_model", "openblas_core", "theta_commit", "date_utc",
        "openblas_coretype_env", "onednn", "cpu_gemm_env"}) {
    EXPECT_TRUE(env[key].is_string() && !env[key].get<std::string>().empty())
        << key;
  }
  // The core name comes from core_bench's context line.
  EXPECT_EQ(env["openblas_core"].get<std::string>().rfind("unknown", 0),
            std::string::npos);
  // So do oneDNN's version and instruction set ("2.6.3 avx2").
  EXPECT_EQ(env["onednn"].get<std::string>().rfind("unknown", 0),
            std::string::npos);
  EXPECT_EQ(env["threads"], nlohmann::json::array({1}));
  EXPECT_EQ(env["rounds"], 2);
  // Every plugin is listed; a rejected one says why.
  bool cpu = false;
  for (const nlohmann::json& b : doc["backends"]) {
    if (b["name"] == "cpu") cpu = b["available"].get<bool>();
    if (!b["available"].get<bool>()) {
      EXPECT_FALSE(b["reason"].get<std::string>().empty()) << b["name"];
    }
  }
  EXPECT_TRUE(cpu);
  EXPECT_NE(doc["peers_note"].get<std::string>().find("setup.sh"),
            std::string::npos);
  EXPECT_TRUE(doc["peers"].empty());
  const nlohmann::json* s =
      FindSeries(doc, "core_bench", "BM_CallOneOpFunctionOn16Floats");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ((*s)["backend"], "cpu");
  EXPECT_EQ((*s)["threads"], 1);
  EXPECT_EQ((*s)["values"].size(), 2u);  // one per round
  const nlohmann::json& summary = (*s)["summary"];
  EXPECT_EQ(summary["repetitions"], 2);
  EXPECT_LE(summary["min"].get<double>(), summary["median"].get<double>());
  EXPECT_LE(summary["median"].get<double>(), summary["max"].get<double>());
  EXPECT_GT(summary["min"].get<double>(), 0);
  EXPECT_TRUE((*s)["counters"].contains("launches"));
  EXPECT_TRUE(doc["failures"].empty()) << doc["failures"].dump();
}

TEST(Suite, MatchesThetaAndPeerResultsByWorkload) {
  const std::string venv = TmpDir() + "/fake_venv";
  std::filesystem::create_directories(venv + "/bin");
  {
    std::ofstream python(venv + "/bin/python");
    python << kFakePython;
  }
  chmod((venv + "/bin/python").c_str(), 0755);
  const nlohmann::json doc =
      RunSuite("fake_peer", "BM_SoftmaxForward/20/16$", venv);
  if (doc.is_discarded()) return;
  ASSERT_EQ(doc["peers"].size(), 1u);
  EXPECT_EQ(doc["peers"][0]["name"], "fake");
  const nlohmann::json* peer = FindSeries(doc, "fake", "softmax_20x16");
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ((*peer)["values"], nlohmann::json::array({0.001, 0.001}));
  bool found = false;
  for (const nlohmann::json& row : doc["comparison"]) {
    if (row["workload"] != "softmax_20x16") continue;
    found = true;
    EXPECT_EQ(row["best_peer"], "fake");
    ASSERT_TRUE(row["theta"].is_object());
    EXPECT_DOUBLE_EQ(row["ratio_theta_to_best_peer"].get<double>(),
                     row["theta"]["median"].get<double>() / 0.001);
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(doc["failures"].empty()) << doc["failures"].dump();
}

}  // namespace
}  // namespace theta::suite
