// Helpers for the elementwise tests: instruction builders, typed host
// arrays that load and store like the plugin (ew::Convert), and a fixture
// that runs a program and interprets it element by element.
//
//   Program p{THETA_DTYPE_F32, 2, {Load(0, 0), Op(THETA_EW_EXP, 1, 0),
//                                  Store(0, 1)}};
//   EXPECT_TRUE(IsOk(Run(p, {n}, {&x}, {&y})));
#ifndef THETA_BACKENDS_CPU_ELEMENTWISE_TEST_UTIL_H_
#define THETA_BACKENDS_CPU_ELEMENTWISE_TEST_UTIL_H_

#include <cstring>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/cpu/test_util.h"

namespace theta::cpu::testing {

using Instr = theta_ew_instr;

inline Instr Load(uint16_t dst, uint16_t input) {
  return {THETA_EW_LOAD, dst, input, 0, 0};
}
inline Instr Param(uint16_t dst, uint16_t p) {
  return {THETA_EW_PARAM, dst, p, 0, 0};
}
inline Instr Store(uint16_t output, uint16_t src) {
  return {THETA_EW_STORE, output, src, 0, 0};
}
inline Instr Op(int op, uint16_t dst, uint16_t a, uint16_t b = 0,
                uint16_t c = 0) {
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
    return {bytes.empty() ? nullptr : bytes.data() + view.First() * Size(dtype),
            dtype, view.strides.data()};
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

}  // namespace theta::cpu::testing

#endif  // THETA_BACKENDS_CPU_ELEMENTWISE_TEST_UTIL_H_
