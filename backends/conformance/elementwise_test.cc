// The fused elementwise program against elementwise_semantics.h evaluated
// element by element: every opcode in F32 and F64 (and the integer compute
// types), broadcasting, strided and reversed views, sizes across block and
// thread boundaries, NaN and Inf, and an output aliasing its input.
#include <limits>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/conformance/conformance.h"
#include "backends/kernel_args.h"

namespace theta::conformance {
namespace {

theta_ew_instr I(int op, int dst, int a, int b = 0, int c = 0) {
  return {static_cast<uint16_t>(op), static_cast<uint16_t>(dst),
          static_cast<uint16_t>(a), static_cast<uint16_t>(b),
          static_cast<uint16_t>(c)};
}

class ElementwiseTest : public ConformanceTest {
 protected:
  // Runs `code` (compute type T, registers 0..3) over `shape` with inputs of
  // type T viewed through `views` (their buffers hold `data`), writing one
  // contiguous output of type T; returns the output.
  template <typename T>
  std::vector<T> Run(const std::vector<theta_ew_instr>& code,
                     const std::vector<int64_t>& shape,
                     const std::vector<View>& views,
                     const std::vector<std::vector<T>>& data,
                     const std::vector<double>& params = {}) {
    std::vector<DeviceArray> in;
    std::vector<theta_ew_operand> ops;
    for (size_t i = 0; i < views.size(); ++i) in.push_back(Upload(data[i]));
    for (size_t i = 0; i < views.size(); ++i) {
      ops.push_back(
          {in[i].Array(views[i]).data, DtypeOf<T>(), views[i].strides.data()});
    }
    const View out_view = Contiguous(shape);
    DeviceArray out =
        Upload(std::vector<T>(std::max<int64_t>(1, out_view.Count()), T(-7)));
    theta_ew_operand o{out.buffer.data(), DtypeOf<T>(),
                       out_view.strides.data()};
    const theta_ew_program program = backends::EwProgram(DtypeOf<T>(), 4, code);
    const theta_elementwise_args a =
        backends::ElementwiseArgs(program, shape, ops, {&o, 1}, params);
    EXPECT_TRUE(Ok(api().elementwise(stream(), &a)));
    std::vector<T> got = Download<T>(out, out_view.Count());
    return got;
  }

  // Every opcode of arity 1-3 over values with edge cases mixed in.
  template <typename T>
  void CheckEveryOpcode() {
    std::vector<T> x = Random<T>(1031, -3, 3, 11);
    std::vector<T> y = Random<T>(1031, -3, 3, 12);
    std::vector<T> z = Random<T>(1031, -3, 3, 13);
    if constexpr (std::is_floating_point_v<T>) {
      const T specials[] = {0,
                            -0.0,
                            1,
                            -1,
                            0.5,
                            -2.5,
                            1e-30,
                            88,
                            -100,
                            std::numeric_limits<T>::infinity(),
                            -std::numeric_limits<T>::infinity(),
                            std::numeric_limits<T>::quiet_NaN()};
      for (size_t i = 0; i < std::size(specials); ++i) {
        x[i] = specials[i];
        y[(i * 5) % std::size(specials)] = specials[i];
        z[i + 20] = specials[i];
      }
    } else {
      x[0] = 0;
      y[1] = 0;  // division and modulo by zero
    }
    const View v = Contiguous({1031});
    for (int op = 0; op < 100; ++op) {
      const int arity = ew::Arity(op);
      if (arity < 1 || op == THETA_EW_COPY) continue;
      if constexpr (!std::is_floating_point_v<T>) {
        if (op == THETA_EW_POW) continue;  // checked separately below
      }
      const std::vector<theta_ew_instr> code = {
          I(THETA_EW_LOAD, 0, 0), I(THETA_EW_LOAD, 1, 1),
          I(THETA_EW_LOAD, 2, 2), I(op, 3, 0, 1, 2), I(THETA_EW_STORE, 0, 3)};
      const std::vector<T> got = Run<T>(code, {1031}, {v, v, v}, {x, y, z});
      std::vector<double> want(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        want[i] = static_cast<double>(ew::Apply<T>(op, x[i], y[i], z[i]));
      }
      // Transcendentals may differ from the host's libm by a few ulp.
      const double tol = std::is_floating_point_v<T> ? 8 * Tolerance<T>() : 0;
      EXPECT_TRUE(AllClose(got, want, tol, tol * 1e-3)) << "opcode " << op;
    }
  }
  // out = a * b + 0.25 (a parameter) over views of any kind, against the
  // same formula on the host.
  template <typename T>
  void CheckViews(const std::vector<int64_t>& shape, const View& va,
                  const View& vb) {
    const auto a = Random<T>(std::max<int64_t>(1, va.Extent()), -2, 2, 21);
    const auto b = Random<T>(std::max<int64_t>(1, vb.Extent()), -2, 2, 22);
    const std::vector<T> got =
        Run<T>({I(THETA_EW_LOAD, 0, 0), I(THETA_EW_LOAD, 1, 1),
                I(THETA_EW_MUL, 0, 0, 1), I(THETA_EW_PARAM, 1, 0),
                I(THETA_EW_ADD, 0, 0, 1), I(THETA_EW_STORE, 0, 0)},
               shape, {va, vb}, {a, b}, {0.25});
    const View out = Contiguous(shape);
    std::vector<double> want(static_cast<size_t>(out.Count()));
    for (int64_t i = 0; i < out.Count(); ++i) {
      want[i] = static_cast<double>(
          static_cast<T>(a[va.Offset(i)] * b[vb.Offset(i)] + T(0.25)));
    }
    EXPECT_TRUE(AllClose(got, want, Tolerance<T>(), Tolerance<T>()))
        << shape.size() << "-d, " << out.Count() << " elements";
  }
};

TEST_P(ElementwiseTest, EveryOpcodeFloat32) { CheckEveryOpcode<float>(); }
TEST_P(ElementwiseTest, EveryOpcodeFloat64) { CheckEveryOpcode<double>(); }
TEST_P(ElementwiseTest, EveryOpcodeInt32) { CheckEveryOpcode<int32_t>(); }
TEST_P(ElementwiseTest, EveryOpcodeInt64) { CheckEveryOpcode<int64_t>(); }

TEST_P(ElementwiseTest, IntegerPowerWithSmallExponents) {
  const std::vector<int64_t> x = {2, -3, 0, 5, 7, 1}, y = {10, 3, 0, 1, 0, 62};
  const View v = Contiguous({6});
  const std::vector<int64_t> got =
      Run<int64_t>({I(THETA_EW_LOAD, 0, 0), I(THETA_EW_LOAD, 1, 1),
                    I(THETA_EW_POW, 0, 0, 1), I(THETA_EW_STORE, 0, 0)},
                   {6}, {v, v}, {x, y});
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(got[i], ew::Apply<int64_t>(THETA_EW_POW, x[i], y[i], 0)) << i;
  }
}

TEST_P(ElementwiseTest, SizesAcrossBlockAndThreadBoundaries) {
  for (int64_t n :
       {0, 1, 31, 32, 33, 255, 256, 257, 1023, 1025, 4097, 65537, 1000003}) {
    const View v = Contiguous({n});
    CheckViews<float>({n}, v, v);
  }
  CheckViews<double>({}, Contiguous({}), Contiguous({}));  // rank 0
}

TEST_P(ElementwiseTest, BroadcastingSizeOneAndScalars) {
  const std::vector<int64_t> shape = {37, 1, 29};
  CheckViews<float>(shape, Contiguous(shape), Strided(shape, {0, 0, 1}));
  CheckViews<double>(shape, Strided(shape, {1, 0, 0}),
                     Strided(shape, {0, 5, 0}));
  const std::vector<int64_t> tall = {100003, 3};
  CheckViews<float>(tall, Contiguous(tall), Strided(tall, {0, 1}));
  CheckViews<double>(tall, Strided(tall, {1, 0}), Strided(tall, {0, 0}));
  const std::vector<int64_t> empty = {4, 0, 3};
  CheckViews<float>(empty, Contiguous(empty), Strided(empty, {0, 0, 1}));
}

TEST_P(ElementwiseTest, NonContiguousAndReversedViews) {
  const std::vector<int64_t> shape = {33, 17, 9};
  CheckViews<float>(shape, Transposed(shape), Spaced(shape, 3));
  CheckViews<double>(shape, Strided(shape, {1, 33 * 9, 33}), Transposed(shape));
  View reversed = Contiguous(shape);
  for (int64_t& s : reversed.strides) s = -s;
  CheckViews<float>(shape, reversed, Contiguous(shape));
  CheckViews<double>(shape, Strided(shape, {-9 * 17, 9, -1}),
                     Strided(shape, {0, -1, 0}));
  CheckViews<float>({70001}, Strided({70001}, {-2}), Contiguous({70001}));
}

TEST_P(ElementwiseTest, NanAndInfPropagate) {
  const double inf = std::numeric_limits<double>::infinity(), nan = NAN;
  const std::vector<double> x = {nan, inf, -inf, 1, nan, 0};
  const std::vector<double> y = {1, 1, 1, nan, nan, 0};
  const View v = Contiguous({6});
  auto run = [&](int op) {
    return Run<double>({I(THETA_EW_LOAD, 0, 0), I(THETA_EW_LOAD, 1, 1),
                        I(op, 0, 0, 1), I(THETA_EW_STORE, 0, 0)},
                       {6}, {v, v}, {x, y});
  };
  EXPECT_TRUE(AllClose(run(THETA_EW_ADD), {nan, inf, -inf, nan, nan, 0}, 0, 0));
  EXPECT_TRUE(AllClose(run(THETA_EW_MAX), {nan, inf, 1, nan, nan, 0}, 0, 0));
  EXPECT_TRUE(AllClose(run(THETA_EW_MIN), {nan, 1, -inf, nan, nan, 0}, 0, 0));
  EXPECT_TRUE(
      AllClose(run(THETA_EW_DIV), {nan, inf, -inf, nan, nan, nan}, 0, 0));
}

TEST_P(ElementwiseTest, OutputMayBeTheInputArray) {
  // In place: y = exp(x) * 2 into x itself, with a strided view.
  const std::vector<int64_t> shape = {300, 40};
  const View v = Spaced(shape, 2);
  std::vector<float> x = Random<float>(v.Extent(), -1, 1, 31);
  DeviceArray buf = Upload(x);
  const theta_array arr = buf.Array(v);
  theta_ew_operand io{arr.data, THETA_DTYPE_F32, v.strides.data()};
  const std::vector<theta_ew_instr> code = {
      I(THETA_EW_LOAD, 0, 0), I(THETA_EW_EXP, 0, 0), I(THETA_EW_PARAM, 1, 0),
      I(THETA_EW_MUL, 0, 0, 1), I(THETA_EW_STORE, 0, 0)};
  const theta_ew_program program =
      backends::EwProgram(THETA_DTYPE_F32, 2, code);
  const double two = 2;
  const theta_elementwise_args a =
      backends::ElementwiseArgs(program, shape, {&io, 1}, {&io, 1}, {&two, 1});
  ASSERT_TRUE(Ok(api().elementwise(stream(), &a)));
  const std::vector<float> got = Download<float>(buf, x.size());
  std::vector<double> want(x.begin(), x.end());
  for (int64_t i = 0; i < v.Count(); ++i) {
    want[v.Offset(i)] = static_cast<double>(std::exp(x[v.Offset(i)]) * 2.0f);
  }
  EXPECT_TRUE(AllClose(got, want, 8 * Tolerance<float>(), 0));
}

// Subnormal numbers are neither flushed on output nor read as zero
// (elementwise_semantics.h, "Subnormal numbers"): y = x * 0.5 exactly.
TEST_P(ElementwiseTest, SubnormalsAreNotFlushed) {
  const std::vector<float> x = {1e-39f, -3e-40f,
                                std::numeric_limits<float>::denorm_min() * 2,
                                std::numeric_limits<float>::min()};
  DeviceArray dx = Upload(x), dy = Upload(std::vector<float>(x.size(), 7));
  const int64_t shape[] = {static_cast<int64_t>(x.size())}, one[] = {1};
  const theta_ew_operand in{dx.buffer.data(), THETA_DTYPE_F32, one};
  const theta_ew_operand out{dy.buffer.data(), THETA_DTYPE_F32, one};
  const std::vector<theta_ew_instr> code = {
      I(THETA_EW_LOAD, 0, 0), I(THETA_EW_PARAM, 1, 0), I(THETA_EW_MUL, 0, 0, 1),
      I(THETA_EW_STORE, 0, 0)};
  const theta_ew_program program =
      backends::EwProgram(THETA_DTYPE_F32, 2, code);
  const double half = 0.5;
  const theta_elementwise_args a = backends::ElementwiseArgs(
      program, shape, {&in, 1}, {&out, 1}, {&half, 1});
  ASSERT_TRUE(Ok(api().elementwise(stream(), &a)));
  const std::vector<float> got = Download<float>(dy, x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(got[i], x[i] * 0.5f) << "element " << i << " (" << x[i] << ")";
    EXPECT_NE(got[i], 0.0f) << "element " << i;
  }
}

TEST_P(ElementwiseTest, MixedDtypesConvertOnLoadAndStore) {
  // int32 and uint8 inputs, F64 compute, a BOOL and an I64 output.
  const std::vector<int32_t> a = {-3, 0, 7, 100000};
  const std::vector<uint8_t> b = {0, 1, 255, 2};
  DeviceArray da = Upload(a), db = Upload(b);
  db.dtype = THETA_DTYPE_U8;
  DeviceArray o1 = Upload(std::vector<uint8_t>(4, 9));
  DeviceArray o2 = Upload(std::vector<int64_t>(4, 9));
  const int64_t shape[] = {4}, one[] = {1};
  theta_ew_operand in[] = {{da.buffer.data(), THETA_DTYPE_I32, one},
                           {db.buffer.data(), THETA_DTYPE_U8, one}};
  theta_ew_operand out[] = {{o1.buffer.data(), THETA_DTYPE_BOOL, one},
                            {o2.buffer.data(), THETA_DTYPE_I64, one}};
  const std::vector<theta_ew_instr> code = {
      I(THETA_EW_LOAD, 0, 0), I(THETA_EW_LOAD, 1, 1), I(THETA_EW_MUL, 0, 0, 1),
      I(THETA_EW_STORE, 0, 0), I(THETA_EW_STORE, 1, 0)};
  const theta_ew_program program =
      backends::EwProgram(THETA_DTYPE_F64, 2, code);
  const theta_elementwise_args args =
      backends::ElementwiseArgs(program, shape, in, out);
  ASSERT_TRUE(Ok(api().elementwise(stream(), &args)));
  EXPECT_EQ(Download<uint8_t>(o1, 4), (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(Download<int64_t>(o2, 4),
            (std::vector<int64_t>{0, 0, 1785, 200000}));
}

TEST_P(ElementwiseTest, RejectsBadPrograms) {
  const int64_t shape[] = {4}, one[] = {1}, neg[] = {-1};
  DeviceArray x = Upload(std::vector<float>(4, 1));
  theta_ew_operand in{x.buffer.data(), THETA_DTYPE_F32, one};
  theta_ew_operand out{x.buffer.data(), THETA_DTYPE_F32, neg};
  const std::vector<theta_ew_instr> code = {I(THETA_EW_LOAD, 0, 0),
                                            I(THETA_EW_STORE, 0, 0)};
  theta_ew_program program = backends::EwProgram(THETA_DTYPE_F32, 1, code);
  const theta_elementwise_args a =
      backends::ElementwiseArgs(program, shape, {&in, 1}, {&out, 1});
  EXPECT_TRUE(Invalid(api().elementwise(stream(), &a), "output 0"));
  const std::vector<theta_ew_instr> bad = {I(THETA_EW_LOAD, 0, 5),
                                           I(THETA_EW_STORE, 0, 0)};
  program.instrs = bad.data();
  out.strides = one;
  EXPECT_TRUE(Invalid(api().elementwise(stream(), &a), "input"));
}

// Register fields are 16 bits: register 65535 works, and a program that
// claims more registers than they can name is refused (a compiler that
// wrapped register 65536 onto 0 computed wrong values without a word).
TEST_P(ElementwiseTest, RegistersUpToTheEncodingLimit) {
  const int64_t shape[] = {4}, one[] = {1};
  DeviceArray x = Upload(std::vector<float>{1, 2, 3, 4});
  DeviceArray y = Upload(std::vector<float>(4, 0));
  theta_ew_operand in{x.buffer.data(), THETA_DTYPE_F32, one};
  theta_ew_operand out{y.buffer.data(), THETA_DTYPE_F32, one};
  const int top = THETA_EW_MAX_REGISTERS - 1;
  const std::vector<theta_ew_instr> code = {
      I(THETA_EW_LOAD, top, 0), I(THETA_EW_LOAD, 0, 0),
      I(THETA_EW_ADD, top, top, 0), I(THETA_EW_STORE, 0, top)};
  theta_ew_program program =
      backends::EwProgram(THETA_DTYPE_F32, THETA_EW_MAX_REGISTERS, code);
  const theta_elementwise_args a =
      backends::ElementwiseArgs(program, shape, {&in, 1}, {&out, 1});
  ASSERT_TRUE(Ok(api().elementwise(stream(), &a)));
  EXPECT_EQ(Download<float>(y, 4), (std::vector<float>{2, 4, 6, 8}));
  program.num_registers = THETA_EW_MAX_REGISTERS + 1;
  EXPECT_TRUE(Invalid(api().elementwise(stream(), &a),
                      "program has 65537 registers; at most 65536 "
                      "(THETA_EW_MAX_REGISTERS)"));
}

THETA_CONFORMANCE_INSTANTIATE(ElementwiseTest);

}  // namespace
}  // namespace theta::conformance
