// The fused elementwise kernel: an interpreter of theta_ew_program that runs
// each instruction over a block of up to kMaxBlock elements at once, so the
// dispatch cost is paid once per block and every instruction is one
// vectorised loop (elementwise_ops.h).
//
// Plan: the program is checked, dead instructions dropped, and registers
// renamed onto the fewest physical blocks (a value's block is reused after
// its last read; a program with few parameters keeps one block per
// parameter, filled once per range). Each operand's strides are collapsed
// on their own (strided.h), so a contiguous operand is one run per block
// even when another operand broadcasts, and a short inner dimension (shape
// (N, 3)) never shrinks the blocks. LOAD converts into a register block, or,
// for a contiguous input of the compute dtype that no output overlaps, reads
// the input in place. STORE of an output over kStreamBytes uses non-temporal
// stores, and a contiguous input over it is prefetched a block ahead. Blocks
// are split across the pool; no call allocates unless its program needs more
// register blocks than fit on the stack.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <functional>
#include <memory>
#include <memory_resource>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/cpu/elementwise_ops.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/strided.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cpu {
namespace {

constexpr int64_t kMaxBlock = 2048;
constexpr size_t kBlockAlignment = 64;  // bytes, for full-width vector loads
constexpr int64_t kMinBlock = 64;
// Register blocks of one thread stay within this many bytes (L1-sized, and
// on the stack: only programs needing more than 64 F64 blocks, or 128 F32,
// counting each hoisted parameter's block, put them on the heap).
constexpr int64_t kRegisterBudget = 32 * 1024;
// Programs with at most this many distinct parameters fill each one's
// block once per range instead of once per block of elements.
constexpr int kMaxHoistedParams = 8;
// Element-instructions below which a ParallelFor range is not split off.
constexpr int64_t kParallelWork = 1 << 17;

// An instruction's cost in cheap instructions (an add or a load), for
// kParallelWork: a transcendental function runs Eigen's polynomial, about
// 0.8 ns an element here against 0.1 or less for an add. Counted as one,
// the gates of an LSTM step (32 x 1024 sigmoids) ran on one thread.
int InstructionCost(int op) {
  const bool expensive =
      ew::IsTranscendental(op) || op == THETA_EW_POW || op == THETA_EW_ATAN2;
  return expensive ? 8 : 1;
}

struct Operand {
  char* data;
  theta_dtype dtype;
  Layout<1> layout;
  // An input read in place: contiguous, of the compute dtype, and sharing
  // no memory with any output (so no STORE can change it under a block).
  bool direct = false;
  // An output written with non-temporal stores (MarkStreamingOperands).
  bool stream = false;
  // An input prefetched a block ahead (MarkStreamingOperands).
  bool prefetch = false;
};

// Outputs of at least this many bytes are written around the cache: they
// cannot stay in it anyway, and streaming saves reading every destination
// line before it is overwritten (a third of the traffic of y = f(x)).
constexpr int64_t kStreamBytes = int64_t{32} << 20;

// Copies `bytes` with non-temporal 32-byte stores where the destination is
// aligned. The caller issues _mm_sfence() before other threads read it.
void StreamCopy(void* dst, const void* src, size_t bytes) {
  char* d = static_cast<char*>(dst);
  const char* s = static_cast<const char*>(src);
  const size_t head =
      std::min(bytes, (32 - reinterpret_cast<uintptr_t>(d) % 32) % 32);
  std::memcpy(d, s, head);
  d += head;
  s += head;
  bytes -= head;
  for (; bytes >= 32; bytes -= 32, d += 32, s += 32) {
    _mm256_stream_si256(
        reinterpret_cast<__m256i*>(d),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)));
  }
  std::memcpy(d, s, bytes);
}

// A live instruction with registers renamed to physical blocks. dst: a block
// (STORE: the output index). a, b, c: blocks (LOAD: the input index, PARAM:
// the parameter index); -1 where unused.
struct Step {
  int op;
  int dst;
  int a, b, c;
};

// Planning allocates from a per-call arena (on the stack for ordinary
// programs), so a small call costs no heap allocation.
struct Plan {
  explicit Plan(std::pmr::memory_resource* arena)
      : arena(arena), steps(arena), inputs(arena), outputs(arena) {}

  std::pmr::memory_resource* arena;
  std::pmr::vector<Step> steps;
  int num_blocks = 0;  // physical register blocks
  std::pmr::vector<Operand> inputs, outputs;
  const double* params = nullptr;
  int64_t count = 0;  // elements of the index space
  int64_t block = 0;  // elements per register block
  // PARAM blocks are filled once per range (few distinct parameters).
  bool hoist_params = false;
  // Some output is streamed: RunRange ends with a store fence.
  bool streams = false;
  // Some input is prefetched (Operand::prefetch).
  bool prefetches = false;
};

std::string InstrName(uint32_t i, int op) {
  const char* name = OpcodeName(op);
  return StrCat("instruction ", i, " (", name ? name : "?", ")");
}

// The registers an instruction reads (into src), and how many.
int Sources(const theta_ew_instr& in, uint16_t* src) {
  if (in.op == THETA_EW_STORE) {
    src[0] = in.a;
    return 1;
  }
  if (in.op == THETA_EW_LOAD || in.op == THETA_EW_PARAM) return 0;
  src[0] = in.a;
  src[1] = in.b;
  src[2] = in.c;
  return ew::Arity(in.op);
}

// Checks the program against the args' operand counts: known opcodes,
// registers in range and written before they are read, operand indices in
// range.
theta_status* CheckInstructions(const theta_elementwise_args& args,
                                Plan* plan) {
  const theta_ew_program& p = *args.program;
  const uint32_t nr = p.num_registers;
  if (nr > THETA_EW_MAX_REGISTERS) {
    return InvalidArgument("elementwise: program has ", nr,
                           " registers; at most ", THETA_EW_MAX_REGISTERS,
                           " (THETA_EW_MAX_REGISTERS) can be encoded");
  }
  std::pmr::vector<char> written(nr, 0, plan->arena);
  for (uint32_t i = 0; i < p.num_instrs; ++i) {
    const theta_ew_instr& in = p.instrs[i];
    const int arity = ew::Arity(in.op);
    if (arity < 0) {
      return InvalidArgument("elementwise: instruction ", i,
                             " has unknown opcode ", in.op);
    }
    auto check_reg = [&](uint32_t r, bool read) -> theta_status* {
      if (r >= nr) {
        return InvalidArgument("elementwise: ", InstrName(i, in.op), " ",
                               read ? "reads" : "writes", " register ", r,
                               " but num_registers is ", nr);
      }
      if (read && !written[r]) {
        return InvalidArgument("elementwise: ", InstrName(i, in.op),
                               " reads register ", r,
                               " before any instruction writes it");
      }
      return nullptr;
    };
    auto check_index = [&](uint32_t index, int32_t limit,
                           const char* what) -> theta_status* {
      if (static_cast<int64_t>(index) >= limit) {
        return InvalidArgument("elementwise: ", InstrName(i, in.op), " uses ",
                               what, " ", index, " but num_", what, "s is ",
                               limit);
      }
      return nullptr;
    };
    theta_status* s = nullptr;
    if (in.op == THETA_EW_LOAD) {
      if (!(s = check_index(in.a, args.num_inputs, "input"))) {
        s = check_reg(in.dst, false);
      }
    } else if (in.op == THETA_EW_PARAM) {
      if (!(s = check_index(in.a, args.num_params, "param"))) {
        s = check_reg(in.dst, false);
      }
    } else if (in.op == THETA_EW_STORE) {
      if (!(s = check_index(in.dst, args.num_outputs, "output"))) {
        s = check_reg(in.a, true);
      }
    } else {
      const uint16_t src[3] = {in.a, in.b, in.c};
      for (int k = 0; k < arity && !s; ++k) s = check_reg(src[k], true);
      if (!s) s = check_reg(in.dst, false);
    }
    if (s) return s;
    if (in.op != THETA_EW_STORE) written[in.dst] = 1;
  }
  return nullptr;
}

// Liveness, backwards: an instruction whose result nobody reads is dead
// (*dead); (*last_read)[i][k] marks the final read of source k's value.
void FindLiveness(const theta_ew_program& p, Plan* plan,
                  std::pmr::vector<char>* dead,
                  std::pmr::vector<std::array<char, 3>>* last_read) {
  const uint32_t n = p.num_instrs;
  std::pmr::vector<char> live(p.num_registers, 0, plan->arena);
  for (uint32_t i = n; i-- > 0;) {
    const theta_ew_instr& in = p.instrs[i];
    if (in.op != THETA_EW_STORE) {
      if (!live[in.dst]) {
        (*dead)[i] = 1;
        continue;
      }
      live[in.dst] = 0;
    }
    uint16_t src[3];
    const int ns = Sources(in, src);
    for (int k = 0; k < ns; ++k) {
      if (!live[src[k]]) (*last_read)[i][k] = 1;
      live[src[k]] = 1;
    }
  }
}

// Assigns blocks to the live instructions' values (plan->steps,
// plan->num_blocks, plan->hoist_params).
void AssignBlocks(const theta_elementwise_args& args,
                  const std::pmr::vector<char>& dead,
                  const std::pmr::vector<std::array<char, 3>>& last_read,
                  Plan* plan) {
  const theta_ew_program& p = *args.program;
  const uint32_t n = p.num_instrs;
  // Renaming, forwards: a block freed by a value's last read may hold the
  // same instruction's result (the block kernels allow dst == source). With
  // few distinct parameters, each gets a block of its own that is never
  // freed (RunRange fills it once, not once per block of elements), shared
  // by every PARAM of that index; with many, PARAM blocks are renamed like
  // any other, so that blocks stay long.
  std::pmr::vector<int> param_block(args.num_params, -1, plan->arena);
  int distinct_params = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const theta_ew_instr& in = p.instrs[i];
    if (!dead[i] && in.op == THETA_EW_PARAM && param_block[in.a] == -1) {
      param_block[in.a] = -2;  // counted, no block yet
      ++distinct_params;
    }
  }
  plan->hoist_params = distinct_params <= kMaxHoistedParams;
  std::pmr::vector<int> block_of(p.num_registers, -1, plan->arena);
  std::pmr::vector<int> free_blocks(plan->arena);
  std::pmr::vector<char> is_param_block(plan->arena);
  int num_blocks = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (dead[i]) continue;
    const theta_ew_instr& in = p.instrs[i];
    Step step{in.op, -1, -1, -1, -1};
    uint16_t src[3];
    const int ns = Sources(in, src);
    int* step_src[3] = {&step.a, &step.b, &step.c};
    for (int k = 0; k < ns; ++k) *step_src[k] = block_of[src[k]];
    for (int k = 0; k < ns; ++k) {
      const int b = block_of[src[k]];
      if (last_read[i][k] && !is_param_block[b]) free_blocks.push_back(b);
    }
    if (in.op == THETA_EW_STORE) {
      step.dst = in.dst;
    } else {
      if (in.op == THETA_EW_LOAD || in.op == THETA_EW_PARAM) step.a = in.a;
      int block;
      if (in.op == THETA_EW_PARAM && plan->hoist_params) {
        if (param_block[in.a] < 0) {
          param_block[in.a] = num_blocks++;
          is_param_block.push_back(1);
        }
        block = param_block[in.a];
      } else if (free_blocks.empty()) {
        block = num_blocks++;
        is_param_block.push_back(0);
      } else {
        block = free_blocks.back();
        free_blocks.pop_back();
      }
      block_of[in.dst] = block;
      step.dst = block;
    }
    plan->steps.push_back(step);
  }
  plan->num_blocks = num_blocks;
}

// Checks the program against the args' operand counts; on success fills
// plan->steps and plan->num_blocks.
theta_status* PlanProgram(const theta_elementwise_args& args, Plan* plan) {
  if (theta_status* s = CheckInstructions(args, plan)) return s;
  const uint32_t n = args.program->num_instrs;
  std::pmr::vector<char> dead(n, 0, plan->arena);
  std::pmr::vector<std::array<char, 3>> last_read(n, {0, 0, 0}, plan->arena);
  FindLiveness(*args.program, plan, &dead, &last_read);
  AssignBlocks(args, dead, last_read, plan);
  return nullptr;
}

// Checks the index space and the operands; fills plan's operands and count.
theta_status* PlanOperands(const theta_elementwise_args& args, Plan* plan) {
  if (args.ndim < 0 || args.ndim > THETA_MAX_DIMS) {
    return InvalidArgument("elementwise: ndim is ", args.ndim,
                           " (must be in [0, ", THETA_MAX_DIMS, "])");
  }
  if (args.ndim > 0 && args.shape == nullptr) {
    return InvalidArgument("elementwise: shape is NULL with ndim ", args.ndim);
  }
  const struct {
    const char* name;
    int32_t count;
    const void* ptr;
  } lists[] = {{"inputs", args.num_inputs, args.inputs},
               {"outputs", args.num_outputs, args.outputs},
               {"params", args.num_params, args.params}};
  for (const auto& l : lists) {
    if (l.count < 0) {
      return InvalidArgument("elementwise: num_", l.name, " is ", l.count);
    }
    if (l.count > 0 && l.ptr == nullptr) {
      return InvalidArgument("elementwise: ", l.name, " is NULL with num_",
                             l.name, " ", l.count);
    }
  }
  plan->count = 1;
  for (int d = 0; d < args.ndim; ++d) {
    if (args.shape[d] < 0) {
      return InvalidArgument("elementwise: shape[", d, "] is ", args.shape[d],
                             " (must be >= 0)");
    }
    if (args.shape[d] == 0) plan->count = 0;
  }
  for (int d = 0; d < args.ndim && plan->count != 0; ++d) {
    if (__builtin_mul_overflow(plan->count, args.shape[d], &plan->count)) {
      return InvalidArgument("elementwise: shape ",
                             ShapeString(args.ndim, args.shape),
                             " has too many elements");
    }
  }
  for (int io = 0; io < 2; ++io) {
    const bool is_input = io == 0;
    const int32_t count = is_input ? args.num_inputs : args.num_outputs;
    const theta_ew_operand* ops = is_input ? args.inputs : args.outputs;
    std::pmr::vector<Operand>& dst = is_input ? plan->inputs : plan->outputs;
    for (int32_t i = 0; i < count; ++i) {
      const theta_ew_operand& o = ops[i];
      // "input 3": formatted by hand, this runs on every call.
      char what[32] = "output ";
      if (is_input) std::memcpy(what, "input ", 7);
      char* end = what + std::strlen(what);
      *std::to_chars(end, what + sizeof(what) - 1, i).ptr = '\0';
      if (!IsValidDtype(RawEnum(o.dtype))) {
        return InvalidArgument("elementwise: ", what, " has invalid dtype ",
                               RawEnum(o.dtype));
      }
      theta_array array{o.data, o.dtype, args.ndim, args.shape, o.strides};
      if (theta_status* s = CheckArray("elementwise", what, array,
                                       is_input ? StrideSign::kAnyForReadOnly
                                                : StrideSign::kNonNegative)) {
        return s;
      }
      if (!is_input) {
        if (theta_status* s = CheckWritable("elementwise", what, array)) {
          return s;
        }
      }
      dst.push_back(Operand{static_cast<char*>(o.data), o.dtype,
                            Collapse<1>(args.ndim, args.shape, {o.strides})});
    }
  }
  return nullptr;
}

// ---- loads and stores: conversion between operand and compute types ----

template <typename T, typename S>
void LoadAs(const Operand& o, int64_t start, int64_t n, T* out) {
  const S* base = reinterpret_cast<const S*>(o.data);
  const Layout<1>& l = o.layout;
  const int64_t s = l.InnerStride(0);
  WalkRows(
      l, start, n,
      [&](const int64_t* off, int64_t len, int64_t k) {
        const S* p = base + off[0];
        T* q = out + k;
        if (s == 1) {
          if constexpr (std::is_same_v<T, S>) {
            std::copy(p, p + len, q);
          } else {
            for (int64_t j = 0; j < len; ++j) q[j] = ew::Convert<T>(p[j]);
          }
        } else if (s == 0) {
          std::fill(q, q + len, ew::Convert<T>(*p));
        } else {
          for (int64_t j = 0; j < len; ++j) q[j] = ew::Convert<T>(p[j * s]);
        }
      },
      [&](const int64_t* off, int64_t rows, int64_t k) {
        // Short rows, e.g. a (N, 3) operand: one tight 2-D loop.
        const int64_t inner = l.shape[l.rank - 1], s2 = l.stride[0][l.rank - 2];
        const S* p = base + off[0];
        T* q = out + k;
        for (int64_t r = 0; r < rows; ++r, p += s2, q += inner) {
          for (int64_t j = 0; j < inner; ++j) q[j] = ew::Convert<T>(p[j * s]);
        }
      });
}

template <typename T, typename D, bool kBool>
void StoreAs(const Operand& o, int64_t start, int64_t n, const T* in) {
  D* base = reinterpret_cast<D*>(o.data);
  const int64_t s = o.layout.InnerStride(0);
  auto convert = [](T x) -> D {
    if constexpr (kBool) {
      return ew::ConvertToBool(x);
    } else {
      return ew::Convert<D>(x);
    }
  };
  const Layout<1>& l = o.layout;
  WalkRows(
      l, start, n,
      [&](const int64_t* off, int64_t len, int64_t k) {
        D* p = base + off[0];
        const T* q = in + k;
        if (s == 1) {
          if constexpr (std::is_same_v<T, D> && !kBool) {
            if (o.stream) {
              StreamCopy(p, q, static_cast<size_t>(len) * sizeof(T));
            } else {
              std::copy(q, q + len, p);
            }
          } else {
            for (int64_t j = 0; j < len; ++j) p[j] = convert(q[j]);
          }
        } else {
          for (int64_t j = 0; j < len; ++j) p[j * s] = convert(q[j]);
        }
      },
      [&](const int64_t* off, int64_t rows, int64_t k) {
        const int64_t inner = l.shape[l.rank - 1], s2 = l.stride[0][l.rank - 2];
        D* p = base + off[0];
        const T* q = in + k;
        for (int64_t r = 0; r < rows; ++r, p += s2, q += inner) {
          for (int64_t j = 0; j < inner; ++j) p[j * s] = convert(q[j]);
        }
      });
}

template <typename T>
void Load(const Operand& o, int64_t start, int64_t n, T* out) {
  switch (o.dtype) {
    case THETA_DTYPE_F32:
      return LoadAs<T, float>(o, start, n, out);
    case THETA_DTYPE_F64:
      return LoadAs<T, double>(o, start, n, out);
    case THETA_DTYPE_I32:
      return LoadAs<T, int32_t>(o, start, n, out);
    case THETA_DTYPE_I64:
      return LoadAs<T, int64_t>(o, start, n, out);
    case THETA_DTYPE_U8:
    case THETA_DTYPE_BOOL:
      return LoadAs<T, uint8_t>(o, start, n, out);
  }
}

template <typename T>
void Store(const Operand& o, int64_t start, int64_t n, const T* in) {
  switch (o.dtype) {
    case THETA_DTYPE_F32:
      return StoreAs<T, float, false>(o, start, n, in);
    case THETA_DTYPE_F64:
      return StoreAs<T, double, false>(o, start, n, in);
    case THETA_DTYPE_I32:
      return StoreAs<T, int32_t, false>(o, start, n, in);
    case THETA_DTYPE_I64:
      return StoreAs<T, int64_t, false>(o, start, n, in);
    case THETA_DTYPE_U8:
      return StoreAs<T, uint8_t, false>(o, start, n, in);
    case THETA_DTYPE_BOOL:
      return StoreAs<T, uint8_t, true>(o, start, n, in);
  }
}

// Register blocks of one thread, 64-byte aligned: in `local` when they
// fit (every program of up to kRegisterBudget / kMinBlock bytes per
// element), else on the heap.
template <typename T>
class RegisterFile {
 public:
  static constexpr size_t kLocalBytes = kRegisterBudget;

  RegisterFile(int blocks, int64_t block) : block_(block) {
    const size_t bytes = sizeof(T) * static_cast<size_t>(blocks * block);
    if (bytes <= kLocalBytes) {
      data_ = reinterpret_cast<T*>(local_);
    } else {
      data_ = static_cast<T*>(
          ::operator new(bytes, std::align_val_t(kBlockAlignment)));
      heap_ = true;
    }
  }
  ~RegisterFile() {
    if (heap_) ::operator delete(data_, std::align_val_t(kBlockAlignment));
  }
  RegisterFile(const RegisterFile&) = delete;
  RegisterFile& operator=(const RegisterFile&) = delete;

  T* operator[](int i) const { return i < 0 ? nullptr : data_ + i * block_; }

 private:
  alignas(kBlockAlignment) std::byte local_[kLocalBytes];
  int64_t block_;
  T* data_;
  bool heap_ = false;
};

// Prefetches part `part` of `parts` of the prefetched inputs' elements
// [start, end). A block's steps read its input in a burst and write its
// output in another (the STORE's streamed copy); prefetching the next
// block a slice per step keeps reads in flight through the whole block, as
// a memcpy's interleaved loads and stores do.
void PrefetchInputs(const Plan& plan, int64_t start, int64_t end, int part,
                    int parts) {
  for (const Operand& in : plan.inputs) {
    if (!in.prefetch) continue;
    const int64_t size = DtypeSize(in.dtype);
    const char* begin = in.data + start * size;
    const int64_t bytes = (end - start) * size;
    const int64_t lines = (bytes + 63) / 64;
    const int64_t per_part = (lines + parts - 1) / parts;
    const int64_t last = std::min(lines, (part + 1) * per_part);
    for (int64_t l = part * per_part; l < last; ++l) {
      _mm_prefetch(begin + l * 64, _MM_HINT_T0);
    }
  }
}

// Runs the program over elements [begin, end).
template <typename T>
void RunRange(const Plan& plan, int64_t begin, int64_t end) {
  const int64_t block = std::min(plan.block, end - begin);
  // Keep every block 64-byte aligned.
  const int64_t stride = (block + kMinBlock - 1) / kMinBlock * kMinBlock;
  RegisterFile<T> regs(plan.num_blocks, stride);
  // Where each register block's current value is read from: its own
  // storage, or the input itself for a direct LOAD.
  alignas(64) std::byte value_buffer[1024];
  std::pmr::monotonic_buffer_resource value_arena(value_buffer,
                                                  sizeof(value_buffer));
  std::pmr::vector<const T*> value(plan.num_blocks, nullptr, &value_arena);
  auto read = [&](int b) { return b < 0 ? nullptr : value[b]; };
  // Hoisted PARAM blocks hold their value for the whole range (PlanProgram
  // never reuses them).
  for (const Step& s : plan.steps) {
    if (s.op != THETA_EW_PARAM || !plan.hoist_params) continue;
    std::fill(regs[s.dst], regs[s.dst] + block,
              ew::Convert<T>(plan.params[s.a]));
    value[s.dst] = regs[s.dst];
  }
  const int parts = static_cast<int>(plan.steps.size());
  for (int64_t start = begin; start < end; start += block) {
    const int64_t n = std::min(block, end - start);
    int part = 0;
    for (const Step& s : plan.steps) {
      if (plan.prefetches) {
        PrefetchInputs(plan, start + n, std::min(start + n + block, end),
                       part++, parts);
      }
      switch (s.op) {
        case THETA_EW_LOAD: {
          const Operand& in = plan.inputs[s.a];
          if (in.direct) {
            value[s.dst] = reinterpret_cast<const T*>(in.data) + start;
          } else {
            Load<T>(in, start, n, regs[s.dst]);
            value[s.dst] = regs[s.dst];
          }
          break;
        }
        case THETA_EW_PARAM:
          if (!plan.hoist_params) {
            std::fill(regs[s.dst], regs[s.dst] + n,
                      ew::Convert<T>(plan.params[s.a]));
            value[s.dst] = regs[s.dst];
          }
          break;
        case THETA_EW_STORE:
          Store<T>(plan.outputs[s.dst], start, n, value[s.a]);
          break;
        default:
          ApplyBlock<T>(s.op, regs[s.dst], read(s.a), read(s.b), read(s.c), n);
          value[s.dst] = regs[s.dst];
          break;
      }
    }
  }
  // Streamed stores are weakly ordered: make them visible before the pool
  // reports this range done.
  if (plan.streams) _mm_sfence();
}

// Marks the large contiguous outputs of the compute dtype, which STORE
// streams past the cache (Operand::stream), and, in programs of cheap
// instructions only, the large contiguous inputs, which RunRange prefetches
// (Operand::prefetch). Under a transcendental's polynomial the hardware
// prefetcher keeps up, and the bursts of prefetches only stall the core:
// exp over 16M floats took 25% longer with them.
void MarkStreamingOperands(theta_dtype compute, Plan* plan) {
  // No operand of a smaller call reaches kStreamBytes (at most 8 bytes an
  // element): the per-step calls of a loop stop here.
  if (plan->count < kStreamBytes / 8) return;
  const bool cheap =
      std::all_of(plan->steps.begin(), plan->steps.end(),
                  [](const Step& s) { return InstructionCost(s.op) == 1; });
  auto large_and_contiguous = [&](const Operand& o) {
    return o.layout.rank == 1 && o.layout.InnerStride(0) == 1 &&
           plan->count * static_cast<int64_t>(DtypeSize(o.dtype)) >=
               kStreamBytes;
  };
  for (Operand& o : plan->outputs) {
    o.stream = o.dtype == compute && large_and_contiguous(o);
    plan->streams |= o.stream;
  }
  for (Operand& o : plan->inputs) {
    o.prefetch = cheap && large_and_contiguous(o);
    plan->prefetches |= o.prefetch;
  }
}

// Marks inputs that LOAD may read in place (Operand::direct).
void FindDirectInputs(theta_dtype compute, Plan* plan) {
  struct Range {
    const char* begin;
    const char* end;
  };
  // The bytes an operand spans. Only outputs and contiguous inputs get
  // here, so no stride is negative.
  auto range = [](const Operand& o) {
    const Layout<1>& l = o.layout;
    int64_t extent = 1;
    for (int d = 0; d < l.rank; ++d) {
      extent += (l.shape[d] - 1) * l.stride[0][d];
    }
    return Range{o.data, o.data + extent * DtypeSize(o.dtype)};
  };
  std::pmr::vector<Range> outputs(plan->arena);
  for (const Operand& o : plan->outputs) outputs.push_back(range(o));
  for (Operand& in : plan->inputs) {
    if (in.dtype != compute || in.layout.rank != 1 ||
        in.layout.InnerStride(0) != 1) {
      continue;
    }
    const Range r = range(in);
    in.direct = std::none_of(outputs.begin(), outputs.end(), [&](Range o) {
      return std::less<>()(r.begin, o.end) && std::less<>()(o.begin, r.end);
    });
  }
}

template <typename T>
void Run(ThreadPool& pool, Plan& plan) {
  // A prefetched input's current and next blocks share L1 with the
  // registers: half the budget (the fused three-op program over 16M floats
  // ran 8-17% faster with 1024-element blocks than with 2048).
  const int64_t budget =
      plan.prefetches ? kRegisterBudget / 2 : kRegisterBudget;
  int64_t block = budget / (std::max(plan.num_blocks, 1) * int64_t{sizeof(T)});
  block = std::clamp(block / kMinBlock * kMinBlock, kMinBlock, kMaxBlock);
  plan.block = block;
  const int64_t num_blocks = (plan.count + block - 1) / block;
  int64_t cost = 0;
  for (const Step& step : plan.steps) cost += InstructionCost(step.op);
  const int64_t work = block * std::max<int64_t>(1, cost);
  const int64_t grain = std::max<int64_t>(1, kParallelWork / work);
  pool.ParallelFor(num_blocks, grain, [&](int64_t b0, int64_t b1) {
    RunRange<T>(plan, b0 * block, std::min(b1 * block, plan.count));
  });
}

}  // namespace

theta_status* Elementwise(ThreadPool& pool,
                          const theta_elementwise_args& args) {
  if (theta_status* s = plugin_kit::CheckProgramHeader(args)) return s;
  const theta_dtype ct = args.program->compute_dtype;
  alignas(64) std::byte arena_buffer[8192];
  std::pmr::monotonic_buffer_resource arena(arena_buffer, sizeof(arena_buffer));
  Plan plan(&arena);
  if (theta_status* s = PlanOperands(args, &plan)) return s;
  if (theta_status* s = PlanProgram(args, &plan)) return s;
  plan.params = args.params;
  if (plan.count == 0 || plan.steps.empty()) return nullptr;
  FindDirectInputs(static_cast<theta_dtype>(ct), &plan);
  MarkStreamingOperands(static_cast<theta_dtype>(ct), &plan);
  switch (ct) {
    case THETA_DTYPE_F32:
      Run<float>(pool, plan);
      break;
    case THETA_DTYPE_F64:
      Run<double>(pool, plan);
      break;
    case THETA_DTYPE_I32:
      Run<int32_t>(pool, plan);
      break;
    default:
      Run<int64_t>(pool, plan);
      break;
  }
  return nullptr;
}

}  // namespace theta::cpu
