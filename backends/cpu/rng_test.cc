// rng: bit-identical to philox.h's mapping, independent of threads.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "backends/api/philox.h"
#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {
namespace {

class RngTest : public PluginTest {
 protected:
  template <typename T>
  std::vector<T> Draw(theta_rng_distribution dist, uint64_t seed,
                      uint64_t offset, double a, double b, const View& v) {
    std::vector<T> out(std::max<int64_t>(v.Extent(), 1) + 1, T(-99));
    theta_rng_args args{};
    args.struct_size = sizeof(args);
    args.distribution = dist;
    args.seed = seed;
    args.offset = offset;
    args.a = a;
    args.b = b;
    args.output = v.Array(out.data(), DtypeOf<T>());
    EXPECT_TRUE(IsOk(api().rng(stream_, &args)));
    return out;
  }
};

// The value the header specifies for element e.
template <typename T>
T Expected(theta_rng_distribution dist, uint64_t seed, uint64_t n, double a,
           double b) {
  if (dist == THETA_RNG_NORMAL) {
    return static_cast<T>(a + b * philox::StandardNormal(seed, n));
  }
  if constexpr (sizeof(T) == 4) {
    return static_cast<T>(a + (b - a) * double(philox::UniformFloat(seed, n)));
  } else {
    return static_cast<T>(a + (b - a) * philox::UniformDouble(seed, n));
  }
}

template <typename T>
void CheckBits(RngTest* test, theta_rng_distribution dist, uint64_t seed,
               uint64_t offset, double a, double b, const View& v,
               std::vector<T> (RngTest::*draw)(theta_rng_distribution, uint64_t,
                                               uint64_t, double, double,
                                               const View&)) {
  const std::vector<T> got = (test->*draw)(dist, seed, offset, a, b, v);
  for (int64_t e = 0; e < v.Count(); ++e) {
    const T want = Expected<T>(dist, seed, offset + e, a, b);
    ASSERT_EQ(got[v.Offset(e)], want)
        << "element " << e << " offset " << offset;
  }
  if (v.Count() > 0 && v.Extent() > v.Count()) {
    EXPECT_EQ(got[1], T(-99));  // a gap of a spaced view
  }
}

class RngBitsTest : public RngTest {
 public:
  using RngTest::Draw;
};

TEST_P(RngBitsTest, MatchesPhiloxBitForBit) {
  for (uint64_t offset : {0ull, 1ull, 3ull, 5ull, (1ull << 40) + 2}) {
    for (const View& v :
         {Contiguous({1}), Contiguous({7}), Contiguous({1025}),
          Spaced({33, 7}, 2), Transposed({5, 9, 3}), Contiguous({100003})}) {
      for (theta_rng_distribution dist :
           {THETA_RNG_UNIFORM, THETA_RNG_NORMAL}) {
        CheckBits<float>(this, dist, 1234, offset, -2, 3, v,
                         &RngBitsTest::Draw<float>);
        CheckBits<double>(this, dist, 99, offset, 0.5, 2, v,
                          &RngBitsTest::Draw<double>);
      }
    }
  }
}

TEST_P(RngBitsTest, ConsecutiveCallsContinueTheStream) {
  // Drawing 10 then 15 at offset 10 equals drawing 25 at once.
  const auto all = Draw<float>(THETA_RNG_UNIFORM, 5, 0, 0, 1, Contiguous({25}));
  const auto head =
      Draw<float>(THETA_RNG_UNIFORM, 5, 0, 0, 1, Contiguous({10}));
  const auto tail =
      Draw<float>(THETA_RNG_UNIFORM, 5, 10, 0, 1, Contiguous({15}));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(all[i], head[i]);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(all[10 + i], tail[i]);
}

TEST_P(RngBitsTest, MomentsAreSane) {
  const int64_t n = 200000;
  const auto u = Draw<double>(THETA_RNG_UNIFORM, 7, 0, 2, 4, Contiguous({n}));
  const auto z = Draw<float>(THETA_RNG_NORMAL, 7, 0, 1, 3, Contiguous({n}));
  double su = 0, sz = 0, szz = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_GE(u[i], 2.0);
    ASSERT_LT(u[i], 4.0);
    su += u[i];
    sz += z[i];
    szz += double(z[i]) * z[i];
  }
  EXPECT_NEAR(su / n, 3.0, 0.01);
  EXPECT_NEAR(sz / n, 1.0, 0.03);
  EXPECT_NEAR(std::sqrt(szz / n - (sz / n) * (sz / n)), 3.0, 0.03);
}

TEST_P(RngBitsTest, ErrorsNameTheProblem) {
  std::vector<int32_t> xi(4);
  std::vector<float> xf(4);
  const View v = Contiguous({4});
  theta_rng_args args{};
  args.struct_size = sizeof(args);
  args.output = v.Array(xi.data(), THETA_DTYPE_I32);
  EXPECT_TRUE(IsError(api().rng(stream_, &args), THETA_STATUS_INVALID_ARGUMENT,
                      {"rng: output dtype I32 is not supported"}));
  args.output = v.Array(xf.data(), THETA_DTYPE_F32);
  SetRawEnum(args.distribution, 5);
  EXPECT_TRUE(IsError(api().rng(stream_, &args), THETA_STATUS_INVALID_ARGUMENT,
                      {"rng: unknown distribution 5"}));
  const View empty = Contiguous({0});
  args.distribution = THETA_RNG_UNIFORM;
  args.output = empty.Array(nullptr, THETA_DTYPE_F32);
  EXPECT_TRUE(IsOk(api().rng(stream_, &args)));
}

THETA_CPU_INSTANTIATE_THREADS(RngBitsTest);

}  // namespace
}  // namespace theta::cpu::testing
