// Generated elementwise kernels: the source's shape (one statement per
// instruction, the reference semantics called for each), the cache key, and
// NVRTC compiles of programs using every opcode in each compute dtype, with
// mixed operand dtypes and broadcasting, at both index widths. NVRTC needs
// no device; the kernels' results are checked by device_test on a GPU.
#include "backends/cuda/ew_codegen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/cuda/nvrtc_compiler.h"
#include "backends/cuda/status.h"

namespace theta::cuda {
namespace {

// Every opcode that computes (arity >= 1).
std::vector<int> ComputeOpcodes() {
  std::vector<int> ops;
  for (int op = 0; op < 128; ++op) {
    if (ew::Arity(op) >= 1) ops.push_back(op);
  }
  return ops;
}

theta_ew_instr I(int op, int dst, int a = 0, int b = 0, int c = 0) {
  return theta_ew_instr{static_cast<uint16_t>(op), static_cast<uint16_t>(dst),
                        static_cast<uint16_t>(a), static_cast<uint16_t>(b),
                        static_cast<uint16_t>(c)};
}

// Loads four inputs of different dtypes and two params, runs every
// computing opcode on a chain of registers (the destination often one of
// the sources), and stores the result to an output of every dtype.
EwKernelSpec EveryOpcode(theta_dtype compute, int rank, bool index64) {
  EwKernelSpec s;
  s.compute = compute;
  s.num_registers = 8;
  s.inputs = {THETA_DTYPE_F32, THETA_DTYPE_I64, THETA_DTYPE_BOOL,
              THETA_DTYPE_F64};
  s.outputs = {THETA_DTYPE_F32, THETA_DTYPE_F64, THETA_DTYPE_I32,
               THETA_DTYPE_I64, THETA_DTYPE_U8,  THETA_DTYPE_BOOL};
  s.rank = rank;
  s.index64 = index64;
  s.num_params = 2;
  for (int i = 0; i < 4; ++i) s.instrs.push_back(I(THETA_EW_LOAD, i, i));
  s.instrs.push_back(I(THETA_EW_PARAM, 4, 0));
  s.instrs.push_back(I(THETA_EW_PARAM, 5, 1));
  s.instrs.push_back(I(THETA_EW_COPY, 6, 0));
  int k = 0;
  for (int op : ComputeOpcodes()) {
    const int other = 1 + k++ % 5;  // one of r1..r5
    s.instrs.push_back(I(op, 6, 6, other, 7 - other % 2));
    if (op == THETA_EW_COPY) s.instrs.push_back(I(THETA_EW_COPY, 7, 6));
  }
  for (int o = 0; o < 6; ++o) s.instrs.push_back(I(THETA_EW_STORE, o, 6));
  return s;
}

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(EwCodegenTest, OneStatementPerInstruction) {
  const EwKernelSpec s = EveryOpcode(THETA_DTYPE_F32, 2, false);
  const std::string src = GenerateEwSource(s, "theta_ew_test");
  int computing = 0;
  for (const theta_ew_instr& in : s.instrs) computing += ew::Arity(in.op) >= 1;
  EXPECT_EQ(Count(src, "theta::ew::Apply<float>(THETA_EW_"), computing);
  EXPECT_EQ(Count(src, "theta::ew::Convert<float>(in"), 4);
  EXPECT_EQ(Count(src, "theta::ew::Convert<float>(params.v["), 2);
  EXPECT_EQ(Count(src, "theta::ew::ConvertToBool(r6)"), 1);
  EXPECT_EQ(Count(src, "theta::ew::Convert<unsigned char>(r6)"), 1);
  EXPECT_EQ(Count(src, "theta::ew::Convert<long>(r6)"), 1);
  for (int op : ComputeOpcodes()) {
    EXPECT_NE(src.find(std::string("(THETA_EW_") + EwOpcodeName(op) + ","),
              std::string::npos)
        << EwOpcodeName(op);
  }
  EXPECT_NE(src.find("extern \"C\" __global__"), std::string::npos);
  EXPECT_NE(src.find("theta_ew_test(Idx count, Dims shape"), std::string::npos);
  EXPECT_NE(src.find("typedef int Idx;"), std::string::npos);
  EXPECT_NE(src.find("#include \"backends/api/elementwise_semantics.h\""),
            std::string::npos);
  EXPECT_NE(src.find("const long* in1, Dims s_in1"), std::string::npos);
  EXPECT_NE(src.find("unsigned char* out5, Dims s_out5"), std::string::npos);
  EXPECT_NE(src.find("Params params"), std::string::npos);
}

TEST(EwCodegenTest, WithoutParamsThereIsNoParamsArgument) {
  EwKernelSpec s;
  s.compute = THETA_DTYPE_I64;
  s.num_registers = 1;
  s.inputs = {THETA_DTYPE_I32};
  s.outputs = {THETA_DTYPE_I32};
  s.instrs = {I(THETA_EW_LOAD, 0, 0), I(THETA_EW_NEG, 0, 0),
              I(THETA_EW_STORE, 0, 0)};
  s.index64 = true;
  const std::string src = GenerateEwSource(s, "k");
  EXPECT_EQ(src.find("Params"), std::string::npos);
  EXPECT_NE(src.find("typedef long Idx;"), std::string::npos);
  EXPECT_NE(src.find("theta::ew::Apply<long>(THETA_EW_NEG, r0, long(0), "
                     "long(0));"),
            std::string::npos);
}

TEST(EwCodegenTest, KeysAndNamesFollowEveryField) {
  const EwKernelSpec base = EveryOpcode(THETA_DTYPE_F32, 2, false);
  EXPECT_EQ(base.Key(), EveryOpcode(THETA_DTYPE_F32, 2, false).Key());
  EXPECT_EQ(EwKernelName(base), EwKernelName(base));
  EXPECT_EQ(EwKernelName(base).rfind("theta_ew_", 0), 0u);
  EXPECT_EQ(EwKernelName(base).size(), 9u + 16u);
  std::vector<EwKernelSpec> variants(8, base);
  variants[0].compute = THETA_DTYPE_F64;
  variants[1].rank = 3;
  variants[2].index64 = true;
  variants[3].inputs[2] = THETA_DTYPE_U8;
  variants[4].outputs[0] = THETA_DTYPE_F64;
  variants[5].instrs[7].op = THETA_EW_SUB;
  variants[6].num_params = 3;
  variants[7].num_registers = 9;
  for (const EwKernelSpec& v : variants) {
    EXPECT_NE(v.Key(), base.Key());
    EXPECT_NE(EwKernelName(v), EwKernelName(base));
  }
}

TEST(TargetArchTest, PrefersCubinThenTheNewestPtxBelow) {
  const std::vector<int> archs = {75, 80, 86, 89, 90, 100, 120};
  EXPECT_EQ(TargetArch(9, 0, archs), "sm_90");
  EXPECT_EQ(TargetArch(8, 0, archs), "sm_80");
  EXPECT_EQ(TargetArch(8, 7, archs), "compute_86");
  EXPECT_EQ(TargetArch(13, 0, archs), "compute_120");
  EXPECT_EQ(TargetArch(7, 0, archs), "");
  EXPECT_EQ(TargetArch(9, 0, {}), "");
}

TEST(NvrtcTest, SupportsTheArchitecturesTheBuildTargets) {
  const std::vector<int> archs = NvrtcSupportedArchs();
  ASSERT_FALSE(archs.empty());
  EXPECT_NE(std::find(archs.begin(), archs.end(), 80), archs.end());
  EXPECT_NE(std::find(archs.begin(), archs.end(), 90), archs.end());
}

// Compiles and prints NVRTC's log on failure.
void ExpectCompiles(const EwKernelSpec& spec, const std::string& arch) {
  const std::string name = EwKernelName(spec);
  const std::string src = GenerateEwSource(spec, name);
  std::string image, log;
  theta_status* s = CompileCuda(src, name + ".cu", arch, &image, &log);
  if (s != nullptr) {
    ADD_FAILURE() << s->message << "\n--- source ---\n" << src;
    FreeStatus(s);
    return;
  }
  EXPECT_FALSE(image.empty());
  EXPECT_EQ(log.find("warning"), std::string::npos) << log;
  if (arch.rfind("compute_", 0) == 0) {
    EXPECT_NE(image.find(".entry " + name), std::string::npos)
        << "PTX lacks the kernel";
  }
}

class EveryOpcodeCompiles : public ::testing::TestWithParam<theta_dtype> {};

TEST_P(EveryOpcodeCompiles, ContiguousWith32BitIndices) {
  ExpectCompiles(EveryOpcode(GetParam(), 1, false), "compute_80");
}

TEST_P(EveryOpcodeCompiles, BroadcastRank3With64BitIndices) {
  ExpectCompiles(EveryOpcode(GetParam(), 3, true), "compute_80");
}

INSTANTIATE_TEST_SUITE_P(ComputeDtypes, EveryOpcodeCompiles,
                         ::testing::Values(THETA_DTYPE_F32, THETA_DTYPE_F64,
                                           THETA_DTYPE_I32, THETA_DTYPE_I64),
                         [](const ::testing::TestParamInfo<theta_dtype>& i) {
                           return DtypeName(i.param);
                         });

TEST(NvrtcTest, CompilesACubinForSm90) {
  EwKernelSpec s;
  s.compute = THETA_DTYPE_F32;
  s.num_registers = 3;
  s.inputs = {THETA_DTYPE_F32, THETA_DTYPE_F32};
  s.outputs = {THETA_DTYPE_F32};
  s.num_params = 1;
  s.rank = 2;
  s.instrs = {I(THETA_EW_LOAD, 0, 0),   I(THETA_EW_LOAD, 1, 1),
              I(THETA_EW_PARAM, 2, 0),  I(THETA_EW_MUL, 0, 0, 2),
              I(THETA_EW_ADD, 0, 0, 1), I(THETA_EW_STORE, 0, 0)};
  ExpectCompiles(s, "sm_90");
}

TEST(NvrtcTest, ACompileErrorNamesTheCallAndCarriesTheLog) {
  std::string image, log;
  theta_status* s = CompileCuda("__global__ void k() { undeclared(); }\n",
                                "broken.cu", "compute_80", &image, &log);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->code, THETA_STATUS_INTERNAL);
  EXPECT_NE(s->message.find("nvrtcCompileProgram (broken.cu, compute_80) "
                            "failed: NVRTC_ERROR_COMPILATION"),
            std::string::npos)
      << s->message;
  EXPECT_NE(s->message.find("undeclared"), std::string::npos) << s->message;
  EXPECT_NE(log.find("undeclared"), std::string::npos);
  FreeStatus(s);
}

}  // namespace
}  // namespace theta::cuda
