// Where a node was created: the user's source location and the name scope
// active at the time. Kept through rewrites and printed in every error about
// the node.
//
//   theta::NameScope scope("encoder");   // nodes built now carry "encoder"
//   Var h = tanh(dot(x, W));             // error messages say "in encoder"
#ifndef THETA_GRAPH_SOURCE_INFO_H_
#define THETA_GRAPH_SOURCE_INFO_H_

#include <memory>
#include <source_location>
#include <string>

namespace theta {

struct SourceInfo {
  std::source_location location;
  // "encoder/gates"; shared between the nodes of one scope; may be null.
  std::shared_ptr<const std::string> scope;

  // "model.cc:42 in BuildModel() [scope encoder/gates]".
  std::string ToString() const;
  // "model.cc:42".
  std::string FileLine() const;
};

// The SourceInfo for a node being built at `location` now.
SourceInfo MakeSourceInfo(std::source_location location);

// Pushes a name scope for the nodes this thread builds while it lives.
// Scopes nest with '/'. Not copyable or movable.
class NameScope {
 public:
  explicit NameScope(const std::string& name);
  ~NameScope();
  NameScope(const NameScope&) = delete;
  NameScope& operator=(const NameScope&) = delete;

  // The current thread's full scope ("" when none).
  static std::string Current();

 private:
  std::shared_ptr<const std::string> previous_;
};

}  // namespace theta

#endif  // THETA_GRAPH_SOURCE_INFO_H_
