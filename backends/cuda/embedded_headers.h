// The headers that generated elementwise kernels include, embedded in the
// plugin at build time (embed_headers.sh) so that NVRTC compiles them
// without a source tree: backends/api/theta_backend.h and
// backends/api/elementwise_semantics.h, under those include names.
#ifndef THETA_BACKENDS_CUDA_EMBEDDED_HEADERS_H_
#define THETA_BACKENDS_CUDA_EMBEDDED_HEADERS_H_

namespace theta::cuda {

struct EmbeddedFile {
  const char* path;  // the #include name
  const char* text;
};

extern const EmbeddedFile kEmbeddedHeaders[];
extern const int kNumEmbeddedHeaders;

}  // namespace theta::cuda

#endif  // THETA_BACKENDS_CUDA_EMBEDDED_HEADERS_H_
