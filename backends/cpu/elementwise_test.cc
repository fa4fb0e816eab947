// Every opcode in every compute type against theta::ew::Apply and the
// conversions against ew::Convert (elementwise_semantics.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/cpu/elementwise_test_util.h"
#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {
namespace {

// ---- every opcode in every compute type against ew::Apply ----

// Every computing opcode of the ABI's table, by arity (a new opcode is tested
// here without being listed).
std::vector<int> OpcodesOfArity(int arity) {
  std::vector<int> ops;
#define THETA_TEST_OPCODE(ID, VALUE, ARITY, KIND, NAME) \
  if (ARITY == arity) ops.push_back(THETA_EW_##ID);
  THETA_EW_COMPUTE_OPCODES(THETA_TEST_OPCODE)
#undef THETA_TEST_OPCODE
  return ops;
}
const std::vector<int> kUnary = OpcodesOfArity(1);
const std::vector<int> kBinary = OpcodesOfArity(2);
const std::vector<int> kTernary = OpcodesOfArity(3);

using ew::IsTranscendental;

// Test values: special ones first, then random ones of several scales.
template <typename T>
std::vector<T> Values(int64_t n, uint32_t seed) {
  std::vector<T> v;
  if constexpr (std::is_floating_point_v<T>) {
    using L = std::numeric_limits<T>;
    v = {L::quiet_NaN(), L::infinity(), -L::infinity(),  T(0),     -T(0),
         T(1),           T(-1),         T(0.5),          T(-0.5),  T(1.5),
         T(2.5),         T(-2.5),       L::denorm_min(), L::min(), L::max(),
         L::lowest(),    T(1e-30),      T(88.5),         T(-88.5), T(100),
         T(-100),        T(710),        T(-710),         T(1e6),   T(-1e6),
         T(3.14159265),  T(-0.999),     T(1e-5),         T(-1e-5), T(20),
         T(-20)};
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> unit(-1, 1);
    while (static_cast<int64_t>(v.size()) < n) {
      const size_t k = v.size() % 4;
      const double u = unit(gen);
      if (k == 0) v.push_back(T(u * 10));
      if (k == 1) v.push_back(T(u * 100));
      if (k == 2) v.push_back(T(u * 2));
      if (k == 3) v.push_back(T(std::copysign(std::pow(10.0, 6 * u), u)));
    }
  } else {
    using L = std::numeric_limits<T>;
    v = {T(0),
         T(1),
         T(-1),
         T(2),
         T(-2),
         L::max(),
         L::min(),
         T(L::max() - 1),
         T(L::min() + 1),
         T(63),
         T(64),
         T(-63),
         T(7),
         T(-7),
         T(3),
         T(-3)};
    std::mt19937_64 gen(seed);
    while (static_cast<int64_t>(v.size()) < n) {
      const uint64_t bits = gen();
      if (v.size() % 3 == 0) {
        v.push_back(static_cast<T>(bits));
      } else {
        v.push_back(static_cast<T>(static_cast<int64_t>(bits % 2001) - 1000));
      }
    }
  }
  v.resize(static_cast<size_t>(n));
  return v;
}

// Largest error (ulp) the vectorised transcendental functions may have,
// against the C library's values. Measured over 75 million floats: erf 6
// (Eigen's), the others <= 2. exp, log, tanh and sigmoid have tighter
// bounds against exact values (elementwise_semantics.h), which
// elementwise_ops_test asserts.
constexpr int64_t kMaxUlp = 8;

// Runs `op` over n values (special values first) in compute type T and
// compares with ew::Apply: exactly, or within kMaxUlp for transcendental
// float functions. Returns the largest ulp error seen.
template <typename T>
int64_t CheckOpcode(ElementwiseTest* test, int op, int arity) {
  const int64_t n = 3001;  // crosses the 2048-element register blocks
  const theta_dtype dt = DtypeOf<T>();
  const std::vector<T> va = Values<T>(n, 1), vb = Values<T>(n, 2),
                       vc = Values<T>(n, 3);
  Host a(dt, Contiguous({n})), b(dt, Contiguous({n})), c(dt, Contiguous({n})),
      out(dt, Contiguous({n}));
  for (int64_t i = 0; i < n; ++i) {
    // The operands meet each special value paired with other ones.
    const T x = va[i], y = vb[(i * 7) % n], z = vc[(i * 13) % n];
    std::memcpy(a.bytes.data() + i * sizeof(T), &x, sizeof(T));
    std::memcpy(b.bytes.data() + i * sizeof(T), &y, sizeof(T));
    std::memcpy(c.bytes.data() + i * sizeof(T), &z, sizeof(T));
  }
  Program p{dt, 4, {Load(0, 0), Load(1, 1), Load(2, 2)}};
  p.code.push_back(Op(op, 3, 0, arity >= 2 ? 1 : 0, arity >= 3 ? 2 : 0));
  p.code.push_back(Store(0, 3));
  EXPECT_TRUE(IsOk(test->Run(p, {n}, {&a, &b, &c}, {&out})));
  int64_t worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T x = a.Load<T>(i), y = b.Load<T>(i), z = c.Load<T>(i);
    const T want = ew::Apply<T>(op, x, y, z);
    const T got = out.Load<T>(i);
    if constexpr (std::is_floating_point_v<T>) {
      if (!IsTranscendental(op)) {
        EXPECT_TRUE(SameValue(got, want))
            << "op " << op << " i " << i << " x " << x << " y " << y << " z "
            << z << " got " << got << " want " << want;
        continue;
      }
      // Results below the smallest normal are compared absolutely.
      if (std::fabs(got - want) <= std::numeric_limits<T>::min()) continue;
      const int64_t ulp = UlpDistance(got, want);
      worst = std::max(worst, ulp);
      EXPECT_LE(ulp, kMaxUlp)
          << "op " << op << " x " << x << " got " << got << " want " << want;
    } else {
      EXPECT_EQ(got, want) << "op " << op << " i " << i << " x " << x << " y "
                           << y << " z " << z;
    }
    if (::testing::Test::HasFailure()) return worst;
  }
  return worst;
}

template <typename T>
void CheckAllOpcodes(ElementwiseTest* test) {
  for (int op : kUnary) {
    const int64_t worst = CheckOpcode<T>(test, op, 1);
    if (worst > 0) {
      std::printf("op %d (%s): max %lld ulp\n", op,
                  sizeof(T) == 4 ? "F32" : "F64",
                  static_cast<long long>(worst));
    }
  }
  for (int op : kBinary) CheckOpcode<T>(test, op, 2);
  for (int op : kTernary) CheckOpcode<T>(test, op, 3);
}

TEST_P(ElementwiseTest, EveryOpcodeMatchesReferenceF32) {
  CheckAllOpcodes<float>(this);
}
TEST_P(ElementwiseTest, EveryOpcodeMatchesReferenceF64) {
  CheckAllOpcodes<double>(this);
}
TEST_P(ElementwiseTest, EveryOpcodeMatchesReferenceI32) {
  CheckAllOpcodes<int32_t>(this);
}
TEST_P(ElementwiseTest, EveryOpcodeMatchesReferenceI64) {
  CheckAllOpcodes<int64_t>(this);
}

TEST_P(ElementwiseTest, ParamsConvertToTheComputeType) {
  Host out_i(THETA_DTYPE_I32, Contiguous({3}));
  Host out_f(THETA_DTYPE_F64, Contiguous({3}));
  const std::vector<double> params = {2.7, -2.7, std::nan("")};
  for (int k = 0; k < 3; ++k) {
    Program pi{
        THETA_DTYPE_I32, 1, {Param(0, static_cast<uint16_t>(k)), Store(0, 0)}};
    Host o(THETA_DTYPE_I32, Contiguous({1}));
    ASSERT_TRUE(IsOk(Run(pi, {1}, {}, {&o}, params)));
    EXPECT_EQ(o.Load<int32_t>(0), ew::Convert<int32_t>(params[k]));
  }
  Program pf{
      THETA_DTYPE_F64,
      2,
      {Param(0, 0), Param(1, 1), Op(THETA_EW_ADD, 0, 0, 1), Store(0, 0)}};
  ASSERT_TRUE(IsOk(Run(pf, {3}, {}, {&out_f}, params)));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(out_f.Load<double>(i), 2.7 + -2.7);
}

// Every pair (binary ops) and triple (ternary ops) of special values, in
// the vectorised paths and in the scalar tails, bit for bit.
template <typename T>
void CheckSpecialCombinations(ElementwiseTest* test) {
  using L = std::numeric_limits<T>;
  const std::vector<T> specials = {
      L::quiet_NaN(), L::infinity(), -L::infinity(),  T(0),    -T(0), T(1),
      T(-1),          T(2.5),        L::denorm_min(), L::max()};
  const int64_t k = static_cast<int64_t>(specials.size());
  const int64_t n = k * k * k;
  const theta_dtype dt = DtypeOf<T>();
  Host a(dt, Contiguous({n})), b(dt, Contiguous({n})), c(dt, Contiguous({n})),
      out(dt, Contiguous({n}));
  a.FillBits([&](int64_t i) { return double(specials[i % k]); });
  b.FillBits([&](int64_t i) { return double(specials[(i / k) % k]); });
  c.FillBits([&](int64_t i) { return double(specials[i / (k * k)]); });
  std::vector<int> ops = kBinary;
  ops.insert(ops.end(), kTernary.begin(), kTernary.end());
  ops.insert(ops.end(), kUnary.begin(), kUnary.end());
  for (int op : ops) {
    if (IsTranscendental(op)) continue;
    Program p{
        dt,
        4,
        {Load(0, 0), Load(1, 1), Load(2, 2), Op(op, 3, 0, 1, 2), Store(0, 3)}};
    ASSERT_TRUE(IsOk(test->Run(p, {n}, {&a, &b, &c}, {&out})));
    for (int64_t i = 0; i < n; ++i) {
      const T x = a.Load<T>(i), y = b.Load<T>(i), z = c.Load<T>(i);
      const T want = ew::Apply<T>(op, x, y, z);
      ASSERT_TRUE(SameValue(out.Load<T>(i), want))
          << "op " << op << " x " << x << " y " << y << " z " << z << " got "
          << out.Load<T>(i) << " want " << want;
    }
  }
}

TEST_P(ElementwiseTest, SpecialValueCombinationsBitForBit) {
  CheckSpecialCombinations<float>(this);
  CheckSpecialCombinations<double>(this);
}

// ---- conversions on load and store ----

const theta_dtype kAllDtypes[] = {THETA_DTYPE_F32, THETA_DTYPE_F64,
                                  THETA_DTYPE_I32, THETA_DTYPE_I64,
                                  THETA_DTYPE_U8,  THETA_DTYPE_BOOL};
// Source values that exercise truncation, saturation, NaN and wrapping.
double SourceValue(int64_t i) {
  static const double kValues[] = {0.0,   1.0,      -1.0,      2.7,   -2.7,
                                   255.9, 256.0,    -0.5,      1e10,  -1e10,
                                   3e9,   -3e9,     1e19,      -1e19, 1e300,
                                   NAN,   INFINITY, -INFINITY, 127.5, 1.0 / 3};
  constexpr int64_t n = sizeof(kValues) / sizeof(kValues[0]);
  return kValues[i % n] * (i < n ? 1 : 1 + (i / n) % 3);
}

template <typename T>
void CheckConversions(ElementwiseTest* test, theta_dtype compute) {
  const int64_t n = 100;
  for (theta_dtype src : kAllDtypes) {
    for (theta_dtype dst : kAllDtypes) {
      Host in(src, Contiguous({n}));
      in.FillBits(SourceValue);
      Host out(dst, Contiguous({n})), want(dst, Contiguous({n}));
      Program p{compute, 1, {Load(0, 0), Store(0, 0)}};
      ASSERT_TRUE(IsOk(test->Run(p, {n}, {&in}, {&out})));
      for (int64_t i = 0; i < n; ++i) want.Store<T>(i, in.Load<T>(i));
      EXPECT_EQ(out.bytes, want.bytes)
          << "compute " << compute << " from " << src << " to " << dst;
    }
  }
}

TEST_P(ElementwiseTest, LoadsAndStoresConvertLikeTheReference) {
  CheckConversions<float>(this, THETA_DTYPE_F32);
  CheckConversions<double>(this, THETA_DTYPE_F64);
  CheckConversions<int32_t>(this, THETA_DTYPE_I32);
  CheckConversions<int64_t>(this, THETA_DTYPE_I64);
}

// ---- NaN and Inf ----

TEST_P(ElementwiseTest, NanAndInfPropagate) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    int op;
    float a, b, c;
    float want;  // NaN: expect NaN
  } cases[] = {
      {THETA_EW_MAX, nan, 1, 0, nan},     {THETA_EW_MAX, 1, nan, 0, nan},
      {THETA_EW_MIN, nan, 1, 0, nan},     {THETA_EW_MIN, -inf, nan, 0, nan},
      {THETA_EW_RELU, nan, 0, 0, nan},    {THETA_EW_CLIP, nan, 0, 1, nan},
      {THETA_EW_CLIP, inf, 0, 1, 1},      {THETA_EW_EXP, -inf, 0, 0, 0},
      {THETA_EW_EXP, inf, 0, 0, inf},     {THETA_EW_EXP, 100, 0, 0, inf},
      {THETA_EW_EXP, nan, 0, 0, nan},     {THETA_EW_LOG, 0, 0, 0, -inf},
      {THETA_EW_LOG, -1, 0, 0, nan},      {THETA_EW_LOG, inf, 0, 0, inf},
      {THETA_EW_SIGMOID, -inf, 0, 0, 0},  {THETA_EW_SIGMOID, inf, 0, 0, 1},
      {THETA_EW_SIGMOID, nan, 0, 0, nan}, {THETA_EW_SOFTPLUS, inf, 0, 0, inf},
      {THETA_EW_SOFTPLUS, -inf, 0, 0, 0}, {THETA_EW_TANH, nan, 0, 0, nan},
      {THETA_EW_TANH, -inf, 0, 0, -1},    {THETA_EW_ADD, inf, -inf, 0, nan},
      {THETA_EW_SIGN, nan, 0, 0, nan},    {THETA_EW_EXPM1, -inf, 0, 0, -1},
      {THETA_EW_LOG1P, -1, 0, 0, -inf},   {THETA_EW_ISNAN, nan, 0, 0, 1},
      {THETA_EW_ISINF, -inf, 0, 0, 1},    {THETA_EW_SELECT, nan, 2, 3, 2},
  };
  for (const Case& c : cases) {
    const int64_t n = 37;  // more than one vector
    Host a(THETA_DTYPE_F32, Contiguous({n})),
        b(THETA_DTYPE_F32, Contiguous({n})),
        cc(THETA_DTYPE_F32, Contiguous({n})),
        out(THETA_DTYPE_F32, Contiguous({n}));
    a.FillBits([&](int64_t) { return c.a; });
    b.FillBits([&](int64_t) { return c.b; });
    cc.FillBits([&](int64_t) { return c.c; });
    Program p{THETA_DTYPE_F32,
              4,
              {Load(0, 0), Load(1, 1), Load(2, 2), Op(c.op, 3, 0, 1, 2),
               Store(0, 3)}};
    ASSERT_TRUE(IsOk(Run(p, {n}, {&a, &b, &cc}, {&out})));
    for (int64_t i = 0; i < n; ++i) {
      const float got = out.Load<float>(i);
      if (std::isnan(c.want)) {
        EXPECT_TRUE(std::isnan(got)) << "op " << c.op << " a " << c.a;
      } else {
        EXPECT_EQ(got, c.want) << "op " << c.op << " a " << c.a;
      }
    }
  }
}

THETA_CPU_INSTANTIATE_THREADS(ElementwiseTest);

}  // namespace
}  // namespace theta::cpu::testing
