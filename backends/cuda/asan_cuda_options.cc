// AddressSanitizer defaults for the tests that may initialise CUDA: the
// driver maps memory inside ASan's shadow gap, which ASan otherwise
// protects, and cuInit then fails. Options given in ASAN_OPTIONS (the asan
// config sets some) still apply on top of these. Inert without ASan.
extern "C" const char* __asan_default_options() {
  return "protect_shadow_gap=0";
}
