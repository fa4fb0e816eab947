#include "benchmarks/suite/workloads.h"

namespace theta::suite {

const std::vector<std::string>& BenchmarkPrograms() {
  static const std::vector<std::string> programs = {
      "backend_bench", "core_bench", "autodiff_bench", "scan_bench"};
  return programs;
}

const std::vector<Workload>& PeerWorkloads() {
  static const std::vector<Workload> workloads = {
      {"softmax_20x16", "softmax forward, 20x16", "core_bench",
       "BM_SoftmaxForward/20/16"},
      {"softmax_256x1000", "softmax forward, 256x1000", "core_bench",
       "BM_SoftmaxForward/256/1000"},
      {"softmax_4096x1024", "softmax forward, 4096x1024", "core_bench",
       "BM_SoftmaxForward/4096/1024"},
      {"softmax_regression_step", "softmax-regression step 784-10, batch 256",
       "autodiff_bench", "BM_SoftmaxRegressionTrainingStep"},
      {"mlp_step", "MLP step 784-512-10, batch 256", "autodiff_bench",
       "BM_MlpTrainingStep/1"},
      {"lstm_step_s", "LSTM training step S (T50 B32 I128 H256)", "scan_bench",
       "BM_LstmTrainingStep/50/32/128/256"},
      {"lstm_step_l", "LSTM training step L (T100 B64 I256 H512)", "scan_bench",
       "BM_LstmTrainingStep/100/64/256/512"},
      {"rnn_fwd_grad", "recurrence tanh(A x + b), 64x64, T=1000, fwd+grad",
       "scan_bench", "BM_RnnForwardBackward_Theta"},
      {"lstm_step_s_compile", "compile of the LSTM step S", "scan_bench",
       "BM_LstmTrainingStep/50/32/128/256", "compile_ms", 1e-3},
      {kEndToEndName, "Fashion-MNIST LSTM epoch, per training image",
       kEndToEndProgram, kEndToEndName, "", 1, /*rate=*/true},
  };
  return workloads;
}

std::string BaseName(std::string_view name) {
  std::string out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view part = name.substr(start, end - start);
    if (part.find(':') == std::string_view::npos && part != "real_time" &&
        part != "process_time") {
      if (!out.empty()) out += '/';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

}  // namespace theta::suite
