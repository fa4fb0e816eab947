#include "models/embedding.h"

#include "absl/strings/str_cat.h"
#include "base/error.h"
#include "graph/dtype.h"
#include "ops/ops.h"

namespace theta::models {

Embedding::Embedding(int64_t vocabulary, int64_t dimensions, Rng& rng,
                     std::string name)
    : vocabulary_(vocabulary), dimensions_(dimensions), name_(std::move(name)) {
  if (vocabulary < 1 || dimensions < 1) {
    throw Error(absl::StrCat("embedding \"", name_,
                             "\": vocabulary and dimensions must be >= 1; "
                             "given ",
                             vocabulary, " and ", dimensions));
  }
  table_ = shared(Normal({vocabulary, dimensions}, 1.0, rng), name_ + "/E");
}

Var Embedding::Apply(const Var& ids, const Var& table) const {
  if (!ids.defined() ||
      (ids.dtype() != DType::kInt32 && ids.dtype() != DType::kInt64)) {
    throw Error(absl::StrCat(
        "embedding \"", name_, "\": input must be int32 or int64 ids; given ",
        ids.defined() ? ids.type().ToString() : "an undefined variable"));
  }
  return take(table, ids, 0);
}

}  // namespace theta::models
