// The elementwise interpreter against theta::ew::Apply / Convert
// (elementwise_semantics.h) and a scalar interpreter written here.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {
namespace {

using Instr = theta_ew_instr;

Instr Load(uint16_t dst, uint16_t input) {
  return {THETA_EW_LOAD, dst, input, 0, 0};
}
Instr Param(uint16_t dst, uint16_t p) { return {THETA_EW_PARAM, dst, p, 0, 0}; }
Instr Store(uint16_t output, uint16_t src) {
  return {THETA_EW_STORE, output, src, 0, 0};
}
Instr Op(int op, uint16_t dst, uint16_t a, uint16_t b = 0, uint16_t c = 0) {
  return {static_cast<uint16_t>(op), dst, a, b, c};
}

// A typed host array with a view; the operand points at it.
struct Host {
  theta_dtype dtype;
  View view;
  std::vector<uint8_t> bytes;

  Host(theta_dtype dt, View v) : dtype(dt), view(std::move(v)) {
    bytes.assign(static_cast<size_t>(view.Extent() * Size(dt)), 0);
  }
  static size_t Size(theta_dtype dt) {
    return dt == THETA_DTYPE_F64 || dt == THETA_DTYPE_I64   ? 8
           : dt == THETA_DTYPE_U8 || dt == THETA_DTYPE_BOOL ? 1
                                                            : 4;
  }
  theta_ew_operand Operand() {
    return {bytes.empty() ? nullptr : bytes.data(), dtype, view.strides.data()};
  }
  // Element at row-major position i, converted to T the way LOAD does.
  template <typename T>
  T Load(int64_t i) const {
    const uint8_t* p = bytes.data() + view.Offset(i) * Size(dtype);
    switch (dtype) {
      case THETA_DTYPE_F32:
        return ew::Convert<T>(Read<float>(p));
      case THETA_DTYPE_F64:
        return ew::Convert<T>(Read<double>(p));
      case THETA_DTYPE_I32:
        return ew::Convert<T>(Read<int32_t>(p));
      case THETA_DTYPE_I64:
        return ew::Convert<T>(Read<int64_t>(p));
      default:
        return ew::Convert<T>(Read<uint8_t>(p));
    }
  }
  // Stores x (compute type T) at position i the way STORE does.
  template <typename T>
  void Store(int64_t i, T x) {
    uint8_t* p = bytes.data() + view.Offset(i) * Size(dtype);
    switch (dtype) {
      case THETA_DTYPE_F32:
        return Write(p, ew::Convert<float>(x));
      case THETA_DTYPE_F64:
        return Write(p, ew::Convert<double>(x));
      case THETA_DTYPE_I32:
        return Write(p, ew::Convert<int32_t>(x));
      case THETA_DTYPE_I64:
        return Write(p, ew::Convert<int64_t>(x));
      case THETA_DTYPE_U8:
        return Write(p, ew::Convert<uint8_t>(x));
      case THETA_DTYPE_BOOL:
        return Write(p, ew::ConvertToBool(x));
    }
  }
  template <typename S>
  static S Read(const uint8_t* p) {
    S s;
    std::memcpy(&s, p, sizeof(S));
    return s;
  }
  template <typename S>
  static void Write(uint8_t* p, S s) {
    std::memcpy(p, &s, sizeof(S));
  }
  // Fills every element (by position) from f(i) stored as dtype D.
  template <typename F>
  void FillBits(F f) {
    for (int64_t i = 0; i < view.Count(); ++i) {
      uint8_t* p = bytes.data() + view.Offset(i) * Size(dtype);
      switch (dtype) {
        case THETA_DTYPE_F32:
          Write(p, static_cast<float>(f(i)));
          break;
        case THETA_DTYPE_F64:
          Write(p, static_cast<double>(f(i)));
          break;
        case THETA_DTYPE_I32:
          Write(p, ew::Convert<int32_t>(f(i)));
          break;
        case THETA_DTYPE_I64:
          Write(p, ew::Convert<int64_t>(f(i)));
          break;
        case THETA_DTYPE_U8:
          Write(p, ew::Convert<uint8_t>(f(i)));
          break;
        case THETA_DTYPE_BOOL:
          Write(p, ew::ConvertToBool(f(i)));
          break;
      }
    }
  }
};

struct Program {
  theta_dtype compute;
  uint32_t num_registers;
  std::vector<Instr> code;
};

class ElementwiseTest : public PluginTest {
 public:
  theta_status* Run(const Program& p, const std::vector<int64_t>& shape,
                    std::vector<Host*> inputs, std::vector<Host*> outputs,
                    const std::vector<double>& params = {}) {
    theta_ew_program prog{sizeof(theta_ew_program), p.compute, p.num_registers,
                          static_cast<uint32_t>(p.code.size()), p.code.data()};
    std::vector<theta_ew_operand> in, out;
    for (Host* h : inputs) in.push_back(h->Operand());
    for (Host* h : outputs) out.push_back(h->Operand());
    theta_elementwise_args args{};
    args.struct_size = sizeof(args);
    args.program = &prog;
    args.ndim = static_cast<int32_t>(shape.size());
    args.shape = shape.data();
    args.num_inputs = static_cast<int32_t>(in.size());
    args.inputs = in.data();
    args.num_outputs = static_cast<int32_t>(out.size());
    args.outputs = out.data();
    args.num_params = static_cast<int32_t>(params.size());
    args.params = params.data();
    return api().elementwise(stream_, &args);
  }

  // The scalar meaning of `p` at every position, written into `outputs`.
  template <typename T>
  static void Interpret(const Program& p, int64_t count,
                        const std::vector<Host*>& inputs,
                        const std::vector<Host*>& outputs,
                        const std::vector<double>& params) {
    std::vector<T> r(p.num_registers);
    for (int64_t e = 0; e < count; ++e) {
      for (const Instr& in : p.code) {
        switch (in.op) {
          case THETA_EW_LOAD:
            r[in.dst] = inputs[in.a]->Load<T>(e);
            break;
          case THETA_EW_PARAM:
            r[in.dst] = ew::Convert<T>(params[in.a]);
            break;
          case THETA_EW_STORE:
            outputs[in.dst]->Store<T>(e, r[in.a]);
            break;
          default:
            r[in.dst] = ew::Apply<T>(in.op, r[in.a], r[in.b], r[in.c]);
        }
      }
    }
  }
};

// ---- every opcode in every compute type against ew::Apply ----

const int kUnary[] = {
    THETA_EW_COPY,  THETA_EW_NEG,     THETA_EW_ABS,      THETA_EW_SIGN,
    THETA_EW_EXP,   THETA_EW_LOG,     THETA_EW_LOG1P,    THETA_EW_EXPM1,
    THETA_EW_SQRT,  THETA_EW_RSQRT,   THETA_EW_SQUARE,   THETA_EW_RECIPROCAL,
    THETA_EW_TANH,  THETA_EW_SIGMOID, THETA_EW_SOFTPLUS, THETA_EW_RELU,
    THETA_EW_SIN,   THETA_EW_COS,     THETA_EW_FLOOR,    THETA_EW_CEIL,
    THETA_EW_ROUND, THETA_EW_TRUNC,   THETA_EW_NOT,      THETA_EW_ERF,
    THETA_EW_ISNAN, THETA_EW_ISINF};
const int kBinary[] = {THETA_EW_ADD, THETA_EW_SUB,  THETA_EW_MUL, THETA_EW_DIV,
                       THETA_EW_MOD, THETA_EW_POW,  THETA_EW_MAX, THETA_EW_MIN,
                       THETA_EW_EQ,  THETA_EW_NE,   THETA_EW_LT,  THETA_EW_LE,
                       THETA_EW_GT,  THETA_EW_GE,   THETA_EW_AND, THETA_EW_OR,
                       THETA_EW_XOR, THETA_EW_ATAN2};
const int kTernary[] = {THETA_EW_SELECT, THETA_EW_CLIP};

bool IsTranscendental(int op) {
  switch (op) {
    case THETA_EW_EXP:
    case THETA_EW_LOG:
    case THETA_EW_LOG1P:
    case THETA_EW_EXPM1:
    case THETA_EW_TANH:
    case THETA_EW_SIGMOID:
    case THETA_EW_SOFTPLUS:
    case THETA_EW_SIN:
    case THETA_EW_COS:
    case THETA_EW_ERF:
      return true;
    default:
      return false;
  }
}

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

// Largest error (ulp) the vectorised transcendental functions may have.
// Measured over 75 million floats: tanh 5, erf 6, the others <= 2.
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
  std::vector<int> ops(std::begin(kBinary), std::end(kBinary));
  ops.insert(ops.end(), std::begin(kTernary), std::end(kTernary));
  ops.insert(ops.end(), std::begin(kUnary), std::end(kUnary));
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
const theta_dtype kComputeDtypes[] = {THETA_DTYPE_F32, THETA_DTYPE_F64,
                                      THETA_DTYPE_I32, THETA_DTYPE_I64};

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

// ---- shapes, strides and broadcasting ----

// out = a * b + c in F32 with operands of any views, against a loop.
void CheckFma(ElementwiseTest* test, const std::vector<int64_t>& shape,
              const View& va, const View& vb, const View& vc, const View& vo) {
  Host a(THETA_DTYPE_F32, va), b(THETA_DTYPE_F64, vb), c(THETA_DTYPE_I32, vc),
      out(THETA_DTYPE_F32, vo);
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> u(-4, 4);
  a.FillBits([&](int64_t) { return u(gen); });
  b.FillBits([&](int64_t) { return u(gen); });
  c.FillBits([&](int64_t) { return std::round(u(gen) * 10); });
  out.FillBits([](int64_t) { return -12345.0; });
  const std::vector<uint8_t> before = out.bytes;
  Program p{THETA_DTYPE_F32,
            3,
            {Load(0, 0), Load(1, 1), Op(THETA_EW_MUL, 0, 0, 1), Load(2, 2),
             Op(THETA_EW_ADD, 0, 0, 2), Store(0, 0)}};
  ASSERT_TRUE(IsOk(test->Run(p, shape, {&a, &b, &c}, {&out})));
  Host want(THETA_DTYPE_F32, vo);
  want.bytes = before;
  for (int64_t i = 0; i < vo.Count(); ++i) {
    want.Store<float>(i,
                      a.Load<float>(i) * b.Load<float>(i) + c.Load<float>(i));
  }
  EXPECT_EQ(out.bytes, want.bytes)
      << "shape " << shape.size() << "-d, " << vo.Count() << " elements";
}

TEST_P(ElementwiseTest, OneDimensionalSizesAcrossBlocksAndThreads) {
  for (int64_t n : {0, 1, 7, 1023, 1025, 2048, 2049, 100003}) {
    const View v = Contiguous({n});
    CheckFma(this, {n}, v, v, v, v);
  }
}

TEST_P(ElementwiseTest, ScalarRankZero) {
  const View s = Contiguous({});
  CheckFma(this, {}, s, s, s, s);
}

TEST_P(ElementwiseTest, BroadcastsWithZeroStrides) {
  const std::vector<int64_t> shape = {1000, 3};
  CheckFma(this, shape, Contiguous(shape), Strided(shape, {0, 1}),
           Strided(shape, {1, 0}), Contiguous(shape));
  // (100000, 3): a short inner dimension with a broadcast operand.
  const std::vector<int64_t> tall = {100000, 3};
  CheckFma(this, tall, Contiguous(tall), Strided(tall, {0, 1}),
           Strided(tall, {0, 0}), Contiguous(tall));
  // Size-1 dimensions with arbitrary strides, and a scalar operand.
  const std::vector<int64_t> ones = {1, 513, 1, 5};
  CheckFma(this, ones, Strided(ones, {999, 5, 777, 1}),
           Strided(ones, {0, 0, 3, 1}), Strided(ones, {0, 0, 0, 0}),
           Contiguous(ones));
}

TEST_P(ElementwiseTest, NonContiguousViews) {
  const std::vector<int64_t> shape = {37, 29, 11};
  CheckFma(this, shape, Transposed(shape), Spaced(shape, 2),
           Strided(shape, {1, 0, 37}), Transposed(shape));
  CheckFma(this, shape, Spaced(shape, 3), Contiguous(shape), Transposed(shape),
           Spaced(shape, 2));
  const std::vector<int64_t> wide = {3, 40000};
  CheckFma(this, wide, Transposed(wide), Spaced(wide, 2), Strided(wide, {1, 0}),
           Transposed(wide));
}

TEST_P(ElementwiseTest, EmptyIndexSpaceWritesNothing) {
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{0}, {5, 0}, {0, 7, 3}}) {
    Host out(THETA_DTYPE_F32, Contiguous(shape));
    Program p{THETA_DTYPE_F32, 1, {Param(0, 0), Store(0, 0)}};
    EXPECT_TRUE(IsOk(Run(p, shape, {}, {&out}, {1.0})));
    // Data pointers may be NULL when there are no elements.
    theta_ew_operand o{nullptr, THETA_DTYPE_F32, out.view.strides.data()};
    theta_ew_program prog{sizeof(theta_ew_program), THETA_DTYPE_F32, 1, 2,
                          p.code.data()};
    const double one = 1;
    theta_elementwise_args args{sizeof(args),
                                &prog,
                                static_cast<int32_t>(shape.size()),
                                shape.data(),
                                0,
                                nullptr,
                                1,
                                &o,
                                1,
                                &one};
    EXPECT_TRUE(IsOk(api().elementwise(stream_, &args)));
  }
}

// ---- in place ----

TEST_P(ElementwiseTest, InPlaceOutputIsTheInput) {
  for (const View& v :
       {Contiguous({100003}), Spaced({300, 301}, 2), Transposed({300, 301})}) {
    Host x(THETA_DTYPE_F64, v);
    x.FillBits([](int64_t i) { return std::sin(double(i)); });
    Host want = x;
    for (int64_t i = 0; i < v.Count(); ++i) {
      const double y = want.Load<double>(i);
      want.Store<double>(i, y * y - 1);
    }
    Program p{THETA_DTYPE_F64,
              2,
              {Load(0, 0), Op(THETA_EW_SQUARE, 0, 0), Param(1, 0),
               Op(THETA_EW_SUB, 0, 0, 1), Store(0, 0)}};
    ASSERT_TRUE(IsOk(Run(p, v.shape, {&x}, {&x}, {1.0})));
    EXPECT_EQ(x.bytes, want.bytes);
  }
}

TEST_P(ElementwiseTest, InPlaceLoadAfterStoreSeesTheStoredValue) {
  // Per element: out0 = in0 + 1 (in place), then out1 = in0 (the new value).
  const int64_t n = 5000;
  Host x(THETA_DTYPE_I64, Contiguous({n})), y(THETA_DTYPE_I64, Contiguous({n}));
  x.FillBits([](int64_t i) { return double(i); });
  Program p{THETA_DTYPE_I64,
            2,
            {Load(0, 0), Param(1, 0), Op(THETA_EW_ADD, 0, 0, 1), Store(0, 0),
             Load(1, 0), Store(1, 1)}};
  ASSERT_TRUE(IsOk(Run(p, {n}, {&x}, {&x, &y}, {1.0})));
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(x.Load<int64_t>(i), i + 1);
    ASSERT_EQ(y.Load<int64_t>(i), i + 1);
  }
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

// ---- random programs against the scalar interpreter ----

// Opcodes whose float results are exact (no transcendental functions).
const int kExactOps[] = {
    THETA_EW_COPY,  THETA_EW_NEG,    THETA_EW_ABS,   THETA_EW_SIGN,
    THETA_EW_SQRT,  THETA_EW_SQUARE, THETA_EW_RELU,  THETA_EW_FLOOR,
    THETA_EW_CEIL,  THETA_EW_ROUND,  THETA_EW_TRUNC, THETA_EW_NOT,
    THETA_EW_ISNAN, THETA_EW_ADD,    THETA_EW_SUB,   THETA_EW_MUL,
    THETA_EW_DIV,   THETA_EW_MOD,    THETA_EW_MAX,   THETA_EW_MIN,
    THETA_EW_EQ,    THETA_EW_LT,     THETA_EW_GE,    THETA_EW_AND,
    THETA_EW_XOR,   THETA_EW_SELECT, THETA_EW_CLIP};

Program RandomProgram(std::mt19937& gen, theta_dtype compute, int inputs,
                      int outputs, int params) {
  Program p{compute, static_cast<uint32_t>(6 + gen() % 10), {}};
  const uint32_t nr = p.num_registers;
  std::vector<uint16_t> written;
  auto any_written = [&] { return written[gen() % written.size()]; };
  auto write = [&](uint16_t r) {
    if (std::find(written.begin(), written.end(), r) == written.end()) {
      written.push_back(r);
    }
  };
  for (int i = 0; i < inputs; ++i) {
    const uint16_t r = gen() % nr;
    p.code.push_back(Load(r, static_cast<uint16_t>(i)));
    write(r);
  }
  const int steps = 5 + gen() % 25;
  for (int s = 0; s < steps; ++s) {
    const uint32_t kind = gen() % 10;
    const uint16_t dst = gen() % nr;
    if (kind == 0 && params > 0) {
      p.code.push_back(Param(dst, static_cast<uint16_t>(gen() % params)));
    } else if (kind == 1) {
      p.code.push_back(Load(dst, static_cast<uint16_t>(gen() % inputs)));
    } else if (kind == 2) {
      p.code.push_back(
          Store(static_cast<uint16_t>(gen() % outputs), any_written()));
      continue;
    } else {
      const int op = kExactOps[gen() % (sizeof(kExactOps) / sizeof(int))];
      p.code.push_back(
          Op(op, dst, any_written(), any_written(), any_written()));
    }
    write(dst);
  }
  for (int o = 0; o < outputs; ++o) {
    p.code.push_back(Store(static_cast<uint16_t>(o), any_written()));
  }
  return p;
}

template <typename T>
void CheckRandomPrograms(ElementwiseTest* test, theta_dtype compute,
                         uint32_t seed) {
  std::mt19937 gen(seed);
  const std::vector<std::vector<int64_t>> shapes = {
      {1}, {7}, {2049}, {17, 5}, {3, 1, 301}, {2, 3, 4, 5}};
  for (int trial = 0; trial < 40; ++trial) {
    const std::vector<int64_t> shape = shapes[trial % shapes.size()];
    const int n_in = 1 + gen() % 3, n_out = 1 + gen() % 2;
    std::vector<Host> ins, outs;
    ins.reserve(n_in);
    outs.reserve(n_out);
    for (int i = 0; i < n_in; ++i) {
      View v = Contiguous(shape);
      if (gen() % 3 == 0) v = Transposed(shape);
      if (gen() % 4 == 0) v.strides[gen() % shape.size()] = 0;  // broadcast
      ins.emplace_back(kAllDtypes[gen() % 6], v);
      std::uniform_real_distribution<double> u(-50, 50);
      ins.back().FillBits([&](int64_t) {
        const double x = u(gen);
        return gen() % 8 == 0 ? 0.0 : (gen() % 2 ? std::round(x) : x);
      });
    }
    for (int o = 0; o < n_out; ++o) {
      outs.emplace_back(kAllDtypes[gen() % 6],
                        gen() % 2 ? Contiguous(shape) : Spaced(shape, 2));
    }
    std::vector<double> params = {1.5, -3.0, 0.0};
    const Program p = RandomProgram(gen, compute, n_in, n_out, 3);
    std::vector<Host*> in_ptrs, out_ptrs;
    for (Host& h : ins) in_ptrs.push_back(&h);
    for (Host& h : outs) out_ptrs.push_back(&h);
    ASSERT_TRUE(IsOk(test->Run(p, shape, in_ptrs, out_ptrs, params)));
    std::vector<Host> want = outs;
    std::vector<Host*> want_ptrs;
    for (Host& h : want) {
      std::fill(h.bytes.begin(), h.bytes.end(), 0);
      want_ptrs.push_back(&h);
    }
    int64_t count = 1;
    for (int64_t s : shape) count *= s;
    ElementwiseTest::Interpret<T>(p, count, in_ptrs, want_ptrs, params);
    for (int o = 0; o < n_out; ++o) {
      // Compare elements (padding of spaced outputs stays as written).
      for (int64_t i = 0; i < count; ++i) {
        ASSERT_TRUE(SameValue(outs[o].Load<double>(i), want[o].Load<double>(i)))
            << "trial " << trial << " output " << o << " element " << i
            << " got " << outs[o].Load<double>(i) << " want "
            << want[o].Load<double>(i);
      }
    }
  }
}

TEST_P(ElementwiseTest, RandomProgramsMatchTheScalarInterpreter) {
  CheckRandomPrograms<float>(this, THETA_DTYPE_F32, 11);
  CheckRandomPrograms<double>(this, THETA_DTYPE_F64, 12);
  CheckRandomPrograms<int32_t>(this, THETA_DTYPE_I32, 13);
  CheckRandomPrograms<int64_t>(this, THETA_DTYPE_I64, 14);
}

TEST_P(ElementwiseTest, ManyRegistersShrinkTheBlocks) {
  // 400 live registers: a sum of 400 loads of the same input.
  const int64_t n = 5000;
  Host x(THETA_DTYPE_I32, Contiguous({n})),
      out(THETA_DTYPE_I32, Contiguous({n}));
  x.FillBits([](int64_t i) { return double(i % 97); });
  Program p{THETA_DTYPE_I32, 400, {}};
  for (uint16_t r = 0; r < 400; ++r) p.code.push_back(Load(r, 0));
  for (uint16_t r = 1; r < 400; ++r)
    p.code.push_back(Op(THETA_EW_ADD, 0, 0, r));
  p.code.push_back(Store(0, 0));
  ASSERT_TRUE(IsOk(Run(p, {n}, {&x}, {&out})));
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(out.Load<int32_t>(i), 400 * (i % 97));
}

// ---- invalid programs and arguments ----

TEST_P(ElementwiseTest, InvalidProgramsAreRejectedWithReasons) {
  Host x(THETA_DTYPE_F32, Contiguous({4})), y(THETA_DTYPE_F32, Contiguous({4}));
  struct Case {
    Program p;
    std::vector<std::string> parts;
  } cases[] = {
      {{THETA_DTYPE_U8, 1, {Load(0, 0), Store(0, 0)}}, {"compute dtype U8"}},
      {{THETA_DTYPE_F32, 1, {Load(0, 0), Op(99, 0, 0), Store(0, 0)}},
       {"instruction 1", "unknown opcode 99"}},
      {{THETA_DTYPE_F32,
        2,
        {Load(0, 0), Op(THETA_EW_ADD, 1, 0, 5), Store(0, 1)}},
       {"instruction 1 (ADD)", "register 5", "num_registers is 2"}},
      {{THETA_DTYPE_F32, 2, {Load(7, 0), Store(0, 0)}},
       {"instruction 0 (LOAD)", "writes register 7"}},
      {{THETA_DTYPE_F32, 2, {Load(0, 3), Store(0, 0)}},
       {"instruction 0 (LOAD)", "input 3", "num_inputs is 1"}},
      {{THETA_DTYPE_F32, 2, {Load(0, 0), Store(2, 0)}},
       {"instruction 1 (STORE)", "output 2", "num_outputs is 1"}},
      {{THETA_DTYPE_F32, 2, {Param(0, 0), Store(0, 0)}},
       {"instruction 0 (PARAM)", "param 0", "num_params is 0"}},
      {{THETA_DTYPE_F32,
        3,
        {Load(0, 0), Op(THETA_EW_MUL, 1, 0, 2), Store(0, 1)}},
       {"instruction 1 (MUL)", "reads register 2 before"}},
  };
  for (const Case& c : cases) {
    theta_status* s = Run(c.p, {4}, {&x}, {&y});
    std::initializer_list<std::string> parts;
    ASSERT_NE(s, nullptr);
    const std::string message = api().status_message(s);
    EXPECT_EQ(api().status_code(s), THETA_STATUS_INVALID_ARGUMENT) << message;
    EXPECT_EQ(message.rfind("elementwise: ", 0), 0u) << message;
    for (const std::string& part : c.parts) {
      EXPECT_NE(message.find(part), std::string::npos)
          << "\"" << message << "\" lacks \"" << part << "\"";
    }
    api().status_free(s);
  }
}

TEST_P(ElementwiseTest, InvalidArgumentsAreRejectedWithReasons) {
  Host x(THETA_DTYPE_F32, Contiguous({4})), y(THETA_DTYPE_F32, Contiguous({4}));
  const Program p{THETA_DTYPE_F32, 1, {Load(0, 0), Store(0, 0)}};
  theta_ew_program prog{sizeof(theta_ew_program), p.compute, 1, 2,
                        p.code.data()};
  const std::vector<int64_t> shape = {4};
  theta_ew_operand in = x.Operand(), out = y.Operand();
  const theta_elementwise_args good{sizeof(theta_elementwise_args),
                                    &prog,
                                    1,
                                    shape.data(),
                                    1,
                                    &in,
                                    1,
                                    &out,
                                    0,
                                    nullptr};
  EXPECT_TRUE(IsOk(api().elementwise(stream_, &good)));
  auto expect = [&](theta_elementwise_args a,
                    std::initializer_list<std::string> parts) {
    EXPECT_TRUE(IsError(api().elementwise(stream_, &a),
                        THETA_STATUS_INVALID_ARGUMENT, parts));
  };
  theta_elementwise_args a = good;
  a.program = nullptr;
  expect(a, {"elementwise: program is NULL"});
  theta_ew_program small = prog;
  small.struct_size = 4;
  a = good;
  a.program = &small;
  expect(a, {"program->struct_size is 4"});
  theta_ew_program no_code = prog;
  no_code.instrs = nullptr;
  a = good;
  a.program = &no_code;
  expect(a, {"2 instructions but instrs is NULL"});
  a = good;
  a.ndim = 9;
  expect(a, {"ndim is 9"});
  const int64_t negative[] = {-3};
  a = good;
  a.shape = negative;
  expect(a, {"shape[0] is -3"});
  a = good;
  a.inputs = nullptr;
  expect(a, {"inputs is NULL"});
  a = good;
  a.num_outputs = -1;
  expect(a, {"num_outputs is -1"});
  theta_ew_operand bad = in;
  bad.data = nullptr;
  a = good;
  a.inputs = &bad;
  expect(a, {"input 0 data is NULL"});
  bad = in;
  SetRawEnum(bad.dtype, 42);
  a = good;
  a.inputs = &bad;
  expect(a, {"input 0 has invalid dtype 42"});
  const int64_t neg_stride[] = {-1};
  bad = in;
  bad.strides = neg_stride;
  a = good;
  a.inputs = &bad;
  expect(a, {"input 0.strides[0] is -1"});
  const int64_t zero_stride[] = {0};
  bad = out;
  bad.strides = zero_stride;
  a = good;
  a.outputs = &bad;
  expect(a, {"output 0.strides[0] is 0", "must not broadcast"});
}

THETA_CPU_INSTANTIATE_THREADS(ElementwiseTest);

}  // namespace
}  // namespace theta::cpu::testing
