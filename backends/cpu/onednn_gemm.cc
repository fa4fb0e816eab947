#include "backends/cpu/onednn_gemm.h"

#include <dlfcn.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

namespace theta::cpu {
namespace {

// The entry points the plugin uses, from one dlopen of the library.
struct Library {
  decltype(&dnnl_sgemm) sgemm = nullptr;
  decltype(&dnnl_get_effective_cpu_isa) effective_isa = nullptr;
  decltype(&dnnl_version) version = nullptr;
  std::string error;  // empty when loaded
};

template <typename Fn>
bool Resolve(void* handle, const char* soname, const char* name, Fn* out,
             std::string* error) {
  *out = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*out == nullptr) {
    *error = std::string(soname) + " lacks " + name + " (oneDNN 2.x)";
    return false;
  }
  return true;
}

Library Load(const char* soname) {
  Library lib;
  // RTLD_LOCAL: oneDNN's symbols stay out of the process's global scope.
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    lib.error = std::string("cannot load ") + soname +
                " (Debian: apt-get install libdnnl2): " +
                (why != nullptr ? why : "unknown error");
    return lib;
  }
  if (!Resolve(handle, soname, "dnnl_sgemm", &lib.sgemm, &lib.error) ||
      !Resolve(handle, soname, "dnnl_get_effective_cpu_isa", &lib.effective_isa,
               &lib.error) ||
      !Resolve(handle, soname, "dnnl_version", &lib.version, &lib.error)) {
    lib.sgemm = nullptr;
    dlclose(handle);
  }
  // Otherwise the handle stays open for the life of the process.
  return lib;
}

const Library& OneDnn() {
  static const Library lib = Load(kOneDnnLibrary);
  return lib;
}

// Sets this thread's OpenMP team size to 1 for its lifetime, restoring the
// caller's value after: oneDNN sizes its parallel regions by
// omp_get_max_threads(), and with one thread it opens none.
class SingleOmpThread {
 public:
  SingleOmpThread() : saved_(omp_get_max_threads()) {
    if (saved_ != 1) omp_set_num_threads(1);
  }
  ~SingleOmpThread() {
    if (saved_ != 1) omp_set_num_threads(saved_);
  }
  SingleOmpThread(const SingleOmpThread&) = delete;
  SingleOmpThread& operator=(const SingleOmpThread&) = delete;

 private:
  int saved_;
};

}  // namespace

bool OneDnnAvailable() { return OneDnn().error.empty(); }

const std::string& OneDnnError() { return OneDnn().error; }

std::string OneDnnLoadError(const char* soname) { return Load(soname).error; }

int OneDnnSgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                float alpha, const float* a, int64_t lda, const float* b,
                int64_t ldb, float beta, float* c, int64_t ldc) {
  const Library& lib = OneDnn();
  if (lib.sgemm == nullptr) return -1;
  SingleOmpThread single;
  return lib.sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a,
                   lda, b, ldb, beta, c, ldc);
}

const char* OneDnnIsaName() {
  if (!OneDnnAvailable()) return "unavailable";
  switch (OneDnn().effective_isa()) {
    case dnnl_cpu_isa_sse41:
      return "sse41";
    case dnnl_cpu_isa_avx:
      return "avx";
    case dnnl_cpu_isa_avx2:
      return "avx2";
    case dnnl_cpu_isa_avx2_vnni:
      return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic:
      return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops:
      return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core:
      return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "unknown";
  }
}

bool OneDnnUsesAvx512() {
  if (!OneDnnAvailable()) return false;
  // The ISA values are bit sets: each AVX-512 core level contains
  // avx512_core's bits (avx512_mic is the Xeon Phi line, not counted).
  const unsigned isa = OneDnn().effective_isa();
  return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
}

const char* OneDnnVersion() {
  static const std::string text = [] {
    if (!OneDnnAvailable()) return std::string("unavailable");
    const dnnl_version_t* v = OneDnn().version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->patch);
  }();
  return text.c_str();
}

}  // namespace theta::cpu
