// The elementwise interpreter on shapes, strides, broadcasting, in-place
// operands and random programs (against a scalar interpreter), and its
// argument checks.
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

const theta_dtype kAllDtypes[] = {THETA_DTYPE_F32, THETA_DTYPE_F64,
                                  THETA_DTYPE_I32, THETA_DTYPE_I64,
                                  THETA_DTYPE_U8,  THETA_DTYPE_BOOL};

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

TEST_P(ElementwiseTest, LargeOutputsAreStreamedExactly) {
  // Over 32 MB of output: written with non-temporal stores, from whatever
  // alignment the buffer has, with an odd tail; the inputs as large, so
  // prefetched a block ahead in the smaller blocks that go with that.
  const int64_t n = 9'000'001;
  const View v = Contiguous({n});
  CheckFma(this, {n}, v, v, v, v);
}

// y = ((x * p0 + p1) * p0 + p2 ...) over `count` distinct parameters, each
// PARAM instruction repeated: few parameters get blocks filled once per
// range, many are renamed like other registers; both must agree with the
// scalar interpreter, across several blocks and threads.
void CheckParams(ElementwiseTest* test, int count) {
  const int64_t n = 70001;
  const View v = Contiguous({n});
  Host x(THETA_DTYPE_F64, v), y(THETA_DTYPE_F64, v), want(THETA_DTYPE_F64, v);
  std::mt19937 gen(3);
  std::uniform_real_distribution<double> u(-1, 1);
  x.FillBits([&](int64_t) { return u(gen); });
  Program p{THETA_DTYPE_F64, 3, {Load(0, 0)}};
  std::vector<double> params;
  for (int k = 0; k < count; ++k) {
    params.push_back(0.5 + 0.125 * k);
    p.code.push_back(Param(1, 0));  // the first parameter, again
    p.code.push_back(Op(THETA_EW_MUL, 0, 0, 1));
    p.code.push_back(Param(2, static_cast<uint16_t>(k)));
    p.code.push_back(Op(THETA_EW_ADD, 0, 0, 2));
  }
  p.code.push_back(Store(0, 0));
  ASSERT_TRUE(IsOk(test->Run(p, {n}, {&x}, {&y}, params)));
  ElementwiseTest::Interpret<double>(p, n, {&x}, {&want}, params);
  EXPECT_EQ(y.bytes, want.bytes) << count << " parameters";
}

TEST_P(ElementwiseTest, ParametersFewAndMany) {
  CheckParams(this, 1);
  CheckParams(this, 8);
  CheckParams(this, 20);
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

TEST_P(ElementwiseTest, ReversedInputViews) {
  // Inputs running backwards along some dimensions (negative strides), mixed
  // with broadcast and contiguous ones; outputs are plain.
  const std::vector<int64_t> shape = {37, 29, 11};
  const View c = Contiguous(shape);
  View back = c;
  back.strides[0] = -back.strides[0];
  View all_back = c;
  for (int64_t& s : all_back.strides) s = -s;
  View bcast_back = Strided(shape, {0, -11, 1});
  CheckFma(this, shape, back, all_back, bcast_back, c);
  const std::vector<int64_t> line = {100003};
  CheckFma(this, line, Strided(line, {-1}), Strided(line, {-2}),
           Contiguous(line), Contiguous(line));
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
  bad = out;
  bad.strides = neg_stride;
  a = good;
  a.outputs = &bad;
  expect(a, {"output 0.strides[0] is -1"});
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
