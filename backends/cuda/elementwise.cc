// The fused elementwise kernel, host side: the program and operands are
// checked (the CPU plugin's rules and messages), the index space collapsed
// over all operands together, and the kernel for the program's spec
// (ew_codegen.h) fetched from the plugin's cache, compiling it with NVRTC on
// first use, then launched through the driver API with the shape, strides,
// data pointers and parameters as kernel arguments. Everything a call needs
// on the host lives in the stream's EwLaunchScratch: after warm-up a call
// allocates nothing.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "backends/api/elementwise_semantics.h"
#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/ew_codegen.h"
#include "backends/cuda/ew_launch_scratch.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/launch.h"
#include "backends/cuda/status.h"
#include "backends/cuda/strided.h"
#include "backends/cuda/validate.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cuda {
namespace {

std::string InstrName(uint32_t i, int op) {
  const char* name = EwOpcodeName(op);
  return StrCat("instruction ", i, " (", name ? name : "?", ")");
}

// Checks the program against the args' operand counts (every register read
// after a write, indices in range); sets *num_params to 1 + the largest
// PARAM index and *stores to whether anything is stored.
theta_status* CheckProgram(const theta_elementwise_args& args,
                           std::vector<char>& written, int* num_params,
                           bool* stores) {
  const theta_ew_program& p = *args.program;
  const uint32_t nr = p.num_registers;
  if (nr > THETA_EW_MAX_REGISTERS) {
    return InvalidArgument("elementwise: program has ", nr,
                           " registers; at most ", THETA_EW_MAX_REGISTERS,
                           " (THETA_EW_MAX_REGISTERS) can be encoded");
  }
  written.assign(nr, 0);
  *num_params = 0;
  *stores = false;
  for (uint32_t i = 0; i < p.num_instrs; ++i) {
    const theta_ew_instr& in = p.instrs[i];
    const int arity = ew::Arity(in.op);
    if (arity < 0 || EwOpcodeName(in.op) == nullptr) {
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
      *num_params = std::max(*num_params, static_cast<int>(in.a) + 1);
    } else if (in.op == THETA_EW_STORE) {
      if (!(s = check_index(in.dst, args.num_outputs, "output"))) {
        s = check_reg(in.a, true);
      }
      *stores = true;
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

// Checks the index space and the operands; sets *count.
theta_status* CheckOperands(const theta_elementwise_args& args,
                            int64_t* count) {
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
  *count = 1;
  for (int d = 0; d < args.ndim; ++d) {
    if (args.shape[d] < 0) {
      return InvalidArgument("elementwise: shape[", d, "] is ", args.shape[d],
                             " (must be >= 0)");
    }
    if (args.shape[d] == 0) *count = 0;
  }
  for (int d = 0; d < args.ndim && *count != 0; ++d) {
    if (__builtin_mul_overflow(*count, args.shape[d], count)) {
      return InvalidArgument("elementwise: shape ",
                             ShapeString(args.ndim, args.shape),
                             " has too many elements");
    }
  }
  for (int io = 0; io < 2; ++io) {
    const bool is_input = io == 0;
    const int32_t n = is_input ? args.num_inputs : args.num_outputs;
    const theta_ew_operand* ops = is_input ? args.inputs : args.outputs;
    for (int32_t i = 0; i < n; ++i) {
      const theta_ew_operand& o = ops[i];
      const std::string what = StrCat(is_input ? "input " : "output ", i);
      if (!IsValidDtype(RawEnum(o.dtype))) {
        return InvalidArgument("elementwise: ", what, " has invalid dtype ",
                               RawEnum(o.dtype));
      }
      const theta_array array{o.data, o.dtype, args.ndim, args.shape,
                              o.strides};
      if (theta_status* s = CheckArray("elementwise", what.c_str(), array,
                                       is_input ? StrideSign::kAnyForReadOnly
                                                : StrideSign::kNonNegative)) {
        return s;
      }
      if (!is_input) {
        if (theta_status* s =
                CheckWritable("elementwise", what.c_str(), array)) {
          return s;
        }
      }
    }
  }
  return nullptr;
}

// The kernel's arguments laid out as GenerateEwSource's signature expects,
// built in the stream's scratch; the returned array points into it (and
// at args.params, which cuLaunchKernel copies at the launch).
template <typename Idx>
void** KernelParams(const Collapsed& c, const theta_elementwise_args& args,
                    int num_params, Idx* count,
                    std::vector<std::array<Idx, kMaxDims>>& dims,
                    EwLaunchScratch& scratch) {
  *count = static_cast<Idx>(c.Count());
  const size_t operands = c.strides.size();
  dims.resize(1 + operands);
  for (int d = 0; d < c.rank; ++d) {
    dims[0][d] = static_cast<Idx>(c.shape[d]);
    for (size_t i = 0; i < operands; ++i) {
      dims[1 + i][d] = static_cast<Idx>(c.strides[i][d]);
    }
  }
  std::vector<void*>& pointers = scratch.pointers;
  pointers.clear();
  for (int32_t i = 0; i < args.num_inputs; ++i) {
    pointers.push_back(args.inputs[i].data);
  }
  for (int32_t i = 0; i < args.num_outputs; ++i) {
    pointers.push_back(args.outputs[i].data);
  }
  std::vector<void*>& params = scratch.kernel_params;
  params.clear();
  params.push_back(count);
  params.push_back(dims[0].data());
  for (size_t i = 0; i < operands; ++i) {
    params.push_back(&pointers[i]);
    params.push_back(dims[1 + i].data());
  }
  if (num_params > 0) params.push_back(const_cast<double*>(args.params));
  return params.data();
}

}  // namespace

theta_status* Elementwise(theta_stream* stream,
                          const theta_elementwise_args& args) {
  if (theta_status* s = plugin_kit::CheckProgramHeader(args)) return s;
  const theta_ew_program* program = args.program;
  const theta_dtype ct = program->compute_dtype;
  EwLaunchScratch& scratch = stream->ew_scratch;
  int64_t count = 0;
  if (theta_status* s = CheckOperands(args, &count)) return s;
  int num_params = 0;
  bool stores = false;
  if (theta_status* s =
          CheckProgram(args, scratch.written, &num_params, &stores)) {
    return s;
  }
  if (count == 0 || !stores) return nullptr;

  std::vector<const int64_t*>& strides = scratch.strides;
  strides.clear();
  for (int32_t i = 0; i < args.num_inputs; ++i) {
    strides.push_back(args.inputs[i].strides);
  }
  for (int32_t i = 0; i < args.num_outputs; ++i) {
    strides.push_back(args.outputs[i].strides);
  }
  Collapsed& c = scratch.collapsed;
  CollapseDims(args.ndim, args.shape, strides, &c);

  EwKernelSpec& spec = scratch.spec;
  spec.compute = ct;
  spec.num_registers = program->num_registers;
  spec.instrs.assign(program->instrs, program->instrs + program->num_instrs);
  spec.inputs.clear();
  for (int32_t i = 0; i < args.num_inputs; ++i) {
    spec.inputs.push_back(args.inputs[i].dtype);
  }
  spec.outputs.clear();
  for (int32_t i = 0; i < args.num_outputs; ++i) {
    spec.outputs.push_back(args.outputs[i].dtype);
  }
  spec.rank = c.rank;
  spec.num_params = num_params;
  int64_t extent = 0;
  for (const auto& s : c.strides) {
    int64_t e = 0;
    for (int d = 0; d < c.rank; ++d) {
      e += (c.shape[d] - 1) * (s[d] < 0 ? -s[d] : s[d]);
    }
    extent = std::max(extent, e);
  }
  spec.index64 = count >= kInt32IndexLimit || extent >= kInt32IndexLimit;

  theta_device* device = stream->device;
  theta_plugin* plugin = device->plugin;
  CUfunction function = nullptr;
  if (theta_status* s = plugin->kernels.Get(device->index, device->arch, spec,
                                            &scratch.key, &function)) {
    return Prefixed("elementwise", s);
  }
  const LaunchShape l = GridStride(
      count, kDefaultThreads, MaxBlocks(device->sm_count, kDefaultThreads));
  void** kernel_params =
      spec.index64 ? KernelParams(c, args, num_params, &scratch.count64,
                                  scratch.dims64, scratch)
                   : KernelParams(c, args, num_params, &scratch.count32,
                                  scratch.dims32, scratch);
  const CUresult r =
      plugin->driver.LaunchKernel(function, l.blocks, 1, 1, l.threads, 1, 1, 0,
                                  stream->stream, kernel_params, nullptr);
  if (r != CUDA_SUCCESS) {
    return DriverError(plugin->driver, "elementwise", "cuLaunchKernel", r);
  }
  return nullptr;
}

}  // namespace theta::cuda
