// Indexing: basic slicing (start:stop:step, negative indices, integer
// indices), its set/increment forms, integer-array indexing (take, for
// embeddings) with its scatter-add adjoint, and one_hot.
//
//   Var rows  = slice(x, {Slice(1, -1), Slice::All()});      // x[1:-1, :]
//   Var col   = slice(x, {Slice::All(), Slice::Index(0)});   // x[:, 0]
//   Var rev   = slice(x, {Slice(kNone, kNone, -1)});         // x[::-1]
//   Var y     = inc_subtensor(slice(x, {Slice(0, 2)}), d);   // x[0:2] += d
//   Var emb   = take(E, word_ids);                           // E[word_ids]
//   Var gates = z(all, range(0, 4));                          // z[:, 0:4]
//   Var last  = xs(-1);                                       // xs[-1]
#ifndef THETA_OPS_SUBTENSOR_H_
#define THETA_OPS_SUBTENSOR_H_

#include <cstdint>
#include <limits>
#include <source_location>
#include <vector>

#include "graph/ir.h"
#include "ops/shape.h"

namespace theta {

// An omitted slice bound (Python's None).
inline constexpr int64_t kNone = std::numeric_limits<int64_t>::min();

// One entry of an index: a range start:stop:step (bounds may be symbolic
// integer scalars; the step is a nonzero constant), or a single integer
// index, which removes the dimension.
// `all`: a whole dimension (Python's `:`), for x(all, 0).
struct AllOfDimension {};
inline constexpr AllOfDimension all{};

class Slice {
 public:
  Slice(DimArg start, DimArg stop, int64_t step = 1)
      : start_(start), stop_(stop), step_(step) {}
  // An integer index (implicit, so that x(-1) and x(all, i) read as in
  // Theano).
  Slice(int64_t i) : Slice(Index(i)) {}     // NOLINT: implicit on purpose
  Slice(int i) : Slice(Index(i)) {}         // NOLINT
  Slice(const Var& i) : Slice(Index(i)) {}  // NOLINT
  Slice(AllOfDimension) : Slice(All()) {}   // NOLINT
  static Slice All() { return Slice(kNone, kNone, 1); }
  static Slice Index(DimArg i) {
    Slice s(i, kNone, 1);
    s.is_index_ = true;
    return s;
  }
  const DimArg& start() const { return start_; }
  const DimArg& stop() const { return stop_; }
  int64_t step() const { return step_; }
  bool is_index() const { return is_index_; }

 private:
  DimArg start_;
  DimArg stop_;
  int64_t step_;
  bool is_index_ = false;
};

// start:stop:step, for Var::operator(): x(range(1, -1)) is x[1:-1]. Bounds
// are as in Python (kNone: omitted; negative: from the end).
inline Slice range(DimArg start, DimArg stop, int64_t step = 1) {
  return Slice(start, stop, step);
}

// x[slices...]; dimensions past the last slice are taken whole. A view (no
// copy) unless a step is negative.
Var slice(const Var& x, std::vector<Slice> slices,
          std::source_location loc = std::source_location::current());
// x[i] along the first axis.
Var index(const Var& x, DimArg i,
          std::source_location loc = std::source_location::current());

// Theano's set_subtensor(x[idx], y) and inc_subtensor(x[idx], y): `sub` must
// be the result of slice()/take(); returns x with that part replaced by /
// incremented by y (broadcast to its shape). x itself is unchanged.
Var set_subtensor(const Var& sub, const Operand& y,
                  std::source_location loc = std::source_location::current());
Var inc_subtensor(const Var& sub, const Operand& y,
                  std::source_location loc = std::source_location::current());

// Integer-array indexing along `axis`: the result's shape is x's with that
// dimension replaced by indices' shape. Indices may be negative (from the
// end); out-of-range indices are an error at run time.
Var take(const Var& x, const Var& indices, int axis = 0,
         std::source_location loc = std::source_location::current());

// labels (integer, any shape) to one-hot vectors of length `depth`.
Var one_hot(const Var& labels, DimArg depth, DType dtype = floatX(),
            std::source_location loc = std::source_location::current());

}  // namespace theta

#endif  // THETA_OPS_SUBTENSOR_H_
