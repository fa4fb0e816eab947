#include "backends/cuda/ew_codegen.h"

#include <cstdio>
#include <cstring>

#include "backends/api/elementwise_semantics.h"
#include "backends/cuda/status.h"

namespace theta::cuda {
namespace {

// The parts of the standard library elementwise_semantics.h uses, for
// NVRTC, which has no standard headers: its math functions exist as global
// device overloads; int64_t is long (LP64) in the embedded stdint.h.
constexpr const char kPrelude[] = R"(#include <stdint.h>
namespace std {
using ::atan2;
using ::ceil;
using ::cos;
using ::erf;
using ::exp;
using ::expm1;
using ::fabs;
using ::floor;
using ::fmod;
using ::log;
using ::log1p;
using ::pow;
using ::rint;
using ::sin;
using ::sqrt;
using ::tanh;
using ::trunc;
template <class T>
struct make_unsigned;
template <>
struct make_unsigned<int> {
  typedef unsigned int type;
};
template <>
struct make_unsigned<long> {
  typedef unsigned long type;
};
template <class T>
struct numeric_limits;
#define THETA_EW_LIMITS(T, LOWEST, MAX)                                    \
  template <>                                                              \
  struct numeric_limits<T> {                                               \
    __host__ __device__ static constexpr T lowest() { return LOWEST; }     \
    __host__ __device__ static constexpr T max() { return MAX; }           \
  };
THETA_EW_LIMITS(int, -2147483647 - 1, 2147483647)
THETA_EW_LIMITS(long, -9223372036854775807L - 1, 9223372036854775807L)
THETA_EW_LIMITS(unsigned char, 0, 255)
#undef THETA_EW_LIMITS
}  // namespace std
#include "backends/api/elementwise_semantics.h"
// A program may write registers it never reads again (dead code the
// compiler drops): no warnings for those.
#pragma nv_diag_suppress 177
#pragma nv_diag_suppress 550
)";

uint64_t Fnv1a(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

template <typename T>
void Append(std::string* key, const T& value) {
  key->append(reinterpret_cast<const char*>(&value), sizeof(value));
}

}  // namespace

const char* EwTypeName(theta_dtype dtype) {
  switch (dtype) {
    case THETA_DTYPE_F32:
      return "float";
    case THETA_DTYPE_F64:
      return "double";
    case THETA_DTYPE_I32:
      return "int";
    case THETA_DTYPE_I64:
      return "long";
    case THETA_DTYPE_U8:
    case THETA_DTYPE_BOOL:
      return "unsigned char";
  }
  return "void";
}

const char* EwOpcodeName(int op) {
  switch (op) {
#define THETA_EW_NAME(NAME) \
  case THETA_EW_##NAME:     \
    return #NAME;
    THETA_EW_NAME(LOAD)
    THETA_EW_NAME(PARAM)
    THETA_EW_NAME(STORE)
    THETA_EW_NAME(COPY)
    THETA_EW_NAME(NEG)
    THETA_EW_NAME(ABS)
    THETA_EW_NAME(SIGN)
    THETA_EW_NAME(EXP)
    THETA_EW_NAME(LOG)
    THETA_EW_NAME(LOG1P)
    THETA_EW_NAME(EXPM1)
    THETA_EW_NAME(SQRT)
    THETA_EW_NAME(RSQRT)
    THETA_EW_NAME(SQUARE)
    THETA_EW_NAME(RECIPROCAL)
    THETA_EW_NAME(TANH)
    THETA_EW_NAME(SIGMOID)
    THETA_EW_NAME(SOFTPLUS)
    THETA_EW_NAME(RELU)
    THETA_EW_NAME(SIN)
    THETA_EW_NAME(COS)
    THETA_EW_NAME(FLOOR)
    THETA_EW_NAME(CEIL)
    THETA_EW_NAME(ROUND)
    THETA_EW_NAME(TRUNC)
    THETA_EW_NAME(NOT)
    THETA_EW_NAME(ERF)
    THETA_EW_NAME(ISNAN)
    THETA_EW_NAME(ISINF)
    THETA_EW_NAME(ADD)
    THETA_EW_NAME(SUB)
    THETA_EW_NAME(MUL)
    THETA_EW_NAME(DIV)
    THETA_EW_NAME(MOD)
    THETA_EW_NAME(POW)
    THETA_EW_NAME(MAX)
    THETA_EW_NAME(MIN)
    THETA_EW_NAME(EQ)
    THETA_EW_NAME(NE)
    THETA_EW_NAME(LT)
    THETA_EW_NAME(LE)
    THETA_EW_NAME(GT)
    THETA_EW_NAME(GE)
    THETA_EW_NAME(AND)
    THETA_EW_NAME(OR)
    THETA_EW_NAME(XOR)
    THETA_EW_NAME(ATAN2)
    THETA_EW_NAME(SELECT)
    THETA_EW_NAME(CLIP)
#undef THETA_EW_NAME
    default:
      return nullptr;
  }
}

std::string EwKernelSpec::Key() const {
  std::string key;
  WriteKey(&key);
  return key;
}

void EwKernelSpec::WriteKey(std::string* key) const {
  key->clear();
  key->reserve(32 + instrs.size() * sizeof(theta_ew_instr) + inputs.size() +
               outputs.size());
  Append(key, static_cast<int32_t>(compute));
  Append(key, num_registers);
  Append(key, static_cast<int32_t>(rank));
  Append(key, static_cast<uint8_t>(index64));
  Append(key, static_cast<int32_t>(num_params));
  Append(key, static_cast<uint32_t>(inputs.size()));
  for (theta_dtype d : inputs) Append(key, static_cast<uint8_t>(d));
  Append(key, static_cast<uint32_t>(outputs.size()));
  for (theta_dtype d : outputs) Append(key, static_cast<uint8_t>(d));
  Append(key, static_cast<uint32_t>(instrs.size()));
  for (const theta_ew_instr& in : instrs) {
    Append(key, in.op);
    Append(key, in.dst);
    Append(key, in.a);
    Append(key, in.b);
    Append(key, in.c);
  }
}

std::string EwKernelName(const EwKernelSpec& spec) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(Fnv1a(spec.Key())));
  return std::string("theta_ew_") + hex;
}

std::string GenerateEwSource(const EwKernelSpec& spec,
                             const std::string& name) {
  const char* idx = spec.index64 ? "long" : "int";
  const std::string t = EwTypeName(spec.compute);
  const int rank = spec.rank;
  std::string s;
  s.reserve(4096 + 96 * spec.instrs.size());
  s += "// Generated by the Theta CUDA plugin from an elementwise program.\n";
  s += kPrelude;
  s += StrCat("\nnamespace {\ntypedef ", idx, " Idx;\n",
              "struct Dims {\n  Idx v[", rank, "];\n};\n");
  if (spec.num_params > 0) {
    s += StrCat("struct Params {\n  double v[", spec.num_params, "];\n};\n");
  }
  s += "}  // namespace\n\n";

  // Signature.
  s += StrCat("extern \"C\" __global__ void __launch_bounds__(256)\n", name,
              "(Idx count, Dims shape");
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    s += StrCat(",\n    const ", EwTypeName(spec.inputs[i]), "* in", i,
                ", Dims s_in", i);
  }
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    s += StrCat(",\n    ", EwTypeName(spec.outputs[i]), "* out", i,
                ", Dims s_out", i);
  }
  if (spec.num_params > 0) s += ",\n    Params params";
  s += ") {\n";

  // Grid-stride loop and offsets, innermost dimension first.
  s += "  const Idx step = (Idx)gridDim.x * (Idx)blockDim.x;\n";
  s += "  for (Idx i = (Idx)blockIdx.x * (Idx)blockDim.x + (Idx)threadIdx.x;"
       " i < count; i += step) {\n";
  s += "    Idx rem = i;\n";
  for (size_t k = 0; k < spec.inputs.size(); ++k) {
    s += StrCat("    Idx o_in", k, " = 0;\n");
  }
  for (size_t k = 0; k < spec.outputs.size(); ++k) {
    s += StrCat("    Idx o_out", k, " = 0;\n");
  }
  for (int d = rank - 1; d >= 0; --d) {
    std::string c = "rem";
    if (d > 0) {
      s += StrCat("    {\n      const Idx q = rem / shape.v[", d, "];\n",
                  "      const Idx c = rem - q * shape.v[", d, "];\n",
                  "      rem = q;\n");
      c = "c";
    } else {
      s += "    {\n";
    }
    for (size_t k = 0; k < spec.inputs.size(); ++k) {
      s += StrCat("      o_in", k, " += ", c, " * s_in", k, ".v[", d, "];\n");
    }
    for (size_t k = 0; k < spec.outputs.size(); ++k) {
      s += StrCat("      o_out", k, " += ", c, " * s_out", k, ".v[", d, "];\n");
    }
    s += "    }\n";
  }

  // Registers and the program, one statement per instruction.
  if (spec.num_registers > 0) {
    s += StrCat("    ", t, " ");
    for (uint32_t r = 0; r < spec.num_registers; ++r) {
      s += StrCat(r > 0 ? ", " : "", "r", r, " = ", t, "(0)");
    }
    s += ";\n";
  }
  const std::string zero = t + "(0)";
  for (const theta_ew_instr& in : spec.instrs) {
    switch (in.op) {
      case THETA_EW_LOAD:
        s += StrCat("    r", in.dst, " = theta::ew::Convert<", t, ">(in", in.a,
                    "[o_in", in.a, "]);\n");
        break;
      case THETA_EW_PARAM:
        s += StrCat("    r", in.dst, " = theta::ew::Convert<", t, ">(params.v[",
                    in.a, "]);\n");
        break;
      case THETA_EW_STORE: {
        const theta_dtype d = spec.outputs[in.dst];
        if (d == THETA_DTYPE_BOOL) {
          s += StrCat("    out", in.dst, "[o_out", in.dst,
                      "] = theta::ew::ConvertToBool(r", in.a, ");\n");
        } else {
          s += StrCat("    out", in.dst, "[o_out", in.dst,
                      "] = theta::ew::Convert<", EwTypeName(d), ">(r", in.a,
                      ");\n");
        }
        break;
      }
      default: {
        const int arity = ew::Arity(in.op);
        const std::string b = arity >= 2 ? StrCat("r", in.b) : zero;
        const std::string c = arity >= 3 ? StrCat("r", in.c) : zero;
        s += StrCat("    r", in.dst, " = theta::ew::Apply<", t, ">(THETA_EW_",
                    EwOpcodeName(in.op), ", r", in.a, ", ", b, ", ", c, ");\n");
        break;
      }
    }
  }
  s += "  }\n}\n";
  return s;
}

}  // namespace theta::cuda
