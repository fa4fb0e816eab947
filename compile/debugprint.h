// Text and Graphviz views of graphs, as Theano's debugprint and pydotprint.
//
//   std::cout << theta::debugprint(y);        // the graph as built
//   std::cout << theta::debugprint(f);        // the rewritten graph of f
//   std::ofstream("f.dot") << theta::ToDot(f);
//
// Each node is printed once with an id ([id A]); later uses refer to it by
// id. Lines show the op, the variable's type and name, and where it was
// created.
#ifndef THETA_COMPILE_DEBUGPRINT_H_
#define THETA_COMPILE_DEBUGPRINT_H_

#include <span>
#include <string>

#include "compile/function.h"
#include "graph/ir.h"

namespace theta {

std::string debugprint(const Var& v);
std::string debugprint(std::span<const Var> outputs);
// The rewritten graph of `f`: outputs, then the update of each shared
// variable.
std::string debugprint(const Function& f);

std::string ToDot(std::span<const Var> outputs);
std::string ToDot(const Function& f);

}  // namespace theta

#endif  // THETA_COMPILE_DEBUGPRINT_H_
