// The packed B layout, and PackedGemm against a double-precision loop at
// every shape class the micro-kernel and the task cut distinguish.
#include "backends/cpu/packed_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "backends/cpu/test_util.h"
#include "backends/cpu/thread_pool.h"

namespace theta::cpu::testing {
namespace {

struct Case {
  int64_t m, n, k;
  bool ta, tb;
  int64_t pad = 0;  // extra elements per row of A, B and C
  double alpha = 1, beta = 0;
  int64_t batch = 1;
};

std::string Describe(const Case& c) {
  return ::testing::PrintToString(std::vector<int64_t>{c.m, c.n, c.k}) +
         (c.ta ? " A^T" : "") + (c.tb ? " B^T" : "") + " pad " +
         std::to_string(c.pad) + " alpha " + std::to_string(c.alpha) +
         " beta " + std::to_string(c.beta) + " batch " +
         std::to_string(c.batch);
}

// Operands of one case and the product's result.
struct Run {
  std::vector<float> a, b, c, c0;
  int64_t lda, ldb, ldc, sa, sc;
};

Run Compute(ThreadPool& pool, const Case& c) {
  Run r;
  const int64_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
  const int64_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
  r.lda = a_cols + c.pad;
  r.ldb = b_cols + c.pad;
  r.ldc = c.n + c.pad;
  r.sa = a_rows * r.lda + 3;
  r.sc = c.m * r.ldc + 5;
  r.a = Random<float>(r.sa * c.batch, -1, 1, 41);
  r.b = Random<float>(b_rows * r.ldb, -1, 1, 42);
  r.c0 = Random<float>(r.sc * c.batch, -1, 1, 43);
  if (c.beta == 0) {
    for (float& x : r.c0) x = std::numeric_limits<float>::quiet_NaN();
  }
  r.c = r.c0;
  PackedB packed(pool, r.b.data(), r.ldb, c.tb, c.k, c.n);
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
  g.a = r.a.data();
  g.lda = r.lda;
  g.stride_a = r.sa;
  g.b = r.b.data();
  g.ldb = r.ldb;
  g.stride_b = 0;
  g.c = r.c.data();
  g.ldc = r.ldc;
  g.stride_c = r.sc;
  g.batch = c.batch;
  PackedGemm(pool, g, packed);
  return r;
}

// Every element within (k + 2) float epsilons of alpha * sum |a||b| + |beta
// c| of the double-precision result; padding untouched.
void ExpectMatchesReference(const Case& c, const Run& r) {
  SCOPED_TRACE(Describe(c));
  const double eps = std::numeric_limits<float>::epsilon();
  std::vector<bool> written(r.c.size(), false);
  int failures = 0;
  for (int64_t p = 0; p < c.batch; ++p) {
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        double acc = 0, mag = 0;
        for (int64_t l = 0; l < c.k; ++l) {
          const double x = c.ta ? r.a[p * r.sa + l * r.lda + i]
                                : r.a[p * r.sa + i * r.lda + l];
          const double y = c.tb ? r.b[j * r.ldb + l] : r.b[l * r.ldb + j];
          acc += x * y;
          mag += std::abs(x * y);
        }
        const size_t at = static_cast<size_t>(p * r.sc + i * r.ldc + j);
        written[at] = true;
        const double old = r.c0[at];
        const double want = c.alpha * acc + (c.beta == 0 ? 0.0 : c.beta * old);
        const double tol = (c.k + 2) * eps *
                           (std::abs(c.alpha) * mag +
                            (c.beta == 0 ? 0 : std::abs(c.beta * old)));
        if (!(std::abs(r.c[at] - want) <= tol) && ++failures <= 5) {
          ADD_FAILURE() << "item " << p << " C(" << i << ", " << j
                        << ") = " << r.c[at] << ", want " << want << " +- "
                        << tol;
        }
      }
    }
  }
  for (size_t at = 0; at < r.c.size(); ++at) {
    if (!written[at] && !SameValue(r.c[at], r.c0[at]) && ++failures <= 5) {
      ADD_FAILURE() << "element " << at << " outside C was written";
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(PackedBTest, PanelsHoldOpBAndZerosPastN) {
  ThreadPool pool(2);
  for (bool trans : {false, true}) {
    const int64_t k = 5, n = 37, ld = (trans ? k : n) + 3;
    std::vector<float> b = Random<float>((trans ? n : k) * ld, -1, 1, 7);
    PackedB packed(pool, b.data(), ld, trans, k, n);
    ASSERT_EQ(packed.panels(), 3);
    EXPECT_EQ(packed.bytes(), 3 * k * kPackedPanelWidth * 4);
    for (int64_t j = 0; j < packed.panels(); ++j) {
      const float* panel = packed.panel(j);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(panel) % 64, 0u);
      for (int64_t p = 0; p < k; ++p) {
        for (int64_t c = 0; c < kPackedPanelWidth; ++c) {
          const int64_t col = j * kPackedPanelWidth + c;
          const float want = col >= n ? 0.0f
                             : trans  ? b[col * ld + p]
                                      : b[p * ld + col];
          ASSERT_EQ(panel[p * kPackedPanelWidth + c], want)
              << "trans " << trans << " panel " << j << " row " << p
              << " column " << c;
        }
      }
    }
  }
}

TEST(PackedBTest, EmptyOperandHasNoPanels) {
  ThreadPool pool(1);
  PackedB no_rows(pool, nullptr, 4, false, 0, 4);
  EXPECT_EQ(no_rows.bytes(), 0);
  PackedB no_cols(pool, nullptr, 4, false, 4, 0);
  EXPECT_EQ(no_cols.panels(), 0);
}

class PackedGemmTest : public ::testing::TestWithParam<int> {
 protected:
  void Check(const Case& c) {
    ThreadPool pool(GetParam());
    ExpectMatchesReference(c, Compute(pool, c));
  }
};

TEST_P(PackedGemmTest, EveryStripHeight) {
  // 1..13 rows: every strip height alone and every split of a remainder;
  // then around the row block (96).
  for (int64_t m : {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                    11, 12, 13, 31, 32, 64, 95, 96, 97, 200}) {
    Check({m, 40, 19, false, false});
    Check({m, 40, 19, true, false});
  }
}

TEST_P(PackedGemmTest, EveryColumnTail) {
  for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 100, 257}) {
    Check({7, n, 23, false, false});
    Check({7, n, 23, false, true});
  }
}

TEST_P(PackedGemmTest, DepthsAroundTheKBlock) {
  for (int64_t k : {1, 2, 3, 17, 255, 256, 257, 511, 600}) {
    Check({9, 33, k, false, false, 0, 1, 0.5});
    Check({9, 33, k, true, true, 0, 1, 0.5});
  }
}

TEST_P(PackedGemmTest, TransposesAndLeadingDimensions) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      Check({13, 50, 70, ta, tb, 3, 1, 0});
      Check({32, 96, 300, ta, tb, 17, -0.5, 2});
    }
  }
}

TEST_P(PackedGemmTest, AlphaAndBeta) {
  for (double alpha : {1.0, -2.0, 0.25}) {
    for (double beta : {0.0, 1.0, -1.5}) {
      // beta 0 fills C with NaN first: none may come through.
      Check({11, 21, 300, false, false, 1, alpha, beta});
    }
  }
}

TEST_P(PackedGemmTest, BatchSharesOneB) {
  Check({5, 20, 9, false, false, 0, 1, 0, 4});
  Check({33, 70, 260, true, true, 2, 1, 1, 3});
}

TEST_P(PackedGemmTest, LstmShapes) {
  Check({32, 1024, 256, false, false, 0, 1, 1});
  Check({32, 256, 1024, false, true, 0, 1, 1});
  Check({64, 512, 128, false, false, 0, 1, 0});
  Check({64, 128, 512, false, true, 0, 1, 0});
}

INSTANTIATE_TEST_SUITE_P(Threads, PackedGemmTest, ::testing::Values(1, 3),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Threads" + std::to_string(info.param);
                         });

TEST(PackedGemmDeterminismTest, BitwiseTheSameForAnyThreadCount) {
  const Case cases[] = {
      {64, 2048, 512, false, false, 0, 1, 1},
      {64, 512, 600, false, true, 0, 0.5, 0},
      {200, 300, 70, true, false, 1, 1, 0.5},
      {9, 100, 300, true, true, 0, 1, 1, 5},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(Describe(c));
    ThreadPool one(1);
    const std::vector<float> want = Compute(one, c).c;
    for (int threads : {2, 3, 4}) {
      ThreadPool pool(threads);
      const std::vector<float> got = Compute(pool, c).c;
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_TRUE(SameValue(got[i], want[i]))
            << threads << " threads, element " << i << ": " << got[i] << " vs "
            << want[i];
      }
    }
  }
}

}  // namespace
}  // namespace theta::cpu::testing
