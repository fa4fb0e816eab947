// gather and scatter_add against reference loops.
#include <gtest/gtest.h>

#include <vector>

#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {
namespace {

// Output shape of gather: source.shape[:axis] + indices.shape +
// source.shape[axis+1:].
std::vector<int64_t> GatherShape(const std::vector<int64_t>& src, int axis,
                                 const std::vector<int64_t>& idx) {
  std::vector<int64_t> s(src.begin(), src.begin() + axis);
  s.insert(s.end(), idx.begin(), idx.end());
  s.insert(s.end(), src.begin() + axis + 1, src.end());
  return s;
}

// For output position e (row-major over the gather output shape): the
// source position (row-major over the source shape).
class SourcePositions {
 public:
  SourcePositions(const std::vector<int64_t>& src, int axis,
                  const std::vector<int64_t>& idx_shape,
                  const std::vector<int64_t>& idx_values)
      : src_(src),
        axis_(axis),
        idx_shape_(idx_shape),
        values_(idx_values),
        out_(GatherShape(src, axis, idx_shape)) {}

  int64_t operator()(int64_t e) const {
    int64_t oi[2 * THETA_MAX_DIMS];
    for (int d = static_cast<int>(out_.size()) - 1; d >= 0; --d) {
      oi[d] = e % out_[d];
      e /= out_[d];
    }
    int64_t j = 0;
    for (size_t d = 0; d < idx_shape_.size(); ++d) {
      j = j * idx_shape_[d] + oi[axis_ + d];
    }
    int64_t v = values_[j];
    if (v < 0) v += src_[axis_];
    int64_t pos = 0;
    const int q = static_cast<int>(idx_shape_.size());
    for (int d = 0; d < static_cast<int>(src_.size()); ++d) {
      const int64_t i = d < axis_ ? oi[d] : d == axis_ ? v : oi[d - 1 + q];
      pos = pos * src_[d] + i;
    }
    return pos;
  }

 private:
  const std::vector<int64_t>& src_;
  int axis_;
  const std::vector<int64_t>& idx_shape_;
  const std::vector<int64_t>& values_;
  std::vector<int64_t> out_;
};

class GatherTest : public PluginTest {
 protected:
  template <typename T, typename I>
  void CheckGather(const View& src, int axis, const View& idx,
                   const std::vector<int64_t>& values, const View& out) {
    std::vector<T> s =
        Random<T>(std::max<int64_t>(src.Extent(), 1), -100, 100, 1);
    std::vector<I> ix(std::max<int64_t>(idx.Extent(), 1));
    for (int64_t j = 0; j < idx.Count(); ++j) {
      ix[idx.Offset(j)] = static_cast<I>(values[j]);
    }
    std::vector<T> o(std::max<int64_t>(out.Extent(), 1), T(-7));
    theta_gather_args a{};
    a.struct_size = sizeof(a);
    a.axis = axis;
    a.source = src.Array(s.data(), DtypeOf<T>());
    a.indices = idx.Array(ix.data(), DtypeOf<I>());
    a.output = out.Array(o.data(), DtypeOf<T>());
    ASSERT_TRUE(IsOk(api().gather(stream_, &a)));
    const SourcePositions position(src.shape, axis, idx.shape, values);
    for (int64_t e = 0; e < out.Count(); ++e) {
      const int64_t p = position(e);
      ASSERT_EQ(o[out.Offset(e)], s[src.Offset(p)]) << "element " << e;
    }
  }

  template <typename T, typename I>
  void CheckScatterAdd(const View& dst, int axis, const View& idx,
                       const std::vector<int64_t>& values, const View& src) {
    std::vector<T> d =
        Random<T>(std::max<int64_t>(dst.Extent(), 1), -100, 100, 2);
    std::vector<T> s =
        Random<T>(std::max<int64_t>(src.Extent(), 1), -100, 100, 3);
    std::vector<I> ix(std::max<int64_t>(idx.Extent(), 1));
    for (int64_t j = 0; j < idx.Count(); ++j) {
      ix[idx.Offset(j)] = static_cast<I>(values[j]);
    }
    std::vector<T> want = d;
    const SourcePositions position(dst.shape, axis, idx.shape, values);
    for (int64_t e = 0; e < src.Count(); ++e) {
      const int64_t p = position(e);
      T& w = want[dst.Offset(p)];
      w = static_cast<T>(w + s[src.Offset(e)]);
    }
    theta_gather_args a{};
    a.struct_size = sizeof(a);
    a.axis = axis;
    a.source = src.Array(s.data(), DtypeOf<T>());
    a.indices = idx.Array(ix.data(), DtypeOf<I>());
    a.output = dst.Array(d.data(), DtypeOf<T>());
    ASSERT_TRUE(IsOk(api().scatter_add(stream_, &a)));
    for (size_t i = 0; i < d.size(); ++i) {
      if constexpr (std::is_floating_point_v<T>) {
        ASSERT_NEAR(d[i], want[i], 1e-3) << "element " << i;
      } else {
        ASSERT_EQ(d[i], want[i]) << "element " << i;
      }
    }
  }
};

std::vector<int64_t> IndexValues(int64_t n, int64_t size, uint32_t seed) {
  return Random<int64_t>(n, -size, size - 1, seed);
}

TEST_P(GatherTest, EveryAxisOfAThreeDimensionalSource) {
  const std::vector<int64_t> src = {4, 5, 6};
  const std::vector<int64_t> idx = {2, 3};
  for (int axis = 0; axis < 3; ++axis) {
    const auto values = IndexValues(6, src[axis], 10 + axis);
    const auto out = GatherShape(src, axis, idx);
    CheckGather<float, int32_t>(Contiguous(src), axis, Contiguous(idx), values,
                                Contiguous(out));
    CheckGather<double, int64_t>(Transposed(src), axis, Spaced(idx, 2), values,
                                 Spaced(out, 3));
    CheckGather<int32_t, int64_t>(Spaced(src, 2), axis, Transposed(idx), values,
                                  Transposed(out));
    CheckGather<uint8_t, int32_t>(Contiguous(src), axis, Contiguous(idx),
                                  values, Spaced(out, 2));
    CheckGather<int64_t, int32_t>(Contiguous(src), axis, Contiguous({}),
                                  {values[0]},
                                  Contiguous(GatherShape(src, axis, {})));
  }
}

TEST_P(GatherTest, LargeGathersAcrossThreads) {
  // Embedding lookup: 30011 rows of 16 from a 1000 x 16 table.
  const std::vector<int64_t> table = {1000, 16};
  const auto values = IndexValues(30011, 1000, 4);
  CheckGather<float, int64_t>(Contiguous(table), 0, Contiguous({30011}), values,
                              Contiguous({30011, 16}));
  // Along the last axis: one element per row.
  CheckGather<float, int32_t>(Contiguous({300, 50}), 1, Contiguous({1025}),
                              IndexValues(1025, 50, 5),
                              Contiguous({300, 1025}));
}

TEST_P(GatherTest, EmptyIndicesAndEmptyOutputs) {
  CheckGather<float, int32_t>(Contiguous({4, 5}), 0, Contiguous({0}), {},
                              Contiguous({0, 5}));
  CheckGather<float, int32_t>(Contiguous({0, 5}), 1, Contiguous({2}), {1, -1},
                              Contiguous({0, 2}));
  CheckScatterAdd<float, int32_t>(Contiguous({4, 5}), 1, Contiguous({0}), {},
                                  Contiguous({4, 0}));
}

TEST_P(GatherTest, ScatterAddAccumulatesDuplicates) {
  const std::vector<int64_t> dst = {5, 4, 3};
  const std::vector<int64_t> idx = {7};
  const std::vector<int64_t> values = {1, 1, -4, 1, 0, 4, -1};  // duplicates
  for (int axis = 0; axis < 3; ++axis) {
    std::vector<int64_t> v = values;
    for (int64_t& x : v) x = x % dst[axis];
    const auto src = GatherShape(dst, axis, idx);
    CheckScatterAdd<double, int64_t>(Contiguous(dst), axis, Contiguous(idx), v,
                                     Contiguous(src));
    CheckScatterAdd<float, int32_t>(Transposed(dst), axis, Contiguous(idx), v,
                                    Spaced(src, 2));
    CheckScatterAdd<int32_t, int32_t>(Spaced(dst, 2), axis, Contiguous(idx), v,
                                      Transposed(src));
    CheckScatterAdd<int64_t, int64_t>(Contiguous(dst), axis, Contiguous(idx), v,
                                      Contiguous(src));
    CheckScatterAdd<uint8_t, int64_t>(Contiguous(dst), axis, Contiguous(idx), v,
                                      Contiguous(src));
  }
}

TEST_P(GatherTest, LargeScatterAddsAcrossThreads) {
  // Embedding gradient: 8000 rows of 64 into a 100 x 64 table (heavy
  // duplication), and a 1-D scatter with a long index list.
  CheckScatterAdd<double, int64_t>(
      Contiguous({100, 64}), 0, Contiguous({20000}), IndexValues(20000, 100, 6),
      Contiguous({20000, 64}));
  CheckScatterAdd<int64_t, int32_t>(Contiguous({10}), 0, Contiguous({100003}),
                                    IndexValues(100003, 10, 7),
                                    Contiguous({100003}));
  CheckScatterAdd<float, int32_t>(Contiguous({300, 20}), 1, Contiguous({9000}),
                                  IndexValues(9000, 20, 8),
                                  Contiguous({300, 9000}));
}

TEST_P(GatherTest, ErrorsNameTheProblem) {
  std::vector<float> src(20), out(20);
  std::vector<int32_t> idx = {0, 1, 2, 7};
  std::vector<int64_t> idx64 = {-6};
  const View vs = Contiguous({5, 4});
  const View vi = Contiguous({4});
  const View vo = Contiguous({4, 4});
  theta_gather_args good{};
  good.struct_size = sizeof(good);
  good.axis = 0;
  good.source = vs.Array(src.data(), THETA_DTYPE_F32);
  good.indices = vi.Array(idx.data(), THETA_DTYPE_I32);
  good.output = vo.Array(out.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().gather(stream_, &good),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"gather: index 7 out of range [-5, 5) at position 3"}));
  const View v1 = Contiguous({1});
  theta_gather_args a = good;
  a.indices = v1.Array(idx64.data(), THETA_DTYPE_I64);
  const View vo1 = Contiguous({1, 4});
  a.output = vo1.Array(out.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().gather(stream_, &a), THETA_STATUS_INVALID_ARGUMENT,
                      {"gather: index -6 out of range [-5, 5) at position 0"}));
  idx[3] = 4;
  ASSERT_TRUE(IsOk(api().gather(stream_, &good)));
  auto expect = [&](const theta_gather_args& g,
                    std::initializer_list<std::string> parts) {
    EXPECT_TRUE(IsError(api().gather(stream_, &g),
                        THETA_STATUS_INVALID_ARGUMENT, parts));
  };
  a = good;
  a.axis = 2;
  expect(a, {"gather: axis 2 out of range [0, 2)"});
  a = good;
  a.indices.dtype = THETA_DTYPE_F32;
  expect(a, {"gather: indices dtype F32 is not supported"});
  a = good;
  a.output.dtype = THETA_DTYPE_F64;
  expect(a, {"gather: output dtype F64 differs from source dtype F32"});
  a = good;
  a.output = vs.Array(out.data(), THETA_DTYPE_F32);
  expect(a, {"gather: output shape (5, 4), expected (4, 4)"});
  a = good;
  a.indices.data = nullptr;
  expect(a, {"gather: indices data is NULL"});

  // scatter_add: destination is args.output.
  theta_gather_args s{};
  s.struct_size = sizeof(s);
  s.axis = 0;
  s.source = vo.Array(src.data(), THETA_DTYPE_F32);
  s.indices = vi.Array(idx.data(), THETA_DTYPE_I32);
  s.output = vs.Array(out.data(), THETA_DTYPE_F32);
  ASSERT_TRUE(IsOk(api().scatter_add(stream_, &s)));
  idx[1] = -9;
  EXPECT_TRUE(
      IsError(api().scatter_add(stream_, &s), THETA_STATUS_INVALID_ARGUMENT,
              {"scatter_add: index -9 out of range [-5, 5) at position 1"}));
  idx[1] = 1;
  theta_gather_args b = s;
  b.source = vs.Array(src.data(), THETA_DTYPE_F32);
  EXPECT_TRUE(IsError(api().scatter_add(stream_, &b),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"scatter_add: source shape (5, 4), expected (4, 4)"}));
  b = s;
  b.source.dtype = b.output.dtype = THETA_DTYPE_BOOL;
  EXPECT_TRUE(IsError(api().scatter_add(stream_, &b),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"scatter_add: BOOL is not supported"}));
  const int64_t zero[] = {0, 1};
  b = s;
  b.output.strides = zero;
  EXPECT_TRUE(IsError(api().scatter_add(stream_, &b),
                      THETA_STATUS_INVALID_ARGUMENT,
                      {"scatter_add: destination.strides[0] is 0"}));
}

THETA_CPU_INSTANTIATE_THREADS(GatherTest);

}  // namespace
}  // namespace theta::cpu::testing
