// Strided copy (transposes, slices, broadcast and reversed sources) and fill.
#include <vector>

#include "backends/conformance/conformance.h"

namespace theta::conformance {
namespace {

class CopyFillTest : public ConformanceTest {
 protected:
  template <typename T>
  void CheckCopy(const View& src, const View& dst) {
    const std::vector<T> s =
        Random<T>(std::max<int64_t>(1, src.Extent()), -50, 50, 1);
    const std::vector<T> d(std::max<int64_t>(1, dst.Extent()), T(99));
    std::vector<double> want(d.begin(), d.end());
    for (int64_t e = 0; e < src.Count(); ++e)
      want[dst.Offset(e)] = s[src.Offset(e)];
    DeviceArray ds = Upload(s), dd = Upload(d);
    theta_copy_args a{};
    a.struct_size = sizeof(a);
    a.source = ds.Array(src);
    a.destination = dd.Array(dst);
    ASSERT_TRUE(Ok(api().copy(stream(), &a)));
    EXPECT_TRUE(AllClose(Download<T>(dd, d.size()), want, 0, 0))
        << src.ndim() << "-d copy of " << src.Count() << " elements";
  }
};

TEST_P(CopyFillTest, TransposesSlicesAndContiguousCopies) {
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{1},
                                         {1025},
                                         {1000003},
                                         {37, 29},
                                         {5, 1, 7, 3},
                                         {100003, 3},
                                         {3, 64, 48}}) {
    CheckCopy<float>(Contiguous(shape), Contiguous(shape));
    CheckCopy<double>(Transposed(shape), Contiguous(shape));
    CheckCopy<int32_t>(Spaced(shape, 2), Spaced(shape, 3));
    CheckCopy<uint8_t>(Contiguous(shape), Transposed(shape));
  }
  CheckCopy<int64_t>(Contiguous({0, 4}), Contiguous({0, 4}));  // empty
}

TEST_P(CopyFillTest, BroadcastAndReversedSources) {
  CheckCopy<float>(Strided({300, 5}, {0, 1}), Contiguous({300, 5}));
  CheckCopy<double>(Strided({4, 5}, {1, 0}), Transposed({4, 5}));
  CheckCopy<float>(Strided({1000}, {-1}), Contiguous({1000}));
  CheckCopy<double>(Strided({64, 48}, {-48, 1}), Contiguous({64, 48}));
  CheckCopy<float>(Strided({64, 48}, {1, -64}), Contiguous({64, 48}));
  CheckCopy<int32_t>(Strided({3, 40, 36}, {-1440, -1, 40}),
                     Contiguous({3, 40, 36}));
}

TEST_P(CopyFillTest, FillEveryDtype) {
  const View v = Spaced({70, 300}, 2);
  auto fill = [&](auto zero, double value, double want_value) {
    using T = decltype(zero);
    std::vector<T> d(v.Extent(), T(5));
    std::vector<double> want(d.begin(), d.end());
    for (int64_t e = 0; e < v.Count(); ++e) want[v.Offset(e)] = want_value;
    DeviceArray dd = Upload(d);
    const theta_array a = dd.Array(v);
    ASSERT_TRUE(Ok(api().fill(stream(), &a, value)));
    EXPECT_TRUE(AllClose(Download<T>(dd, d.size()), want, 0, 0)) << value;
  };
  fill(float{}, 1.5, 1.5);
  fill(double{}, -INFINITY, -INFINITY);
  fill(int32_t{}, -7, -7);
  fill(int64_t{}, 1e15, 1e15);
  fill(uint8_t{}, 200, 200);
}

TEST_P(CopyFillTest, RejectsMismatchesAndBroadcastDestinations) {
  DeviceArray x = Upload(std::vector<float>(12)),
              y = Upload(std::vector<float>(12));
  theta_copy_args a{};
  a.struct_size = sizeof(a);
  const View a34 = Contiguous({3, 4}), a43 = Contiguous({4, 3});
  a.source = x.Array(a34);
  a.destination = y.Array(a43);
  EXPECT_TRUE(Invalid(api().copy(stream(), &a), "shape"));
  const View bcast = Strided({3, 4}, {0, 1});
  a.destination = y.Array(bcast);
  EXPECT_TRUE(Invalid(api().copy(stream(), &a), "destination.strides[0]"));
}

THETA_CONFORMANCE_INSTANTIATE(CopyFillTest);

}  // namespace
}  // namespace theta::conformance
