// Strided batched GEMM against a triple loop in double, plain and with B
// prepared (ABI 1.2; a plugin may prepare nothing, and the product must be
// the same either way).
#include <vector>

#include "backends/conformance/conformance.h"
#include "backends/kernel_args.h"

namespace theta::conformance {
namespace {

class GemmTest : public ConformanceTest {
 protected:
  struct Case {
    int64_t m, n, k, batch;
    bool ta, tb;
    double alpha, beta;
    int64_t pad = 0;  // extra elements per row (lda/ldb/ldc > columns)
  };

  // B prepared once for the product (one B for the batch: stride_b 0).
  template <typename T>
  void CheckPrepared(Case c) {
    Check<T>(c, /*prepare=*/true);
  }

  template <typename T>
  void Check(const Case& c, bool prepare = false) {
    const int64_t ar = c.ta ? c.k : c.m, ac = c.ta ? c.m : c.k;
    const int64_t br = c.tb ? c.n : c.k, bc = c.tb ? c.k : c.n;
    const int64_t lda = ac + c.pad, ldb = bc + c.pad, ldc = c.n + c.pad;
    const int64_t sa = ar * lda + c.pad, sc = c.m * ldc + 3;
    const int64_t sb = prepare ? 0 : br * ldb;
    const auto a = Random<T>(std::max<int64_t>(1, sa * c.batch), -1, 1, 1);
    const auto b = Random<T>(
        std::max<int64_t>(1, (prepare ? br * ldb : sb * c.batch)), -1, 1, 2);
    auto cv = Random<T>(std::max<int64_t>(1, sc * c.batch), -1, 1, 3);
    std::vector<double> want(cv.begin(), cv.end());
    for (int64_t i = 0; i < c.batch; ++i) {
      for (int64_t r = 0; r < c.m; ++r) {
        for (int64_t col = 0; col < c.n; ++col) {
          double acc = 0;
          for (int64_t t = 0; t < c.k; ++t) {
            const double x = a[i * sa + (c.ta ? t * lda + r : r * lda + t)];
            const double y = b[i * sb + (c.tb ? col * ldb + t : t * ldb + col)];
            acc += x * y;
          }
          double& out = want[i * sc + r * ldc + col];
          out = c.alpha * acc + (c.beta == 0 ? 0 : c.beta * out);
        }
      }
    }
    DeviceArray da = Upload(a), db = Upload(b), dc = Upload(cv);
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
    g.a = da.buffer.data();
    g.lda = lda;
    g.stride_a = sa;
    g.b = db.buffer.data();
    g.ldb = ldb;
    g.stride_b = sb;
    g.c = dc.buffer.data();
    g.ldc = ldc;
    g.stride_c = sc;
    g.batch = c.batch;
    theta_gemm_operand* operand = nullptr;
    if (prepare) {
      const theta_gemm_prepare_args p = backends::GemmPrepareArgsFor(g);
      ASSERT_TRUE(Ok(api().gemm_prepare(stream(), &p, &operand)));
      g.prepared_b = operand;
    }
    ASSERT_TRUE(Ok(api().gemm(stream(), &g)));
    if (prepare) {
      // Twice with the same operand: it is not used up.
      ASSERT_TRUE(
          backend()
              .CopyToDevice(dc.buffer.data(), cv.data(), cv.size() * sizeof(T))
              .ok());
      ASSERT_TRUE(Ok(api().gemm(stream(), &g)));
      api().gemm_operand_free(stream(), operand);
    }
    const double tol = Tolerance<T>() * (10 + std::sqrt(double(c.k)));
    EXPECT_TRUE(AllClose(Download<T>(dc, cv.size()), want, tol, tol))
        << c.m << "x" << c.n << "x" << c.k << " batch " << c.batch << " ta "
        << c.ta << " tb " << c.tb << (prepare ? " prepared" : "");
  }

  // C = A B for 2x2 row-major matrices, beta = 0 (C is not read), as
  // downloaded from the device.
  template <typename T>
  std::vector<T> Run2x2(const std::vector<T>& a, const std::vector<T>& b,
                        const std::vector<T>& c) {
    DeviceArray da = Upload(a), db = Upload(b), dc = Upload(c);
    theta_gemm_args g{};
    g.struct_size = sizeof(g);
    g.dtype = DtypeOf<T>();
    g.m = g.n = g.k = 2;
    g.alpha = 1;
    g.beta = 0;
    g.a = da.buffer.data();
    g.b = db.buffer.data();
    g.c = dc.buffer.data();
    g.lda = g.ldb = g.ldc = 2;
    g.batch = 1;
    EXPECT_TRUE(Ok(api().gemm(stream(), &g)));
    return Download<T>(dc, 4);
  }

  template <typename T>
  void CheckAll() {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        Check<T>({1, 1, 1, 1, ta, tb, 1, 0});
        Check<T>({7, 5, 3, 1, ta, tb, 1, 0});
        Check<T>({65, 33, 129, 2, ta, tb, 0.5, -1.5, 3});
        Check<T>({64, 64, 64, 3, ta, tb, 2, 1});
      }
    }
    Check<T>({257, 130, 300, 1, false, false, 1, 0.25});
    Check<T>({0, 5, 3, 2, false, false, 1, 0});  // empty: a no-op
    Check<T>({4, 6, 0, 2, false, true, 1, 3});   // k = 0: C = beta C
  }

  // The shapes of a loop's products with its weights (an LSTM step's h U
  // and dG U^T), and the edges.
  template <typename T>
  void CheckAllPrepared() {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        CheckPrepared<T>({1, 1, 1, 1, ta, tb, 1, 0});
        CheckPrepared<T>({7, 37, 19, 1, ta, tb, 1, 0});
        CheckPrepared<T>({65, 33, 129, 2, ta, tb, 0.5, -1.5, 3});
      }
    }
    CheckPrepared<T>({32, 1024, 256, 1, false, false, 1, 1});
    CheckPrepared<T>({32, 256, 1024, 1, false, true, 1, 0});
    CheckPrepared<T>({300, 70, 40, 1, false, false, 1, 0.5});
    CheckPrepared<T>({0, 5, 3, 1, false, false, 1, 0});
  }
};

TEST_P(GemmTest, Float32) { CheckAll<float>(); }
TEST_P(GemmTest, Float64) { CheckAll<double>(); }

TEST_P(GemmTest, PreparedFloat32) { CheckAllPrepared<float>(); }
TEST_P(GemmTest, PreparedFloat64) { CheckAllPrepared<double>(); }

TEST_P(GemmTest, PreparedOperandMustMatchItsGemm) {
  const std::vector<float> a(6, 1), b(6, 2);
  DeviceArray da = Upload(a), db = Upload(b),
              dc = Upload(std::vector<float>(4, std::nanf("")));
  theta_gemm_prepare_args p = backends::GemmPrepareArgs(
      THETA_DTYPE_F32, false, 3, 2, db.buffer.data(), 2);
  theta_gemm_operand* operand = nullptr;
  ASSERT_TRUE(Ok(api().gemm_prepare(stream(), &p, &operand)));
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_F32;
  g.m = 2, g.n = 2, g.k = 3;
  g.alpha = 1;
  g.a = da.buffer.data(), g.lda = 3;
  g.b = db.buffer.data(), g.ldb = 2;
  g.c = dc.buffer.data(), g.ldc = 2;
  g.batch = 1;
  g.prepared_b = operand;
  ASSERT_TRUE(Ok(api().gemm(stream(), &g)));
  EXPECT_EQ(Download<float>(dc, 4), std::vector<float>(4, 6));
  if (operand != nullptr) {  // a plugin that prepared it checks the match
    theta_gemm_args other = g;
    other.ldb = 3;
    other.trans_b = 1;  // the same bytes read as a transposed 3x2
    other.n = 2;
    EXPECT_TRUE(Invalid(api().gemm(stream(), &other), "prepared_b"));
    other = g;
    other.b = da.buffer.data();
    EXPECT_TRUE(Invalid(api().gemm(stream(), &other), "b differs"));
  }
  api().gemm_operand_free(stream(), operand);
  api().gemm_operand_free(stream(), nullptr);
  p.k = -1;
  EXPECT_TRUE(Invalid(api().gemm_prepare(stream(), &p, &operand), "k is -1"));
  EXPECT_EQ(operand, nullptr);
}

// Subnormal operands and products are kept (elementwise_semantics.h,
// "Subnormal numbers"), with B plain and prepared: every product below is
// exact in float.
TEST_P(GemmTest, SubnormalsAreNotFlushed) {
  const int64_t m = 2, n = 3, k = 4;
  std::vector<float> a(m * k), b(k * n);
  for (int64_t i = 0; i < m * k; ++i) a[i] = 1e-39f * static_cast<float>(i + 1);
  for (int64_t i = 0; i < k * n; ++i) b[i] = (i % 2 == 0) ? 0.5f : 0.25f;
  std::vector<float> want(m * n, 0.0f);
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t c = 0; c < n; ++c) {
      for (int64_t t = 0; t < k; ++t)
        want[r * n + c] += a[r * k + t] * b[t * n + c];
    }
  }
  DeviceArray da = Upload(a), db = Upload(b);
  for (bool prepare : {false, true}) {
    DeviceArray dc = Upload(std::vector<float>(m * n, 7));
    theta_gemm_args g{};
    g.struct_size = sizeof(g);
    g.dtype = THETA_DTYPE_F32;
    g.m = m, g.n = n, g.k = k;
    g.alpha = 1;
    g.a = da.buffer.data(), g.lda = k;
    g.b = db.buffer.data(), g.ldb = n;
    g.c = dc.buffer.data(), g.ldc = n;
    g.batch = 1;
    theta_gemm_operand* operand = nullptr;
    if (prepare) {
      const theta_gemm_prepare_args p = backends::GemmPrepareArgsFor(g);
      ASSERT_TRUE(Ok(api().gemm_prepare(stream(), &p, &operand)));
      g.prepared_b = operand;
    }
    ASSERT_TRUE(Ok(api().gemm(stream(), &g)));
    api().gemm_operand_free(stream(), operand);
    const std::vector<float> got = Download<float>(dc, m * n);
    for (int64_t i = 0; i < m * n; ++i) {
      EXPECT_NE(got[i], 0.0f) << i << (prepare ? " prepared" : "");
      EXPECT_NEAR(got[i], want[i], 1e-45f) << i << (prepare ? " prepared" : "");
    }
  }
}

TEST_P(GemmTest, BetaZeroIgnoresNanInC) {
  EXPECT_TRUE(AllClose(Run2x2<float>({1, 2, 3, 4}, {1, 0, 0, 1},
                                     std::vector<float>(4, std::nanf(""))),
                       {1, 2, 3, 4}, 0, 0));
}

TEST_P(GemmTest, NanAndInfInInputsPropagate) {
  const double inf = INFINITY;
  const std::vector<double> got =
      Run2x2<double>({NAN, 1, inf, 0}, {1, 0, 0, 1}, std::vector<double>(4));
  EXPECT_TRUE(std::isnan(got[0]));  // NaN * 1
  EXPECT_TRUE(std::isnan(got[1]));  // NaN * 0
  EXPECT_EQ(got[2], inf);
  EXPECT_TRUE(std::isnan(got[3]));  // inf * 0
}

TEST_P(GemmTest, RejectsBadArguments) {
  theta_gemm_args g{};
  g.struct_size = sizeof(g);
  g.dtype = THETA_DTYPE_I32;
  g.m = g.n = g.k = g.batch = 1;
  g.lda = g.ldb = g.ldc = 1;
  EXPECT_TRUE(Invalid(api().gemm(stream(), &g), "I32"));
  g.dtype = THETA_DTYPE_F32;
  g.m = -1;
  EXPECT_TRUE(Invalid(api().gemm(stream(), &g), "-1"));
}

THETA_CONFORMANCE_INSTANTIATE(GemmTest);

}  // namespace
}  // namespace theta::conformance
