// Shape operations: dimshuffle (Theano's transpose-and-broadcast), reshape,
// flatten, transpose, shape, concatenate/stack/split, alloc/zeros/ones/fill,
// arange and eye.
//
//   Var b_row = dimshuffle(b, {kNewAxis, 0});     // b.dimshuffle('x', 0)
//   Var flat  = reshape(x, {shape_i(x, 0), -1});  // symbolic sizes work
//   Var z     = zeros({3, 4});
#ifndef THETA_OPS_SHAPE_H_
#define THETA_OPS_SHAPE_H_

#include <cstdint>
#include <initializer_list>
#include <source_location>
#include <vector>

#include "graph/ir.h"
#include "ops/elementwise.h"

namespace theta {

// In a dimshuffle pattern: insert a new broadcastable axis ('x').
inline constexpr int kNewAxis = -1;

// A dimension size: a number, or an integer scalar Var (x.shape[0]).
class DimArg {
 public:
  DimArg(int64_t size) : size_(size) {}    // NOLINT: implicit on purpose
  DimArg(int size) : size_(size) {}        // NOLINT
  DimArg(const Var& size) : var_(size) {}  // NOLINT
  bool is_var() const { return var_.defined(); }
  int64_t size() const { return size_; }
  const Var& var() const { return var_; }

 private:
  int64_t size_ = 0;
  Var var_;
};

// Reorders dimensions and inserts broadcastable ones: pattern entries are
// input dimensions or kNewAxis; input dimensions left out must be
// broadcastable (they are dropped). A view, no copy.
Var dimshuffle(const Var& x, std::vector<int> pattern,
               std::source_location loc = std::source_location::current());
// Reverses the dimensions, or permutes them by `axes`.
Var transpose(const Var& x, std::vector<int> axes = {},
              std::source_location loc = std::source_location::current());
// Adds a broadcastable dimension at `axis`; removes broadcastable ones.
Var expand_dims(const Var& x, int axis,
                std::source_location loc = std::source_location::current());
Var squeeze(const Var& x,
            std::source_location loc = std::source_location::current());

// The shape as an int64 vector; one dimension's size as an int64 scalar.
Var shape(const Var& x,
          std::source_location loc = std::source_location::current());
Var shape_i(const Var& x, int axis,
            std::source_location loc = std::source_location::current());

// Reshape; one entry may be -1 (inferred). A view when the input is
// contiguous, else a copy.
Var reshape(const Var& x, std::vector<DimArg> shape,
            std::source_location loc = std::source_location::current());
// Reshape to an int64 vector Var of static length.
Var reshape(const Var& x, const Var& shape,
            std::source_location loc = std::source_location::current());
// Keeps the first outdim-1 dimensions and merges the rest.
Var flatten(const Var& x, int outdim = 1,
            std::source_location loc = std::source_location::current());

// Joins along an existing axis / a new axis; splits by sizes.
Var concatenate(const std::vector<Var>& xs, int axis = 0,
                std::source_location loc = std::source_location::current());
Var stack(const std::vector<Var>& xs, int axis = 0,
          std::source_location loc = std::source_location::current());
std::vector<Var> split(
    const Var& x, const std::vector<int64_t>& sizes, int axis = 0,
    std::source_location loc = std::source_location::current());

// A tensor of `shape` filled with `value` (broadcast), as Theano's alloc.
Var alloc(const Operand& value, std::vector<DimArg> shape,
          std::source_location loc = std::source_location::current());
// As alloc, keeping the known sizes of `like` in the result's type.
Var alloc_like(const Var& value, std::vector<DimArg> shape,
               const TensorType& like,
               std::source_location loc = std::source_location::current());
Var fill(std::vector<DimArg> shape, double value, DType dtype = floatX(),
         std::source_location loc = std::source_location::current());
Var zeros(std::vector<DimArg> shape, DType dtype = floatX(),
          std::source_location loc = std::source_location::current());
Var ones(std::vector<DimArg> shape, DType dtype = floatX(),
         std::source_location loc = std::source_location::current());
Var zeros_like(const Var& x,
               std::source_location loc = std::source_location::current());
Var ones_like(const Var& x,
              std::source_location loc = std::source_location::current());

// [start, stop) by step, as a vector (int64 unless a float is given).
Var arange(const Operand& start, const Operand& stop, const Operand& step = 1,
           std::source_location loc = std::source_location::current());
// n x m identity with ones on diagonal k.
Var eye(DimArg n, DimArg m = -1, int64_t k = 0, DType dtype = floatX(),
        std::source_location loc = std::source_location::current());

// Theano's rank alignment: `x` with kNewAxis dimensions prepended up to
// rank `ndim`.
Var PadRank(const Var& x, int ndim, std::source_location loc);

// A scalar Var for a DimArg (int64).
Var DimArgToVar(const DimArg& d, std::source_location loc);

}  // namespace theta

#endif  // THETA_OPS_SHAPE_H_
