// copy (strided) and fill.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {
namespace {

class CopyFillTest : public PluginTest {
 protected:
  template <typename T>
  void CheckCopy(const View& src, const View& dst) {
    std::vector<T> s =
        Random<T>(std::max<int64_t>(src.Extent(), 1), -50, 50, 1);
    std::vector<T> d(std::max<int64_t>(dst.Extent(), 1) + 1, T(99));
    theta_copy_args a{};
    a.struct_size = sizeof(a);
    a.source = src.Array(s.data(), DtypeOf<T>());
    a.destination = dst.Array(d.data(), DtypeOf<T>());
    ASSERT_TRUE(IsOk(api().copy(stream_, &a)));
    std::vector<char> written(d.size(), 0);
    for (int64_t e = 0; e < src.Count(); ++e) {
      ASSERT_EQ(d[dst.Offset(e)], s[src.Offset(e)]) << "element " << e;
      written[dst.Offset(e)] = 1;
    }
    for (size_t i = 0; i < d.size(); ++i) {
      if (!written[i]) {
        ASSERT_EQ(d[i], T(99)) << "gap " << i << " was written";
      }
    }
  }
};

TEST_P(CopyFillTest, StridedCopiesOfEveryElementSize) {
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{1},
                                         {7},
                                         {1023},
                                         {1025},
                                         {100003},
                                         {37, 29},
                                         {5, 1, 7, 3},
                                         {100000, 3},
                                         {3, 100000}}) {
    CheckCopy<float>(Contiguous(shape), Contiguous(shape));  // memcpy
    CheckCopy<double>(Transposed(shape), Contiguous(shape));
    CheckCopy<uint8_t>(Contiguous(shape), Transposed(shape));
    CheckCopy<int32_t>(Spaced(shape, 2), Spaced(shape, 3));
    CheckCopy<int64_t>(Transposed(shape), Spaced(shape, 2));
  }
  // Transposes moved in tiles: batched, odd sizes, spaced sources.
  const std::vector<int64_t> batch = {4, 64, 48};
  CheckCopy<float>(Strided(batch, {64 * 48, 1, 64}), Contiguous(batch));
  CheckCopy<double>(Strided(batch, {1, 4 * 48, 4}), Spaced(batch, 2));
  CheckCopy<uint8_t>(Transposed({100, 70}), Contiguous({100, 70}));
  CheckCopy<int64_t>(Strided({100, 70}, {2, 200}), Contiguous({100, 70}));
  CheckCopy<float>(Transposed({2048, 33}), Contiguous({2048, 33}));
  // A broadcast source: every row gets the same values.
  CheckCopy<float>(Strided({300, 5}, {0, 1}), Contiguous({300, 5}));
  CheckCopy<double>(Strided({4, 5}, {1, 0}), Transposed({4, 5}));
}

// `v` with the dimensions in `flip` running backwards.
View Reversed(View v, std::initializer_list<int> flip) {
  for (int d : flip) v.strides[d] = -v.strides[d];
  return v;
}

TEST_P(CopyFillTest, ReversedSourcesAreReadBackwards) {
  CheckCopy<float>(Reversed(Contiguous({1025}), {0}), Contiguous({1025}));
  CheckCopy<double>(Reversed(Spaced({7}, 3), {0}), Contiguous({7}));
  const std::vector<int64_t> m = {64, 48};
  CheckCopy<int32_t>(Reversed(Contiguous(m), {0}), Contiguous(m));
  CheckCopy<int64_t>(Reversed(Contiguous(m), {1}), Contiguous(m));
  CheckCopy<uint8_t>(Reversed(Contiguous(m), {0, 1}), Spaced(m, 2));
  // Transposing copies (moved in tiles) of reversed sources.
  CheckCopy<float>(Reversed(Transposed(m), {0}), Contiguous(m));
  CheckCopy<double>(Reversed(Transposed(m), {1}), Contiguous(m));
  const std::vector<int64_t> batch = {3, 40, 36};
  CheckCopy<float>(Reversed(Strided(batch, {40 * 36, 1, 40}), {0, 2}),
                   Contiguous(batch));
  CheckCopy<float>(Reversed(Contiguous({100000, 3}), {0}),
                   Contiguous({100000, 3}));
}

TEST_P(CopyFillTest, LargeContiguousCopyIsExact) {
  CheckCopy<double>(Contiguous({1 << 20}), Contiguous({1 << 20}));
}

TEST_P(CopyFillTest, EmptyAndIdenticalCopiesAreNoOps) {
  const View empty = Contiguous({3, 0});
  theta_copy_args a{};
  a.struct_size = sizeof(a);
  a.source = empty.Array(nullptr, THETA_DTYPE_F32);
  a.destination = empty.Array(nullptr, THETA_DTYPE_F32);
  EXPECT_TRUE(IsOk(api().copy(stream_, &a)));
  std::vector<float> x = {1, 2, 3};
  const View v = Contiguous({3});
  a.source = v.Array(x.data(), THETA_DTYPE_F32);
  a.destination = v.Array(x.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsOk(api().copy(stream_, &a)));
  EXPECT_EQ(x, (std::vector<float>{1, 2, 3}));
}

TEST_P(CopyFillTest, CopyErrorsNameTheProblem) {
  std::vector<float> x(12), y(12);
  const View a34 = Contiguous({3, 4});
  const View a43 = Contiguous({4, 3});
  theta_copy_args a{};
  a.struct_size = sizeof(a);
  a.source = a34.Array(x.data(), THETA_DTYPE_F32);
  a.destination = a43.Array(y.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().copy(stream_, &a), THETA_STATUS_INVALID_ARGUMENT,
                      {"copy: source shape (3, 4) differs from destination "
                       "shape (4, 3)"}));
  a.destination = a34.Array(y.data(), THETA_DTYPE_I32);
  EXPECT_TRUE(IsError(api().copy(stream_, &a), THETA_STATUS_INVALID_ARGUMENT,
                      {"copy: source dtype F32 differs from destination "
                       "dtype I32"}));
  const View bcast = Strided({3, 4}, {0, 1});
  a.destination = bcast.Array(y.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().copy(stream_, &a), THETA_STATUS_INVALID_ARGUMENT,
                      {"copy: destination.strides[0] is 0"}));
  const View negative = Strided({3, 4}, {4, -1});
  a.destination = negative.Array(y.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().copy(stream_, &a), THETA_STATUS_INVALID_ARGUMENT,
                      {"copy: destination.strides[1] is -1"}));
  // Built by hand: a View would overflow finding element 0 of this one.
  const int64_t shape34[] = {3, 4}, min_stride[] = {INT64_MIN, 1};
  a.source = theta_array{x.data(), THETA_DTYPE_F32, 2, shape34, min_stride};
  a.destination = a34.Array(y.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().copy(stream_, &a), THETA_STATUS_INVALID_ARGUMENT,
                      {"copy: source.strides[0] is", "out of range"}));
  a.source = a34.Array(x.data(), THETA_DTYPE_F32);
  const View bad_shape = Strided({3, -4}, {4, 1});
  a.destination = bad_shape.Array(y.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().copy(stream_, &a), THETA_STATUS_INVALID_ARGUMENT,
                      {"copy: destination.shape[1] is -4"}));
  const View huge = Strided({int64_t{1} << 40, int64_t{1} << 40}, {1, 1});
  a.destination = huge.Array(y.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().copy(stream_, &a), THETA_STATUS_INVALID_ARGUMENT,
                      {"copy: destination of shape", "too large"}));
}

template <typename T>
std::vector<T> FillAndRead(theta_stream* stream, const View& v, double value,
                           theta_dtype dt = DtypeOf<T>()) {
  std::vector<T> d(std::max<int64_t>(v.Extent(), 1) + 1, T(7));
  const theta_array a = v.Array(d.data(), dt);
  EXPECT_TRUE(IsOk(api().fill(stream, &a, value)));
  return d;
}

TEST_P(CopyFillTest, FillConvertsTheValue) {
  const View v = Contiguous({1025});
  const double inf = std::numeric_limits<double>::infinity();
  for (double value :
       {0.0, 2.7, -2.7, 300.0, -1.0, 1e20, -1e20, std::nan(""), inf, -inf}) {
    const auto f = FillAndRead<float>(stream_, v, value);
    const auto d = FillAndRead<double>(stream_, v, value);
    const auto i = FillAndRead<int32_t>(stream_, v, value);
    const auto l = FillAndRead<int64_t>(stream_, v, value);
    const auto u = FillAndRead<uint8_t>(stream_, v, value);
    const auto b = FillAndRead<uint8_t>(stream_, v, value, THETA_DTYPE_BOOL);
    for (int64_t e = 0; e < v.Count(); ++e) {
      ASSERT_TRUE(SameValue(f[e], static_cast<float>(value)));
      ASSERT_TRUE(SameValue(d[e], value));
      ASSERT_EQ(i[e], ew::Convert<int32_t>(value)) << value;
      ASSERT_EQ(l[e], ew::Convert<int64_t>(value)) << value;
      ASSERT_EQ(u[e], ew::Convert<uint8_t>(value)) << value;
      ASSERT_EQ(b[e], ew::ConvertToBool(value)) << value;
    }
    EXPECT_EQ(i.back(), 7);  // one past the end is untouched
  }
}

TEST_P(CopyFillTest, FillStridedAndLarge) {
  for (const View& v :
       {Spaced({37, 29}, 2), Transposed({300, 301}), Contiguous({100003}),
        Contiguous({}), Contiguous({0, 5})}) {
    const auto d = FillAndRead<double>(stream_, v, 1.5);
    std::vector<char> written(d.size(), 0);
    for (int64_t e = 0; e < v.Count(); ++e) {
      ASSERT_EQ(d[v.Offset(e)], 1.5);
      written[v.Offset(e)] = 1;
    }
    for (size_t i = 0; i < d.size(); ++i) {
      if (!written[i]) {
        ASSERT_EQ(d[i], 7.0);
      }
    }
  }
  const View bcast = Strided({3, 4}, {4, 0});
  std::vector<float> x(12);
  const theta_array a = bcast.Array(x.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().fill(stream_, &a, 1.0),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"fill: array.strides[1] is 0"}));
  const View two = Contiguous({2});
  theta_array bad = two.Array(x.data(), THETA_DTYPE_F32);
  SetRawEnum(bad.dtype, 9);
  EXPECT_TRUE(IsError(api().fill(stream_, &bad, 1.0),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"fill: array has invalid dtype 9"}));
}

THETA_CPU_INSTANTIATE_THREADS(CopyFillTest);

}  // namespace
}  // namespace theta::cpu::testing
