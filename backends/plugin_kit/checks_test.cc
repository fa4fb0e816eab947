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

// The prepare request for Gemm()'s B.
theta_gemm_prepare_args PrepareB() {
  theta_gemm_prepare_args p{};
  p.struct_size = sizeof(p);
  p.dtype = THETA_DTYPE_F64;
  p.k = 3, p.n = 2;
  p.data = b_data, p.ld = 2;
  return p;
}

TEST(ChecksTest, GemmPrepareNamesTheBadArgument) {
  EXPECT_EQ(Message(CheckGemmPrepare(PrepareB())), "");
  theta_gemm_prepare_args p = PrepareB();
  p.dtype = THETA_DTYPE_I32;
  EXPECT_EQ(Message(CheckGemmPrepare(p)),
            "gemm_prepare: dtype I32 is not supported (F32 or F64 only)");
  p = PrepareB(), p.n = -1;
  EXPECT_EQ(Message(CheckGemmPrepare(p)),
            "gemm_prepare: n is -1 (must be >= 0)");
  p = PrepareB(), p.trans = 1;  // stored 2 x 3: rows of 3
  EXPECT_EQ(Message(CheckGemmPrepare(p)),
            "gemm_prepare: ld 2 is smaller than the 3 columns of B");
  p = PrepareB(), p.data = nullptr;
  EXPECT_EQ(Message(CheckGemmPrepare(p)), "gemm_prepare: data is NULL");
  p.k = 0;  // empty: no data needed
  EXPECT_EQ(Message(CheckGemmPrepare(p)), "");
}

TEST(ChecksTest, PreparedOperandMustComeFromThisCallsB) {
  const PreparedOperandSource source = SourceOf(PrepareB());
  EXPECT_EQ(Message(CheckPreparedMatches(Gemm(), source)), "");
  theta_gemm_args g = Gemm();
  g.b = b_data + 1;
  EXPECT_EQ(Message(CheckPreparedMatches(g, source)),
            "gemm: prepared_b was prepared from another B (b differs: "
            "prepared for a 3x2 F64 B, ld 2; this call has a 3x2 F64 B, ldb "
            "2)");
  g = Gemm(), g.trans_b = 1, g.ldb = 3;
  EXPECT_NE(Message(CheckPreparedMatches(g, source)).find("trans_b differs"),
            std::string::npos);
  g = Gemm(), g.dtype = THETA_DTYPE_F32;
  EXPECT_NE(Message(CheckPreparedMatches(g, source)).find("dtype differs"),
            std::string::npos);
  g = Gemm(), g.batch = 2, g.stride_b = 6;
  EXPECT_EQ(Message(CheckPreparedMatches(g, source)),
            "gemm: prepared_b needs one B for the batch (stride_b 0), not "
            "stride_b 6");
  g.stride_b = 0;
  EXPECT_EQ(Message(CheckPreparedMatches(g, source)), "");
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

TEST(ChecksTest, Reduce) {
  double x[6], y[3];
  const int64_t in_shape[] = {2, 3}, in_strides[] = {3, 1};
  const int64_t out_shape[] = {1, 3}, out_strides[] = {3, 1};
  theta_reduce_args r{};
  r.struct_size = sizeof(r);
  r.op = THETA_REDUCE_SUM;
  r.input = theta_array{x, THETA_DTYPE_F64, 2, in_shape, in_strides};
  r.axes_mask = 1;
  r.output = theta_array{y, THETA_DTYPE_F64, 2, out_shape, out_strides};
  EXPECT_EQ(Message(CheckReduce(r)), "");
  r.axes_mask = 2;
  EXPECT_EQ(Message(CheckReduce(r)),
            "reduce: output shape (1, 3), expected (2, 1) for input (2, 3) "
            "and axes_mask 0x2");
  r.axes_mask = 4;
  EXPECT_EQ(Message(CheckReduce(r)),
            "reduce: axes_mask 0x4 names axis 2 but the input has rank 2");
  r.axes_mask = 3;
  r.op = THETA_REDUCE_ARGMAX;
  EXPECT_EQ(Message(CheckReduce(r)),
            "reduce: ARGMAX needs exactly one axis, axes_mask 0x3 has 2");
  EXPECT_STREQ(ReduceOpName(THETA_REDUCE_MIN), "MIN");
  EXPECT_STREQ(ReduceOpName(17), "?");
}

TEST(ChecksTest, GatherArrays) {
  float src[12], out[6];
  int64_t idx[2];
  const int64_t src_shape[] = {4, 3}, src_strides[] = {3, 1};
  const int64_t idx_shape[] = {2}, idx_strides[] = {1};
  const int64_t out_shape[] = {2, 3}, out_strides[] = {3, 1};
  theta_gather_args g{};
  g.struct_size = sizeof(g);
  g.axis = 0;
  g.source = theta_array{src, THETA_DTYPE_F32, 2, src_shape, src_strides};
  g.indices = theta_array{idx, THETA_DTYPE_I64, 1, idx_shape, idx_strides};
  g.output = theta_array{out, THETA_DTYPE_F32, 2, out_shape, out_strides};
  EXPECT_EQ(Message(CheckGatherArrays("gather", g, g.source, "source", g.output,
                                      "output")),
            "");
  g.axis = 1;
  EXPECT_EQ(Message(CheckGatherArrays("gather", g, g.source, "source", g.output,
                                      "output")),
            "gather: output shape (2, 3), expected (4, 2) (source (4, 3), "
            "indices (2), axis 1)");
  g.axis = 2;
  EXPECT_EQ(Message(CheckGatherArrays("gather", g, g.source, "source", g.output,
                                      "output")),
            "gather: axis 2 out of range [0, 2) for source of rank 2");
  g.axis = 0;
  g.indices.dtype = THETA_DTYPE_F32;
  EXPECT_EQ(Message(CheckGatherArrays("gather", g, g.source, "source", g.output,
                                      "output")),
            "gather: indices dtype F32 is not supported (I32 or I64)");
}

TEST(ChecksTest, CopyAndFill) {
  float a[6], b[6];
  const int64_t shape[] = {2, 3}, strides[] = {3, 1}, other[] = {3, 2};
  const int64_t reversed[] = {-3, -1}, broadcast[] = {0, 1};
  theta_copy_args c{};
  c.struct_size = sizeof(c);
  c.source = theta_array{a + 5, THETA_DTYPE_F32, 2, shape, reversed};
  c.destination = theta_array{b, THETA_DTYPE_F32, 2, shape, strides};
  EXPECT_EQ(Message(CheckCopy(c)), "");
  c.destination.dtype = THETA_DTYPE_I32;
  EXPECT_EQ(Message(CheckCopy(c)),
            "copy: source dtype F32 differs from destination dtype I32");
  c.destination.dtype = THETA_DTYPE_F32;
  c.destination.shape = other;
  EXPECT_EQ(Message(CheckCopy(c)),
            "copy: source shape (2, 3) differs from destination shape (3, 2)");
  EXPECT_EQ(Message(CheckFill(c.source)).find("fill: array.strides[0] is -3"),
            0u);
  const theta_array wide{b, THETA_DTYPE_F32, 2, shape, broadcast};
  EXPECT_NE(Message(CheckFill(wide)).find("an output must not broadcast"),
            std::string::npos);
}

}  // namespace
}  // namespace theta::plugin_kit
