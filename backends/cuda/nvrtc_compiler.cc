#include "backends/cuda/nvrtc_compiler.h"

#include <nvrtc.h>

#include "backends/cuda/cuda_errors.h"
#include "backends/cuda/embedded_headers.h"
#include "backends/cuda/status.h"

namespace theta::cuda {
namespace {

constexpr const char kStddef[] =
    "typedef unsigned long size_t;\n"
    "typedef long ptrdiff_t;\n"
    "#define offsetof(type, member) __builtin_offsetof(type, member)\n";

constexpr const char kStdint[] =
    "typedef signed char int8_t;\n"
    "typedef short int16_t;\n"
    "typedef int int32_t;\n"
    "typedef long int64_t;\n"
    "typedef unsigned char uint8_t;\n"
    "typedef unsigned short uint16_t;\n"
    "typedef unsigned int uint32_t;\n"
    "typedef unsigned long uint64_t;\n"
    "#define INT64_MAX 9223372036854775807L\n";

// Destroys the program on every path.
class Program {
 public:
  Program() = default;
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  ~Program() {
    if (program_ != nullptr) nvrtcDestroyProgram(&program_);
  }
  nvrtcProgram* ptr() { return &program_; }
  nvrtcProgram get() const { return program_; }

 private:
  nvrtcProgram program_ = nullptr;
};

}  // namespace

theta_status* CompileCuda(const std::string& source, const std::string& name,
                          const std::string& arch, std::string* image,
                          std::string* log) {
  std::vector<const char*> header_names = {"stddef.h", "stdint.h"};
  std::vector<const char*> header_texts = {kStddef, kStdint};
  for (int i = 0; i < kNumEmbeddedHeaders; ++i) {
    header_names.push_back(kEmbeddedHeaders[i].path);
    header_texts.push_back(kEmbeddedHeaders[i].text);
  }
  Program program;
  nvrtcResult r =
      nvrtcCreateProgram(program.ptr(), source.c_str(), name.c_str(),
                         static_cast<int>(header_names.size()),
                         header_texts.data(), header_names.data());
  if (r != NVRTC_SUCCESS) {
    return NvrtcError(nullptr, "nvrtcCreateProgram", r);
  }
  const std::string arch_option = "--gpu-architecture=" + arch;
  const char* options[] = {arch_option.c_str(), "-std=c++17", "--fmad=false"};
  const nvrtcResult compiled = nvrtcCompileProgram(
      program.get(), static_cast<int>(std::size(options)), options);
  size_t log_size = 0;
  log->clear();
  if (nvrtcGetProgramLogSize(program.get(), &log_size) == NVRTC_SUCCESS &&
      log_size > 1) {
    log->resize(log_size);
    if (nvrtcGetProgramLog(program.get(), log->data()) != NVRTC_SUCCESS) {
      log->clear();
    } else {
      log->resize(log_size - 1);  // the NUL
    }
  }
  if (compiled != NVRTC_SUCCESS) {
    return NvrtcError(
        nullptr, StrCat("nvrtcCompileProgram (", name, ", ", arch, ")").c_str(),
        compiled, *log);
  }
  const bool cubin = arch.rfind("sm_", 0) == 0;
  size_t size = 0;
  r = cubin ? nvrtcGetCUBINSize(program.get(), &size)
            : nvrtcGetPTXSize(program.get(), &size);
  if (r != NVRTC_SUCCESS) {
    return NvrtcError(nullptr, cubin ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize",
                      r);
  }
  image->assign(size, '\0');
  r = cubin ? nvrtcGetCUBIN(program.get(), image->data())
            : nvrtcGetPTX(program.get(), image->data());
  if (r != NVRTC_SUCCESS) {
    return NvrtcError(nullptr, cubin ? "nvrtcGetCUBIN" : "nvrtcGetPTX", r);
  }
  return nullptr;
}

std::vector<int> NvrtcSupportedArchs() {
  int count = 0;
  if (nvrtcGetNumSupportedArchs(&count) != NVRTC_SUCCESS || count <= 0) {
    return {};
  }
  std::vector<int> archs(static_cast<size_t>(count));
  if (nvrtcGetSupportedArchs(archs.data()) != NVRTC_SUCCESS) return {};
  return archs;
}

std::string TargetArch(int major, int minor,
                       const std::vector<int>& supported) {
  const int want = major * 10 + minor;
  int best = 0;
  for (int a : supported) {
    if (a == want) return StrCat("sm_", a);
    if (a < want && a > best) best = a;
  }
  return best > 0 ? StrCat("compute_", best) : std::string();
}

}  // namespace theta::cuda
