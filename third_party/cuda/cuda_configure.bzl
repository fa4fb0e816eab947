"""Finds the CUDA toolkit and exposes it as the repository @local_cuda.

Search order: $CUDA_HOME, the directory above `nvcc` on PATH, /usr/local/cuda.
A toolkit counts as found when it has bin/nvcc and include/cuda_runtime.h.
Where none is found the repository still exists, with CUDA_FOUND = False, and
the CUDA plugin's targets are marked incompatible so `bazel build //...` skips
them; the reason is printed once.
"""

def _find_cuda(repository_ctx):
    tried = []
    candidates = []
    cuda_home = repository_ctx.os.environ.get("CUDA_HOME", "")
    if cuda_home:
        candidates.append(("CUDA_HOME", cuda_home))
    nvcc_on_path = repository_ctx.which("nvcc")
    if nvcc_on_path:
        candidates.append(("nvcc on PATH", str(nvcc_on_path.dirname.dirname)))
    candidates.append(("default", "/usr/local/cuda"))
    for origin, path in candidates:
        root = repository_ctx.path(path)
        if not root.get_child("bin").get_child("nvcc").exists:
            tried.append("%s (%s): no bin/nvcc" % (path, origin))
            continue
        if not root.get_child("include").get_child("cuda_runtime.h").exists:
            tried.append("%s (%s): no include/cuda_runtime.h" % (path, origin))
            continue
        return str(root.realpath), tried
    return None, tried

def _cuda_configure_impl(repository_ctx):
    cuda_path, tried = _find_cuda(repository_ctx)
    if cuda_path == None:
        print("CUDA toolkit not found; building without the CUDA plugin. Tried: " +
              "; ".join(tried))
        repository_ctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])
cc_library(name = "cuda_headers", target_compatible_with = ["@platforms//:incompatible"])
cc_library(name = "cudart", target_compatible_with = ["@platforms//:incompatible"])
cc_library(name = "cublas", target_compatible_with = ["@platforms//:incompatible"])
cc_library(name = "nvrtc", target_compatible_with = ["@platforms//:incompatible"])
""")
        repository_ctx.file("defs.bzl", """
CUDA_FOUND = False
CUDA_PATH = ""
NVCC = ""
CUDA_COMPATIBLE = ["@platforms//:incompatible"]
""")
        return

    repository_ctx.symlink(cuda_path + "/include", "include")
    lib_dir = cuda_path + "/lib64"
    if not repository_ctx.path(lib_dir).exists:
        lib_dir = cuda_path + "/lib"
    link_dir = ["-L" + lib_dir, "-Wl,-rpath," + lib_dir]
    repository_ctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "cuda_headers",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.cuh"]),
    includes = ["include"],
)

cc_library(
    name = "cudart",
    linkopts = {link_dir} + ["-lcudart"],
    deps = [":cuda_headers"],
)

cc_library(
    name = "cublas",
    linkopts = {link_dir} + ["-lcublas", "-lcublasLt"],
    deps = [":cudart"],
)

cc_library(
    name = "nvrtc",
    linkopts = {link_dir} + ["-lnvrtc"],
    deps = [":cuda_headers"],
)
""".format(link_dir = repr(link_dir)))
    repository_ctx.file("defs.bzl", """
CUDA_FOUND = True
CUDA_PATH = {path}
NVCC = {nvcc}
CUDA_COMPATIBLE = []
""".format(path = repr(cuda_path), nvcc = repr(cuda_path + "/bin/nvcc")))

cuda_configure = repository_rule(
    implementation = _cuda_configure_impl,
    environ = ["CUDA_HOME", "PATH"],
    local = True,
)
