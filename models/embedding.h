// Embedding: integer ids to rows of a (vocabulary, dimensions) table, a
// float32 shared variable "<name>/E" drawn from N(0, 1) as PyTorch's
// nn.Embedding does. Ids of any shape; the result has one more dimension.
//
//   Embedding embed(vocabulary, 64, rng, "embed");
//   Var xs = embed(ids);   // ids (timesteps, samples) int32 -> (T, S, 64)
#ifndef THETA_MODELS_EMBEDDING_H_
#define THETA_MODELS_EMBEDDING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/shared.h"
#include "models/init.h"

namespace theta::models {

class Embedding {
 public:
  Embedding(int64_t vocabulary, int64_t dimensions, Rng& rng,
            std::string name = "embedding");

  // E[ids]; throws Error naming the layer when ids are not of an integer
  // dtype. Ids outside [-vocabulary, vocabulary) are an error at run time.
  Var operator()(const Var& ids) const { return Apply(ids, table_); }
  Var Apply(const Var& ids, const Var& table) const;

  const SharedVar& table() const { return table_; }
  std::vector<SharedVar> params() const { return {table_}; }
  int64_t vocabulary() const { return vocabulary_; }
  int64_t dimensions() const { return dimensions_; }

 private:
  int64_t vocabulary_, dimensions_;
  std::string name_;
  SharedVar table_;
};

}  // namespace theta::models

#endif  // THETA_MODELS_EMBEDDING_H_
