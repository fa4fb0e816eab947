// gemm against a plain triple loop in double, with B plain and prepared
// (gemm_prepare, ABI 1.2); the prepared path's declines and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "backends/cpu/test_util.h"
#include "backends/kernel_args.h"

namespace theta::cpu::testing {
namespace {

struct Case {
  int64_t m, n, k, batch;
  bool ta, tb;
  int64_t pad;  // extra elements per row of A, B and C
  double alpha, beta;
};

class GemmTest : public PluginTest {
 protected:
  template <typename T>
  void Check(const Case& c) {
    const int64_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
    const int64_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
    const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.n + c.pad;
    const int64_t sa = a_rows * lda + 3, sb = b_rows * ldb + 5,
                  sc = c.m * ldc + 7;
    std::vector<T> a = Random<T>(sa * c.batch + 1, -1, 1, 1);
    std::vector<T> b = Random<T>(sb * c.batch + 1, -1, 1, 2);
    std::vector<T> cm = Random<T>(sc * c.batch + 1, -1, 1, 3);
    if (c.beta == 0) {
      for (T& x : cm) x = std::numeric_limits<T>::quiet_NaN();
    }
    std::vector<T> want = cm;
    for (int64_t p = 0; p < c.batch; ++p) {
      for (int64_t i = 0; i < c.m; ++i) {
        for (int64_t j = 0; j < c.n; ++j) {
          double acc = 0;
          for (int64_t l = 0; l < c.k; ++l) {
            double x = c.ta ? a[p * sa + l * lda + i] : a[p * sa + i * lda + l];
            double y = c.tb ? b[p * sb + j * ldb + l] : b[p * sb + l * ldb + j];
            acc += x * y;
          }
          T& out = want[p * sc + i * ldc + j];
          out = static_cast<T>(c.alpha * acc +
                               (c.beta == 0 ? 0.0 : c.beta * double(out)));
        }
      }
    }
    theta_gemm_args g{};
    g.struct_size = sizeof(g);
    g.dtype = DtypeOf<T>();
    g.trans_a = c.ta;
    g.trans_b = c.tb;
    g.m = c.m;
    g.n = c.n;
    g.k = c.k;
    g.alpha = c.alpha;
    g.beta = c.beta;
    g.a = a.data();
    g.lda = lda;
    g.stride_a = sa;
    g.b = b.data();
    g.ldb = ldb;
    g.stride_b = sb;
    g.c = cm.data();
    g.ldc = ldc;
    g.stride_c = sc;
    g.batch = c.batch;
    ASSERT_TRUE(IsOk(api().gemm(stream_, &g)));
    const double tol = (sizeof(T) == 4 ? 1e-5 : 1e-12) * (c.k + 1);
    for (size_t i = 0; i < cm.size(); ++i) {
      if (std::isnan(want[i])) {
        // Padding kept its NaN: gemm writes only the matrices.
        ASSERT_TRUE(std::isnan(cm[i])) << "index " << i;
      } else {
        ASSERT_NEAR(cm[i], want[i], tol)
            << "index " << i << " m " << c.m << " n " << c.n << " k " << c.k;
      }
    }
  }
};

const Case kCases[] = {
    {1, 1, 1, 1, false, false, 0, 1, 0},
    {7, 5, 3, 1, false, false, 0, 1, 0},
    {7, 5, 3, 1, true, false, 2, 2, 0.5},
    {7, 5, 3, 1, false, true, 1, -1, 1},
    {7, 5, 3, 1, true, true, 3, 0.5, -2},
    {33, 17, 65, 3, true, false, 0, 1, 0},
    {200, 70, 64, 1, false, false, 1, 1, 0.25},  // rows split across tasks
    {40, 300, 50, 1, true, true, 0, 1, 0},       // columns split
    {300, 40, 50, 1, true, false, 2, 1, 1},      // transposed A, row split
    {40, 300, 50, 1, false, true, 0, 1, 0.5},    // transposed B, column split
    {9, 9, 9, 64, false, false, 0, 1, 0},        // many batch items
    {4, 3, 0, 2, false, false, 0, 1, 0},         // k == 0, beta 0: zeros
    {4, 3, 0, 2, false, false, 1, 1, 3},         // k == 0: C = beta C
};

TEST_P(GemmTest, MatchesReferenceF32) {
  for (const Case& c : kCases) Check<float>(c);
}

TEST_P(GemmTest, MatchesReferenceF64) {
  for (const Case& c : kCases) Check<double>(c);
}

TEST_P(GemmTest, ZeroSizesAreNoOps) {
  float sentinel = 42;
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.m = 0;
  g.n = 3;
  g.k = 2;
  g.batch = 1;
  g.lda = 2;
  g.ldb = 3;
  g.ldc = 3;
  g.c = &sentinel;
  EXPECT_TRUE(IsOk(api().gemm(stream_, &g)));
  g.m = 2;
  g.batch = 0;
  EXPECT_TRUE(IsOk(api().gemm(stream_, &g)));
  g.a = g.b = g.c = nullptr;  // nothing is touched, no pointers needed
  EXPECT_TRUE(IsOk(api().gemm(stream_, &g)));
  EXPECT_EQ(sentinel, 42);
}

TEST_P(GemmTest, ErrorsNameTheProblem) {
  std::vector<float> buf(64, 0);
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.m = g.n = g.k = 2;
  g.batch = 1;
  g.lda = g.ldb = g.ldc = 2;
  g.a = g.b = g.c = buf.data();
  // a and b alias each other (allowed), c does not overlap them in spirit;
  // the checks below fail before anything runs.
  theta_gemm_args e = g;
  e.dtype = THETA_DTYPE_I32;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "dtype I32", "F32 or F64"}));
  e = g;
  e.m = -1;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "m is -1"}));
  e = g;
  e.lda = 1;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "lda 1", "2 columns of A"}));
  e = g;
  e.trans_b = 1;
  e.k = 3;
  e.ldb = 2;
  e.lda = 3;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "ldb 2", "3 columns of B"}));
  e = g;
  e.ldc = 1;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "ldc 1"}));
  e = g;
  e.c = nullptr;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "c is NULL"}));
  e = g;
  e.b = nullptr;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "b is NULL"}));
  e = g;
  e.batch = 2;
  e.stride_c = 3;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "stride_c 3", "overlap"}));
  e = g;
  e.stride_a = -4;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "stride_a is -4"}));
  // Double precision runs on OpenBLAS alone, whose interface is 32-bit (a
  // float32 product that large goes to oneDNN: gemm_provider_test).
  e = g;
  e.dtype = THETA_DTYPE_F64;
  e.k = int64_t{1} << 32;
  e.lda = e.k;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_UNIMPLEMENTED,
                      {"gemm", "32-bit"}));
}

// ---- ABI 1.2: B prepared once (gemm_prepare), passed as prepared_b ----

using ::theta::backends::GemmPrepareArgs;

class PreparedGemmTest : public PluginTest {
 protected:
  // The product of case `c` with one B for every batch item (stride_b 0),
  // prepared first; the operand must be made (F32, B of 4096 elements or
  // more). Checked as GemmTest checks, relative to sum |a||b| per element.
  void Check(const Case& c) {
    SCOPED_TRACE(::testing::Message()
                 << "m " << c.m << " n " << c.n << " k " << c.k << " batch "
                 << c.batch << " ta " << c.ta << " tb " << c.tb << " pad "
                 << c.pad << " beta " << c.beta);
    const int64_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
    const int64_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
    const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.n + c.pad;
    const int64_t sa = a_rows * lda + 3, sc = c.m * ldc + 7;
    std::vector<float> a = Random<float>(sa * c.batch, -1, 1, 1);
    std::vector<float> b = Random<float>(b_rows * ldb, -1, 1, 2);
    std::vector<float> cm = Random<float>(sc * c.batch, -1, 1, 3);
    if (c.beta == 0) {
      for (float& x : cm) x = std::numeric_limits<float>::quiet_NaN();
    }
    const std::vector<float> before = cm;
    const theta_gemm_prepare_args p =
        GemmPrepareArgs(THETA_DTYPE_F32, c.tb, c.k, c.n, b.data(), ldb);
    theta_gemm_operand* prepared = nullptr;
    ASSERT_TRUE(IsOk(api().gemm_prepare(stream_, &p, &prepared)));
    ASSERT_NE(prepared, nullptr);
    theta_gemm_args g{};
    g.struct_size = sizeof(g);
    g.dtype = THETA_DTYPE_F32;
    g.trans_a = c.ta;
    g.trans_b = c.tb;
    g.m = c.m;
    g.n = c.n;
    g.k = c.k;
    g.alpha = c.alpha;
    g.beta = c.beta;
    g.a = a.data();
    g.lda = lda;
    g.stride_a = sa;
    g.b = b.data();
    g.ldb = ldb;
    g.stride_b = 0;
    g.c = cm.data();
    g.ldc = ldc;
    g.stride_c = sc;
    g.batch = c.batch;
    g.prepared_b = prepared;
    ASSERT_TRUE(IsOk(api().gemm(stream_, &g)));
    api().gemm_operand_free(stream_, prepared);
    const double eps = std::numeric_limits<float>::epsilon();
    std::vector<bool> in_c(cm.size(), false);
    for (int64_t q = 0; q < c.batch; ++q) {
      for (int64_t i = 0; i < c.m; ++i) {
        for (int64_t j = 0; j < c.n; ++j) {
          double acc = 0, mag = 0;
          for (int64_t l = 0; l < c.k; ++l) {
            const double x =
                c.ta ? a[q * sa + l * lda + i] : a[q * sa + i * lda + l];
            const double y = c.tb ? b[j * ldb + l] : b[l * ldb + j];
            acc += x * y;
            mag += std::abs(x * y);
          }
          const size_t at = static_cast<size_t>(q * sc + i * ldc + j);
          in_c[at] = true;
          const double old = c.beta == 0 ? 0.0 : double(before[at]);
          const double want = c.alpha * acc + c.beta * old;
          const double tol = (c.k + 2) * eps *
                             (std::abs(c.alpha) * mag + std::abs(c.beta * old));
          ASSERT_NEAR(cm[at], want, tol)
              << "item " << q << " C(" << i << ", " << j << ")";
        }
      }
    }
    for (size_t at = 0; at < cm.size(); ++at) {
      if (!in_c[at]) {
        ASSERT_TRUE(SameValue(cm[at], before[at])) << "padding " << at;
      }
    }
  }

  // A prepared 64 x 64 F32 B (trans_b 0, ldb 64) over `b`.
  theta_gemm_operand* Prepare64(const std::vector<float>& b) {
    const theta_gemm_prepare_args p =
        GemmPrepareArgs(THETA_DTYPE_F32, false, 64, 64, b.data(), 64);
    theta_gemm_operand* prepared = nullptr;
    EXPECT_TRUE(IsOk(api().gemm_prepare(stream_, &p, &prepared)));
    EXPECT_NE(prepared, nullptr);
    return prepared;
  }
};

// Each with B of at least 4096 elements (gemm_prepare packs those).
const Case kPreparedCases[] = {
    {1, 64, 64, 1, false, false, 0, 1, 1},      // the scan recurrence's step
    {7, 100, 65, 1, false, false, 0, 1, 0},     // odd m, n not a panel multiple
    {7, 100, 65, 1, true, false, 2, 2, 0.5},    // A transposed, padded
    {33, 129, 64, 1, false, true, 1, -1, 1},    // B transposed
    {33, 129, 64, 1, true, true, 3, 0.5, -2},   // both
    {32, 1024, 256, 1, false, false, 0, 1, 1},  // LSTM S: h U
    {32, 256, 1024, 1, false, true, 0, 1, 1},   // LSTM S: dG U^T
    {64, 128, 512, 1, false, true, 5, 1, 0},    // Fashion-MNIST: dG U^T
    {300, 70, 300, 1, false, false, 1, 1, 0.25},  // tall: plain unless packed
    {9, 80, 70, 4, false, false, 0, 1, 0},        // one B for four items
    {9, 80, 70, 3, true, true, 1, 0.5, 1},
};

TEST_P(PreparedGemmTest, MatchesReference) {
  for (const Case& c : kPreparedCases) Check(c);
}

TEST_P(PreparedGemmTest, DeclinesDoublesAndSmallOperands) {
  std::vector<double> d(64 * 64, 1.0);
  std::vector<float> f(64 * 64, 1.0f);
  struct Request {
    theta_dtype dtype;
    int64_t k, n;
  };
  for (const Request& r :
       {Request{THETA_DTYPE_F64, 64, 64}, Request{THETA_DTYPE_F32, 8, 8},
        Request{THETA_DTYPE_F32, 64, 63}, Request{THETA_DTYPE_F32, 1, 64},
        Request{THETA_DTYPE_F32, 0, 64}, Request{THETA_DTYPE_F32, 64, 0}}) {
    SCOPED_TRACE(::testing::Message()
                 << r.k << " x " << r.n << " dtype " << r.dtype);
    const void* data = r.dtype == THETA_DTYPE_F64
                           ? static_cast<const void*>(d.data())
                           : static_cast<const void*>(f.data());
    const theta_gemm_prepare_args p =
        GemmPrepareArgs(r.dtype, false, r.k, r.n, data, 64);
    // *out starts as a live operand: the decline must overwrite it.
    theta_gemm_operand* made = Prepare64(f);
    theta_gemm_operand* prepared = made;
    ASSERT_TRUE(IsOk(api().gemm_prepare(stream_, &p, &prepared)));
    EXPECT_EQ(prepared, nullptr);
    api().gemm_operand_free(stream_, made);
  }
}

TEST_P(PreparedGemmTest, RejectsAnOperandFromAnotherB) {
  std::vector<float> b = Random<float>(64 * 64, -1, 1, 5);
  std::vector<float> other = b;
  std::vector<float> a(64 * 64, 0.5f), c(2 * 64 * 64, 0.0f);
  theta_gemm_operand* prepared = Prepare64(b);
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.m = g.n = g.k = 64;
  g.alpha = 1;
  g.a = a.data();
  g.b = b.data();
  g.c = c.data();
  g.lda = g.ldb = g.ldc = 64;
  g.batch = 1;
  g.prepared_b = prepared;
  ASSERT_TRUE(IsOk(api().gemm(stream_, &g)));
  theta_gemm_args e = g;
  e.b = other.data();  // the same values elsewhere: still another B
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm", "prepared_b", "b differs"}));
  e = g;
  e.trans_b = 1;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"prepared_b", "trans_b differs"}));
  e = g;
  e.n = 32;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"prepared_b", "n differs"}));
  e = g;
  e.ldb = 65;
  e.lda = 65;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"prepared_b", "ldb differs"}));
  e = g;
  e.batch = 2;
  e.stride_c = 64 * 64;
  e.stride_b = 64 * 64;
  EXPECT_TRUE(IsError(api().gemm(stream_, &e), THETA_STATUS_INVALID_ARGUMENT,
                      {"prepared_b", "stride_b"}));
  e.stride_b = 0;  // one B for both items: accepted
  EXPECT_TRUE(IsOk(api().gemm(stream_, &e)));
  api().gemm_operand_free(stream_, prepared);
}

TEST_P(PreparedGemmTest, FreeingNullIsANoOpAndOperandsAreIndependent) {
  api().gemm_operand_free(stream_, nullptr);
  api().gemm_operand_free(nullptr, nullptr);
  // Prepare, free, prepare from other values at the same address: the new
  // operand holds the new values.
  std::vector<float> b(64 * 64, 1.0f);
  std::vector<float> a(64, 1.0f), c(64, 0.0f);
  theta_gemm_operand* first = Prepare64(b);
  api().gemm_operand_free(stream_, first);
  std::fill(b.begin(), b.end(), 2.0f);
  theta_gemm_operand* second = Prepare64(b);
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.m = 1;
  g.n = g.k = 64;
  g.alpha = 1;
  g.a = a.data();
  g.b = b.data();
  g.c = c.data();
  g.lda = g.ldb = g.ldc = 64;
  g.batch = 1;
  g.prepared_b = second;
  ASSERT_TRUE(IsOk(api().gemm(stream_, &g)));
  for (float x : c) ASSERT_EQ(x, 128.0f);
  api().gemm_operand_free(stream_, second);
}

TEST_P(PreparedGemmTest, PrepareErrorsNameTheProblem) {
  std::vector<float> b(64 * 64, 1.0f);
  theta_gemm_operand* prepared = nullptr;
  theta_gemm_prepare_args p =
      GemmPrepareArgs(THETA_DTYPE_I32, false, 64, 64, b.data(), 64);
  EXPECT_TRUE(IsError(api().gemm_prepare(stream_, &p, &prepared),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm_prepare", "dtype I32"}));
  EXPECT_EQ(prepared, nullptr);
  p = GemmPrepareArgs(THETA_DTYPE_F32, true, 64, 64, b.data(), 32);
  EXPECT_TRUE(IsError(api().gemm_prepare(stream_, &p, &prepared),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm_prepare", "ld 32"}));
  p = GemmPrepareArgs(THETA_DTYPE_F32, false, 64, 64, b.data(), 64);
  EXPECT_TRUE(IsError(api().gemm_prepare(nullptr, &p, &prepared),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm_prepare", "stream is NULL"}));
  EXPECT_TRUE(IsError(api().gemm_prepare(stream_, nullptr, &prepared),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm_prepare", "args is NULL"}));
  EXPECT_TRUE(IsError(api().gemm_prepare(stream_, &p, nullptr),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm_prepare", "out is NULL"}));
  p.struct_size = THETA_GEMM_PREPARE_ARGS_SIZE_1_2 - 1;
  EXPECT_TRUE(IsError(api().gemm_prepare(stream_, &p, &prepared),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"gemm_prepare", "struct_size"}));
  EXPECT_EQ(prepared, nullptr);
}

THETA_CPU_INSTANTIATE_THREADS(GemmTest);
THETA_CPU_INSTANTIATE_THREADS(PreparedGemmTest);

}  // namespace
}  // namespace theta::cpu::testing
