// softmax and log_softmax against a reference in long double.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {
namespace {

class SoftmaxTest : public PluginTest {
 protected:
  // Runs softmax over `in` (data laid out by `vin`) into `out` (laid out by
  // `vout`; may be `in` itself) and checks each row against the reference
  // computed before the call.
  template <typename T>
  void Check(bool log, const View& vin, std::vector<T>& in, const View& vout,
             std::vector<T>& out) {
    Check(log, vin, in.data(), vout, out.data());
  }

  // As above on raw buffers (which may start anywhere).
  template <typename T>
  void Check(bool log, const View& vin, T* in, const View& vout, T* out) {
    const int64_t n = vin.shape.back();
    const int64_t rows = n == 0 ? 0 : vin.Count() / n;
    std::vector<long double> want(static_cast<size_t>(vin.Count()));
    for (int64_t r = 0; r < rows; ++r) {
      long double m = -INFINITY;
      bool nan = false;
      for (int64_t i = 0; i < n; ++i) {
        const long double x = in[vin.Offset(r * n + i)];
        nan |= std::isnan(x);
        m = std::max(m, x);
      }
      long double s = 0;
      for (int64_t i = 0; i < n; ++i) {
        s += std::exp(in[vin.Offset(r * n + i)] - m);
      }
      for (int64_t i = 0; i < n; ++i) {
        const long double x = in[vin.Offset(r * n + i)];
        long double y = log ? (x - m) - std::log(s) : std::exp(x - m) / s;
        if (nan || std::isinf(m)) y = NAN;
        want[r * n + i] = y;
      }
    }
    theta_softmax_args args{};
    args.struct_size = sizeof(args);
    args.log = log;
    args.input = vin.Array(in, DtypeOf<T>());
    args.output = vout.Array(out, DtypeOf<T>());
    ASSERT_TRUE(IsOk(api().softmax(stream_, &args)));
    const double eps = std::numeric_limits<T>::epsilon();
    for (int64_t e = 0; e < vin.Count(); ++e) {
      const double got = out[vout.Offset(e)];
      const double w = static_cast<double>(want[e]);
      if (std::isnan(w)) {
        ASSERT_TRUE(std::isnan(got)) << "element " << e;
      } else if (std::isinf(w)) {
        ASSERT_EQ(got, w) << "element " << e;
      } else {
        ASSERT_NEAR(got, w, 16 * eps * std::max(1.0, std::fabs(w)))
            << "element " << e << " log " << log << " n " << n;
      }
    }
  }

  template <typename T>
  void CheckViews(bool log, const View& vin, const View& vout) {
    std::vector<T> in = Random<T>(std::max<int64_t>(vin.Extent(), 1), -8, 8, 5);
    std::vector<T> out(std::max<int64_t>(vout.Extent(), 1), T(-3));
    Check(log, vin, in, vout, out);
  }
};

TEST_P(SoftmaxTest, ShapesAndStrides) {
  for (bool log : {false, true}) {
    for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{
             {1}, {7}, {1, 1}, {3, 1025}, {1025, 3}, {2, 3, 300}, {100003}}) {
      CheckViews<float>(log, Contiguous(shape), Contiguous(shape));
      CheckViews<double>(log, Contiguous(shape), Contiguous(shape));
      CheckViews<float>(log, Transposed(shape), Spaced(shape, 2));
      CheckViews<double>(log, Spaced(shape, 3), Transposed(shape));
    }
    // A broadcast input (stride 0 along rows and along the last dim).
    CheckViews<float>(log, Strided({4, 5}, {0, 1}), Contiguous({4, 5}));
    CheckViews<float>(log, Strided({4, 5}, {1, 0}), Contiguous({4, 5}));
  }
}

// Rows of up to two vectors take their own path (every width up to 2 x 8
// floats and 2 x 4 doubles, and one past it), plain and in place.
TEST_P(SoftmaxTest, ShortRows) {
  for (bool log : {false, true}) {
    for (int64_t n = 1; n <= 17; ++n) {
      for (int64_t rows : {1, 3, 20}) {
        CheckViews<float>(log, Contiguous({rows, n}), Contiguous({rows, n}));
        CheckViews<double>(log, Contiguous({rows, n}), Contiguous({rows, n}));
        // Rows spaced apart (row strides above n).
        CheckViews<float>(log, Strided({rows, n}, {n + 3, 1}),
                          Strided({rows, n}, {n + 5, 1}));
      }
      std::vector<float> x = Random<float>(7 * n, -30, 30, 11);
      Check(log, Contiguous({7, n}), x, Contiguous({7, n}), x);
    }
  }
}

TEST_P(SoftmaxTest, ManyRowsSplitAcrossThreads) {
  CheckViews<float>(false, Contiguous({20000, 16}), Contiguous({20000, 16}));
  CheckViews<double>(true, Transposed({16, 5000}), Contiguous({16, 5000}));
}

TEST_P(SoftmaxTest, InPlace) {
  for (bool log : {false, true}) {
    for (const View& v :
         {Contiguous({50, 513}), Spaced({50, 513}, 2), Transposed({50, 513})}) {
      std::vector<float> x = Random<float>(v.Extent(), -20, 20, 9);
      Check(log, v, x, v, x);
    }
  }
}

TEST_P(SoftmaxTest, InfinitiesAndNans) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const View v = Contiguous({5, 4});
  std::vector<float> x = {
      0,    -inf, 1,     -inf,  // masked entries give exactly 0 (log: -inf)
      -inf, -inf, -inf,  -inf,  // all masked: NaN
      1,    nan,  2,     3,     // NaN poisons the row
      inf,  0,    1,     2,     // +inf: NaN (inf - inf)
      1000, 1000, -1000, 0};    // large values stay finite
  for (bool log : {false, true}) {
    std::vector<float> in = x, out(20, 0);
    Check(log, v, in, v, out);
    EXPECT_EQ(out[1], log ? -inf : 0.0f);
    EXPECT_FLOAT_EQ(out[16], log ? -std::log(2.0f) : 0.5f);
  }
}

// Rows spanning more than exp's range (x - max below kExpLo, -87.33 for
// float), which take the flushing exp, beside rows that do not; long enough
// for whole blocks of vectors, with elements around the flush threshold.
TEST_P(SoftmaxTest, RowsWiderThanExpsRange) {
  for (bool log : {false, true}) {
    for (int64_t n : {64, 100, 1000}) {
      std::vector<float> x = Random<float>(3 * n, -100, 10, 17);
      for (int64_t i = 0; i < n; i += 7) x[n + i] = 10 - 87.33f;  // row 1
      x[n + 1] = 10;
      for (int64_t i = 0; i < n; ++i) x[2 * n + i] = x[2 * n + i] / 20;
      Check(log, Contiguous({3, n}), x, Contiguous({3, n}), x);
      std::vector<double> x64 = Random<double>(2 * n, -800, 10, 17);
      Check(log, Contiguous({2, n}), x64, Contiguous({2, n}), x64);
    }
  }
}

// Rows whose last element is the last before an inaccessible page, in and
// out (and in place): the vector tails must touch nothing past a row.
TEST_P(SoftmaxTest, TailsStayInsideTheRow) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  auto guarded = [&]() {  // one readable page, then an inaccessible one
    void* p = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    EXPECT_EQ(mprotect(static_cast<char*>(p) + page, page, PROT_NONE), 0);
    return static_cast<char*>(p);
  };
  char* a = guarded();
  char* b = guarded();
  for (bool log : {false, true}) {
    for (int64_t n : {1, 3, 7, 13, 100, 131}) {
      const View v = Contiguous({2, n});
      auto run = [&](auto zero) {
        using T = decltype(zero);
        T* in = reinterpret_cast<T*>(a + page) - 2 * n;
        T* out = reinterpret_cast<T*>(b + page) - 2 * n;
        std::vector<T> x = Random<T>(2 * n, -8, 8, 11);
        std::copy(x.begin(), x.end(), in);
        Check(log, v, in, v, out);
        Check(log, v, in, v, in);
      };
      run(0.0f);
      run(0.0);
    }
  }
  munmap(a, 2 * page);
  munmap(b, 2 * page);
}

// A large output (over 8 MB, past the caches) starting off a 32-byte
// boundary, which the vector stores must handle as any other.
TEST_P(SoftmaxTest, LargeOutputAnyAlignment) {
  const View v = Contiguous({1030, 2049});
  std::vector<float> in = Random<float>(v.Count() + 8, -8, 8, 13);
  std::vector<float> out(v.Count() + 8);
  for (bool log : {false, true}) {
    for (int64_t shift : {0, 1, 5}) {
      Check(log, v, in.data() + 3, v, out.data() + shift);
    }
  }
  std::vector<double> in64 = Random<double>(v.Count() + 8, -8, 8, 13);
  std::vector<double> out64(v.Count() + 8);
  Check(false, v, in64.data(), v, out64.data() + 1);
}

TEST_P(SoftmaxTest, EmptyIsANoOp) {
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{0}, {0, 5}, {5, 0}}) {
    const View v = Contiguous(shape);
    theta_softmax_args args{};
    args.struct_size = sizeof(args);
    args.input = v.Array(nullptr, THETA_DTYPE_F32);
    args.output = v.Array(nullptr, THETA_DTYPE_F32);
    EXPECT_TRUE(IsOk(api().softmax(stream_, &args)));
  }
}

TEST_P(SoftmaxTest, ErrorsNameTheProblem) {
  std::vector<float> x(6, 0.0f), y(6);
  const View v = Contiguous({2, 3});
  const View w = Contiguous({3, 2});
  const View scalar = Contiguous({});
  theta_softmax_args good{};
  good.struct_size = sizeof(good);
  good.input = v.Array(x.data(), THETA_DTYPE_F32);
  good.output = v.Array(y.data(), THETA_DTYPE_F32);
  ASSERT_TRUE(IsOk(api().softmax(stream_, &good)));
  auto expect = [&](const theta_softmax_args& a,
                    std::initializer_list<std::string> parts) {
    EXPECT_TRUE(IsError(api().softmax(stream_, &a),
                        THETA_STATUS_INVALID_ARGUMENT, parts));
  };
  theta_softmax_args a = good;
  a.input.dtype = a.output.dtype = THETA_DTYPE_I32;
  expect(a, {"softmax: input dtype I32 is not supported"});
  a = good;
  a.output.dtype = THETA_DTYPE_F64;
  expect(a, {"softmax: output dtype F64 differs from input dtype F32"});
  a = good;
  a.output = w.Array(y.data(), THETA_DTYPE_F32);
  expect(a, {"softmax: output shape (3, 2) differs from input shape (2, 3)"});
  a = good;
  a.input = scalar.Array(x.data(), THETA_DTYPE_F32);
  a.output = scalar.Array(y.data(), THETA_DTYPE_F32);
  expect(a, {"softmax: input has rank 0"});
  a = good;
  a.output.data = nullptr;
  expect(a, {"softmax: output data is NULL"});
}

THETA_CPU_INSTANTIATE_THREADS(SoftmaxTest);

}  // namespace
}  // namespace theta::cpu::testing
