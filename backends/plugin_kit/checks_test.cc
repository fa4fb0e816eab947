#include "backends/plugin_kit/checks.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "backends/plugin_kit/status.h"

namespace theta::plugin_kit {
namespace {

std::string Message(theta_status* s) {
  if (s == nullptr) return "";
  std::string m = s->message;
  FreeStatus(s);
  return m;
}

double a_data[6], b_data[6], c_data[4];

// A valid 2x3 times 3x2 F64 product.
theta_gemm_args Gemm() {
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F64;
  g.m = 2, g.n = 2, g.k = 3;
  g.alpha = 1;
  g.a = a_data, g.lda = 3;
  g.b = b_data, g.ldb = 2;
  g.c = c_data, g.ldc = 2;
  g.batch = 1;
  return g;
}

TEST(ChecksTest, GemmAcceptsAValidProduct) {
  EXPECT_EQ(Message(CheckGemm(Gemm())), "");
  EXPECT_FALSE(IsEmptyGemm(Gemm()));
}

TEST(ChecksTest, GemmNamesTheBadArgument) {
  theta_gemm_args g = Gemm();
  g.dtype = THETA_DTYPE_I32;
  EXPECT_EQ(Message(CheckGemm(g)),
            "gemm: dtype I32 is not supported (F32 or F64 only)");
  g = Gemm();
  g.k = -1;
  EXPECT_EQ(Message(CheckGemm(g)), "gemm: k is -1 (must be >= 0)");
  g = Gemm();
  g.lda = 2;
  EXPECT_EQ(Message(CheckGemm(g)),
            "gemm: lda 2 is smaller than the 3 columns of A");
  g = Gemm();
  g.b = nullptr;
  EXPECT_EQ(Message(CheckGemm(g)), "gemm: b is NULL");
  g = Gemm();
  g.batch = 2;
  g.stride_c = 3;
  EXPECT_NE(Message(CheckGemm(g)).find("makes the batch's C matrices overlap"),
            std::string::npos);
}

TEST(ChecksTest, EmptyGemmNeedsNoOperands) {
  theta_gemm_args g = Gemm();
  g.m = 0;
  g.a = g.b = nullptr;
  g.c = nullptr;
  EXPECT_EQ(Message(CheckGemm(g)), "");
  EXPECT_TRUE(IsEmptyGemm(g));
}

TEST(ChecksTest, ProgramHeader) {
  theta_ew_program program{};
  program.struct_size = sizeof(program);
  program.compute_dtype = THETA_DTYPE_F32;
  theta_elementwise_args args{};
  args.struct_size = sizeof(args);
  EXPECT_EQ(Message(CheckProgramHeader(args)), "elementwise: program is NULL");
  args.program = &program;
  EXPECT_EQ(Message(CheckProgramHeader(args)), "");
  program.struct_size = 4;
  EXPECT_NE(Message(CheckProgramHeader(args)).find("program->struct_size is 4"),
            std::string::npos);
  program.struct_size = sizeof(program);
  program.compute_dtype = THETA_DTYPE_U8;
  EXPECT_EQ(Message(CheckProgramHeader(args)),
            "elementwise: compute dtype U8 is not supported (F32, F64, I32 or "
            "I64)");
  program.compute_dtype = THETA_DTYPE_I64;
  program.num_instrs = 2;
  EXPECT_EQ(Message(CheckProgramHeader(args)),
            "elementwise: program has 2 instructions but instrs is NULL");
}

TEST(ChecksTest, SoftmaxAndRng) {
  float x[6], y[6];
  const int64_t shape[] = {2, 3}, strides[] = {3, 1}, other[] = {3, 2};
  theta_softmax_args s{};
  s.struct_size = sizeof(s);
  s.input = theta_array{x, THETA_DTYPE_F32, 2, shape, strides};
  s.output = theta_array{y, THETA_DTYPE_F32, 2, shape, strides};
  EXPECT_EQ(Message(CheckSoftmax(s)), "");
  s.output.shape = other;
  EXPECT_EQ(Message(CheckSoftmax(s)),
            "softmax: output shape (3, 2) differs from input shape (2, 3)");
  s.output.shape = shape;
  s.input.ndim = s.output.ndim = 0;
  EXPECT_EQ(Message(CheckSoftmax(s)),
            "softmax: input has rank 0 (needs a last dimension)");

  theta_rng_args r{};
  r.struct_size = sizeof(r);
  r.output = theta_array{y, THETA_DTYPE_F32, 2, shape, strides};
  EXPECT_EQ(Message(CheckRng(r)), "");
  r.output.dtype = THETA_DTYPE_I32;
  EXPECT_EQ(Message(CheckRng(r)),
            "rng: output dtype I32 is not supported (F32 or F64 only)");
  r.output.dtype = THETA_DTYPE_F64;
  const int bad = 7;
  std::memcpy(&r.distribution, &bad, sizeof(bad));
  EXPECT_EQ(Message(CheckRng(r)), "rng: unknown distribution 7");
}

}  // namespace
}  // namespace theta::plugin_kit
