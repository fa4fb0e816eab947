// Parameter initialisers: seeded, reproducible starting values for layer
// weights, returned as host tensors for shared(). Each draws from the given
// generator only, so one seed fixes a whole model.
//
//   Rng rng(1);
//   SharedVar w = shared(GlorotUniform({784, 512}, rng), "dense/W");
//   SharedVar u = shared(Orthogonal({128, 512}, rng), "lstm/U");
//
// Conventions (Lasagne's and PyTorch's, which agree here): a weight of shape
// (fan_in, fan_out) for 2-d shapes; Glorot uniform draws from U(-a, a),
// a = sqrt(6 / (fan_in + fan_out)); He normal from N(0, 2 / fan_in);
// orthogonal gives a (rows, cols) matrix with orthonormal rows or columns
// (whichever are fewer), and for (n, k*n) shapes k independent orthogonal
// n x n blocks side by side (one per recurrent gate).
#ifndef THETA_MODELS_INIT_H_
#define THETA_MODELS_INIT_H_

#include <cstdint>
#include <random>
#include <vector>

#include "graph/tensor.h"

namespace theta::models {

// The generator every initialiser and shuffle in //models takes.
using Rng = std::mt19937_64;

// float32 tensors of `shape` (rank 2 for Glorot, He and orthogonal; a
// shape of any other rank is an Error naming the initialiser).
Tensor GlorotUniform(const std::vector<int64_t>& shape, Rng& rng);
Tensor HeNormal(const std::vector<int64_t>& shape, Rng& rng);
Tensor Orthogonal(const std::vector<int64_t>& shape, Rng& rng);
// U(-limit, limit) and N(0, stddev^2), any shape.
Tensor Uniform(const std::vector<int64_t>& shape, double limit, Rng& rng);
Tensor Normal(const std::vector<int64_t>& shape, double stddev, Rng& rng);
// Every element `value`, any shape.
Tensor Constant(const std::vector<int64_t>& shape, double value);

// A choice of initialiser for layer options.
enum class WeightInit { kGlorotUniform, kHeNormal, kOrthogonal };
Tensor Initialize(WeightInit init, const std::vector<int64_t>& shape, Rng& rng);

}  // namespace theta::models

#endif  // THETA_MODELS_INIT_H_
