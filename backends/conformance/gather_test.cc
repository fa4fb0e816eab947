// Gather (take) and scatter-add along an axis against loops: embeddings,
// negative and duplicate indices, I32 and I64 indices, out-of-range errors.
#include <vector>

#include "backends/conformance/conformance.h"

namespace theta::conformance {
namespace {

class GatherTest : public ConformanceTest {
 protected:
  // source (outer, size, inner) gathered along axis 1 by `idx`.
  template <typename T, typename I>
  void Check(int64_t outer, int64_t size, int64_t inner,
             const std::vector<I>& idx) {
    const int64_t q = static_cast<int64_t>(idx.size());
    const View src = Contiguous({outer, size, inner});
    const View ind = Contiguous({q});
    const View out = Contiguous({outer, q, inner});
    const std::vector<T> s =
        Random<T>(std::max<int64_t>(1, src.Count()), -9, 9, 1);
    std::vector<double> want(static_cast<size_t>(out.Count()));
    // scatter-add: dst (outer, size, inner) += values (outer, q, inner).
    const std::vector<T> values =
        Random<T>(std::max<int64_t>(1, out.Count()), -9, 9, 2);
    std::vector<T> base =
        Random<T>(std::max<int64_t>(1, src.Count()), -9, 9, 3);
    std::vector<double> want_dst(base.begin(), base.end());
    want_dst.resize(static_cast<size_t>(src.Count()));
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < q; ++j) {
        const int64_t k = idx[j] < 0 ? idx[j] + size : idx[j];
        for (int64_t i = 0; i < inner; ++i) {
          want[(o * q + j) * inner + i] = s[(o * size + k) * inner + i];
          want_dst[(o * size + k) * inner + i] +=
              values[(o * q + j) * inner + i];
        }
      }
    }
    DeviceArray ds = Upload(s), di = Upload(idx),
                dout =
                    Upload(std::vector<T>(std::max<int64_t>(1, out.Count())));
    theta_gather_args g{};
    g.struct_size = sizeof(g);
    g.axis = 1;
    g.source = ds.Array(src);
    g.indices = di.Array(ind);
    g.output = dout.Array(out);
    ASSERT_TRUE(Ok(api().gather(stream(), &g)));
    EXPECT_TRUE(AllClose(Download<T>(dout, out.Count()), want, 0, 0));

    DeviceArray dv = Upload(values), dd = Upload(base);
    g.source = dv.Array(out);
    g.output = dd.Array(src);
    ASSERT_TRUE(Ok(api().scatter_add(stream(), &g)));
    const double tol = Tolerance<T>() * 10;
    EXPECT_TRUE(AllClose(Download<T>(dd, src.Count()), want_dst, tol, tol));
  }
};

TEST_P(GatherTest, EmbeddingsWithNegativeAndDuplicateIndices) {
  Check<float, int32_t>(1, 50, 16, {0, 49, -1, 3, 3, 3, -50});
  Check<double, int64_t>(3, 7, 5, {6, 0, -2, 6});
  // Many duplicates across threads: a large vocabulary-gradient case.
  std::vector<int64_t> many = Random<int64_t>(20000, -100, 99, 5);
  Check<float, int64_t>(1, 100, 64, many);
  Check<float, int32_t>(1000, 3, 1, {2, 0});  // long outer, tiny inner
}

TEST_P(GatherTest, EmptyIndices) { Check<float, int32_t>(2, 5, 3, {}); }

TEST_P(GatherTest, OutOfRangeIndexIsAnError) {
  DeviceArray ds = Upload(std::vector<float>(10)),
              di = Upload(std::vector<int32_t>{10}),
              dout = Upload(std::vector<float>(1));
  const View src = Contiguous({10}), ind = Contiguous({1}),
             out = Contiguous({1});
  theta_gather_args g{};
  g.struct_size = sizeof(g);
  g.source = ds.Array(src);
  g.indices = di.Array(ind);
  g.output = dout.Array(out);
  theta_status* s = api().gather(stream(), &g);
  if (s == nullptr) s = api().stream_synchronize(stream());  // async report
  EXPECT_TRUE(Invalid(s, "10"));
}

THETA_CONFORMANCE_INSTANTIATE(GatherTest);

}  // namespace
}  // namespace theta::conformance
