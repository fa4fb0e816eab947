// Counter-based random numbers: the ABI's Philox4x32-10 formulas recomputed
// here (with the published known-answer vectors), so every backend draws the
// same numbers for the same seed and offset.
#include <vector>

#include "backends/api/philox.h"
#include "backends/conformance/conformance.h"

namespace theta::conformance {
namespace {

TEST(PhiloxReference, MatchesPublishedKnownAnswers) {
  // Random123's kat_vectors for philox4x32_10: counter 0, key 0.
  const philox::Block b = philox::Philox4x32_10(0, 0, 0);
  EXPECT_EQ(b.w[0], 0x6627e8d5u);
  EXPECT_EQ(b.w[1], 0xe169c58du);
  EXPECT_EQ(b.w[2], 0xbc57ac4cu);
  EXPECT_EQ(b.w[3], 0x9b00dbd8u);
}

class RngTest : public ConformanceTest {
 protected:
  template <typename T>
  std::vector<T> Draw(theta_rng_distribution dist, uint64_t seed,
                      uint64_t offset, int64_t n, double a, double b,
                      const View& view) {
    DeviceArray d = Upload(std::vector<T>(std::max<int64_t>(1, view.Extent())));
    theta_rng_args r{};
    r.struct_size = sizeof(r);
    r.distribution = dist;
    r.seed = seed;
    r.offset = offset;
    r.a = a;
    r.b = b;
    r.output = d.Array(view);
    EXPECT_TRUE(Ok(api().rng(stream(), &r)));
    const std::vector<T> all =
        Download<T>(d, std::max<int64_t>(1, view.Extent()));
    std::vector<T> out;
    for (int64_t e = 0; e < n; ++e) out.push_back(all[view.Offset(e)]);
    return out;
  }
};

TEST_P(RngTest, UniformIsBitExact) {
  const int64_t n = 100003;
  const uint64_t seed = 0x1234567890abcdefull, offset = 7;
  const auto f =
      Draw<float>(THETA_RNG_UNIFORM, seed, offset, n, -2, 3, Contiguous({n}));
  const auto d =
      Draw<double>(THETA_RNG_UNIFORM, seed, offset, n, -2, 3, Contiguous({n}));
  for (int64_t e = 0; e < n; ++e) {
    const uint64_t c = offset + e;
    const double uf = philox::UniformFloat(seed, c);
    ASSERT_EQ(f[e], static_cast<float>(std::fma(5.0, uf, -2.0))) << e;
    ASSERT_EQ(d[e], std::fma(5.0, philox::UniformDouble(seed, c), -2.0)) << e;
  }
}

TEST_P(RngTest, NormalMatchesTheReferenceToTheLastBitsOfLogAndCos) {
  const int64_t n = 20001;
  const auto d =
      Draw<double>(THETA_RNG_NORMAL, 42, 3, n, 1, 2, Contiguous({n}));
  const auto f = Draw<float>(THETA_RNG_NORMAL, 42, 3, n, 1, 2, Contiguous({n}));
  std::vector<double> want(n), want_f(n);
  for (int64_t e = 0; e < n; ++e) {
    want[e] = 1 + 2 * philox::StandardNormal(42, 3 + e);
    want_f[e] = static_cast<float>(want[e]);
  }
  // The header allows the platform's log and cos to differ in the last bits
  // of z (NormalDrawsAgree states the bound).
  int64_t mismatches = 0;
  for (int64_t e = 0; e < n; ++e) {
    if (!NormalDrawsAgree(d[e], want[e], 1.0) ||
        !NormalDrawsAgree(f[e], static_cast<float>(want_f[e]), 1.0)) {
      if (++mismatches <= 5) {
        ADD_FAILURE() << "element " << e << ": " << d[e] << " / " << f[e]
                      << ", the reference gives " << want[e];
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_P(RngTest, OffsetsContinueAStreamAndStridesFollowRowMajorOrder) {
  const auto whole =
      Draw<float>(THETA_RNG_UNIFORM, 9, 0, 1000, 0, 1, Contiguous({1000}));
  const auto tail =
      Draw<float>(THETA_RNG_UNIFORM, 9, 600, 400, 0, 1, Contiguous({400}));
  EXPECT_EQ(std::vector<float>(whole.begin() + 600, whole.end()), tail);
  const auto transposed =
      Draw<float>(THETA_RNG_UNIFORM, 9, 0, 1000, 0, 1, Transposed({40, 25}));
  EXPECT_EQ(transposed, whole);
}

THETA_CONFORMANCE_INSTANTIATE(RngTest);

}  // namespace
}  // namespace theta::conformance
