// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11) and the mapping from counters to numbers that theta_backend.h
// specifies for the rng kernel. Every backend uses these functions, so the
// same seed and offset give the same numbers everywhere. Header-only C++,
// usable from CUDA device code.
#ifndef THETA_BACKENDS_API_PHILOX_H_
#define THETA_BACKENDS_API_PHILOX_H_

#ifdef __CUDACC__
#define THETA_PHILOX_HD __host__ __device__
#else
#define THETA_PHILOX_HD
#include <cmath>
#include <cstdint>
#endif

namespace theta::philox {

struct Block {
  uint32_t w[4];
};

THETA_PHILOX_HD inline Block Philox4x32_10(uint64_t counter_lo,
                                           uint64_t counter_hi, uint64_t key) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter_lo);
  uint32_t c1 = static_cast<uint32_t>(counter_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_hi);
  uint32_t c3 = static_cast<uint32_t>(counter_hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(key);
  uint32_t k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = static_cast<uint64_t>(kM0) * c0;
    uint64_t p1 = static_cast<uint64_t>(kM1) * c2;
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = uint32_t(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = uint32_t(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kW0;
    k1 += kW1;
  }
  return Block{{c0, c1, c2, c3}};
}

// The uniform value a + (b - a) u of the ABI, as one fused multiply-add
// (one rounding) so that no backend's compiler can round it differently by
// contracting or not contracting a * b + c.
THETA_PHILOX_HD inline double UniformAffine(double a, double scale, double u) {
  using std::fma;
  return fma(scale, u, a);
}

// Uniform float in [0, 1) from counter n (24 random bits).
THETA_PHILOX_HD inline float UniformFloat(uint64_t seed, uint64_t n) {
  Block b = Philox4x32_10(n / 4, 0, seed);
  return static_cast<float>(b.w[n % 4] >> 8) * (1.0f / 16777216.0f);
}

// Uniform double in [0, 1) from counter n (53 random bits).
THETA_PHILOX_HD inline double UniformDouble(uint64_t seed, uint64_t n) {
  Block b = Philox4x32_10(n / 2, 0, seed);
  uint32_t lo = b.w[2 * (n % 2)], hi = b.w[2 * (n % 2) + 1];
  uint64_t bits = (static_cast<uint64_t>(hi) << 21) | (lo >> 11);
  return static_cast<double>(bits) * (1.0 / 9007199254740992.0);
}

// Standard normal (Box-Muller, cosine branch) from counter n, in double.
THETA_PHILOX_HD inline double StandardNormal(uint64_t seed, uint64_t n) {
  using std::cos;
  using std::log;
  using std::sqrt;
  Block b = Philox4x32_10(n / 2, 0, seed);
  uint32_t w0 = b.w[2 * (n % 2)], w1 = b.w[2 * (n % 2) + 1];
  double u1 = (static_cast<double>(w0 >> 8) + 1.0) * (1.0 / 16777216.0);
  double u2 = static_cast<double>(w1 >> 8) * (1.0 / 16777216.0);
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  return sqrt(-2.0 * log(u1)) * cos(kTwoPi * u2);
}

}  // namespace theta::philox

#endif  // THETA_BACKENDS_API_PHILOX_H_
