// ClientList: the uses of one variable inside a FunctionGraph, with
// constant-time removal. A FunctionGraph keeps one inside each output of its
// own nodes (no hashing on the rewrite paths) and one per leaf in a map.
#ifndef THETA_GRAPH_CLIENT_LIST_H_
#define THETA_GRAPH_CLIENT_LIST_H_

#include <cstddef>
#include <memory>
#include <span>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"

namespace theta {

class Node;

// A use of a variable: input `index` of `node`, or, when node is null,
// graph output `index`.
struct GraphClient {
  Node* node;
  int index;
};

class ClientList {
 public:
  void Add(GraphClient c);
  // Removes the use (no-op when absent).
  void Remove(const Node* node, int index);
  void Clear();
  std::span<const GraphClient> list() const { return list_; }
  bool empty() const { return list_.empty(); }

 private:
  // Lists up to this long are searched; longer ones (a weight used by
  // thousands of nodes) get an index, so that removals stay constant-time.
  static constexpr size_t kIndexedLength = 16;
  absl::InlinedVector<GraphClient, 2> list_;  // most variables have 1 or 2
  std::unique_ptr<absl::flat_hash_map<std::pair<const Node*, int>, size_t>>
      position_;
};

}  // namespace theta

#endif  // THETA_GRAPH_CLIENT_LIST_H_
