"""cuda_objects: compiles .cu files with the toolkit's nvcc into PIC objects.

The objects go into a cc_library or a linkshared cc_binary like any other
source. Code is generated for sm_80 and sm_90 and PTX for compute_90, so newer
GPUs JIT-compile it.
"""

load("@local_cuda//:defs.bzl", "CUDA_COMPATIBLE", "CUDA_FOUND", "NVCC")

CUDA_GENCODE = [
    "-gencode=arch=compute_80,code=sm_80",
    "-gencode=arch=compute_90,code=sm_90",
    "-gencode=arch=compute_90,code=compute_90",
]

def cuda_objects(name, srcs, hdrs = [], copts = [], **kwargs):
    """Declares one genrule per .cu file; returns nothing.

    The filegroup `name` holds the `<stem>.pic.o` objects.
    """
    outs = []
    for src in srcs:
        stem = src.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        out = "%s_%s.pic.o" % (name, stem)
        outs.append(out)
        cmd = " ".join([
            NVCC if CUDA_FOUND else "false",
            "-c $(location %s)" % src,
            "-o $@",
            "-std=c++20",
            "-O3",
            "-I.",
            "-I$(GENDIR)",
            "-Xcompiler -fPIC",
            "-Xcompiler -Wall",
            "--expt-relaxed-constexpr",
        ] + CUDA_GENCODE + copts)
        native.genrule(
            name = "%s_%s_nvcc" % (name, stem),
            srcs = [src] + hdrs,
            outs = [out],
            cmd = cmd,
            message = "nvcc %s" % src,
            target_compatible_with = CUDA_COMPATIBLE,
        )
    # filegroup has no target_compatible_with in Bazel 4; it is incompatible
    # through its incompatible genrules all the same.
    native.filegroup(
        name = name,
        srcs = outs,
        **kwargs
    )
