// Counter-based random numbers (Philox4x32-10, philox.h). Element e of the
// output (row-major) is a pure function of (seed, offset + e), so any split
// of the elements across threads gives the same numbers.
#include <algorithm>
#include <cmath>

#include "backends/api/philox.h"
#include "backends/cpu/kernels.h"
#include "backends/cpu/strided.h"
#include "backends/plugin_kit/checks.h"

namespace theta::cpu {
namespace {

constexpr int64_t kParallelWork = 1 << 14;  // elements

// The numbers of theta_backend.h, computed from one Philox block per kLanes
// consecutive counters instead of one block per number; the formulas are
// those of philox.h's UniformFloat, UniformDouble and StandardNormal (the
// tests check that the bits agree). Values are computed in double.
struct Uniform32 {
  static constexpr uint64_t kLanes = 4;
  double a, scale;
  double operator()(const philox::Block& b, uint64_t lane) const {
    const float u = static_cast<float>(b.w[lane] >> 8) * (1.0f / 16777216.0f);
    return philox::UniformAffine(a, scale, static_cast<double>(u));
  }
};
struct Uniform64 {
  static constexpr uint64_t kLanes = 2;
  double a, scale;
  double operator()(const philox::Block& b, uint64_t lane) const {
    const uint32_t lo = b.w[2 * lane], hi = b.w[2 * lane + 1];
    const uint64_t bits = (static_cast<uint64_t>(hi) << 21) | (lo >> 11);
    return philox::UniformAffine(
        a, scale, static_cast<double>(bits) * (1.0 / 9007199254740992.0));
  }
};
struct Normal {
  static constexpr uint64_t kLanes = 2;
  double mean, stddev;
  double operator()(const philox::Block& b, uint64_t lane) const {
    const uint32_t w0 = b.w[2 * lane], w1 = b.w[2 * lane + 1];
    const double u1 = (static_cast<double>(w0 >> 8) + 1.0) * (1.0 / 16777216.0);
    const double u2 = static_cast<double>(w1 >> 8) * (1.0 / 16777216.0);
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    return mean +
           stddev * (std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2));
  }
};

template <typename T, typename Dist>
void Generate(ThreadPool& pool, const theta_rng_args& args, Dist dist) {
  const Layout<1> l =
      Collapse<1>(args.output.ndim, args.output.shape, {args.output.strides});
  T* out = static_cast<T*>(args.output.data);
  const int64_t stride = l.InnerStride(0);
  pool.ParallelFor(l.Count(), kParallelWork, [&](int64_t e0, int64_t e1) {
    Walk(l, e0, e1 - e0, [&](const int64_t* off, int64_t len, int64_t k) {
      T* p = out + off[0];
      uint64_t n = args.offset + static_cast<uint64_t>(e0 + k);
      for (int64_t t = 0; t < len;) {
        const philox::Block b =
            philox::Philox4x32_10(n / Dist::kLanes, 0, args.seed);
        for (uint64_t lane = n % Dist::kLanes; lane < Dist::kLanes && t < len;
             ++lane, ++t, ++n) {
          p[t * stride] = static_cast<T>(dist(b, lane));
        }
      }
    });
  });
}

}  // namespace

theta_status* Rng(ThreadPool& pool, const theta_rng_args& args) {
  const theta_array& out = args.output;
  if (theta_status* s = plugin_kit::CheckRng(args)) return s;
  if (NumElements(out) == 0) return nullptr;
  const bool f32 = out.dtype == THETA_DTYPE_F32;
  if (args.distribution == THETA_RNG_NORMAL) {
    const Normal dist{args.a, args.b};
    if (f32) {
      Generate<float>(pool, args, dist);
    } else {
      Generate<double>(pool, args, dist);
    }
  } else if (f32) {
    Generate<float>(pool, args, Uniform32{args.a, args.b - args.a});
  } else {
    Generate<double>(pool, args, Uniform64{args.a, args.b - args.a});
  }
  return nullptr;
}

}  // namespace theta::cpu
