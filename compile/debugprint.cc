#include "compile/debugprint.h"

#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "graph/function_graph.h"
#include "graph/op.h"

namespace theta {
namespace {

// A, B, ..., Z, BA, BB, ... like Theano.
std::string IdName(int n) {
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('A' + n % 26));
    n /= 26;
  } while (n > 0);
  return s;
}

class Printer {
 public:
  std::string Print(const Var& root, const std::string& label) {
    std::string out;
    if (!label.empty()) out = label + "\n";
    // Iterative pre-order walk: (variable, prefix for its line, prefix for
    // its children).
    struct Item {
      Var var;
      std::string line_prefix;
      std::string child_prefix;
    };
    std::vector<Item> stack = {{root, "", " "}};
    while (!stack.empty()) {
      Item item = std::move(stack.back());
      stack.pop_back();
      const Var& v = item.var;
      Node* node = v.owner();
      std::string text;
      if (node == nullptr) {
        text = v->DisplayName();
      } else {
        text = node->op().name();
        if (node->num_outputs() > 1) absl::StrAppend(&text, ".", v->index());
      }
      const void* key = node != nullptr ? static_cast<const void*>(node)
                                        : static_cast<const void*>(v.get());
      auto [it, fresh] = ids_.try_emplace(key, next_id_);
      if (fresh) ++next_id_;
      absl::StrAppend(&out, item.line_prefix, text, " [id ", IdName(it->second),
                      "] ", v.type().ToString());
      if (node != nullptr && !v.name().empty()) {
        absl::StrAppend(&out, " '", v.name(), "'");
      }
      if (node != nullptr && fresh) {
        absl::StrAppend(&out, "  ", node->source().ToString());
      }
      out += "\n";
      if (node == nullptr || !fresh) continue;
      for (int i = node->num_inputs() - 1; i >= 0; --i) {
        stack.push_back({node->input(i), item.child_prefix + "|",
                         item.child_prefix + "| "});
      }
    }
    return out;
  }

 private:
  absl::flat_hash_map<const void*, int> ids_;
  int next_id_ = 0;
};

std::string DotEscape(const std::string& s) {
  return absl::StrReplaceAll(s, {{"\"", "\\\""}, {"\n", "\\n"}});
}

}  // namespace

std::string debugprint(const Var& v) { return debugprint(std::span(&v, 1)); }

std::string debugprint(std::span<const Var> outputs) {
  Printer printer;
  std::string out;
  for (const Var& v : outputs) out += printer.Print(v, "");
  return out;
}

std::string debugprint(const Function& f) {
  FunctionGraph& graph = f.graph();
  Printer printer;
  std::string out =
      absl::StrCat("Function '", f.name(), "' on ", f.backend().id(), "\n");
  std::vector<std::string> updates = f.update_target_names();
  const int user_outputs =
      graph.num_outputs() - static_cast<int>(updates.size());
  for (int i = 0; i < graph.num_outputs(); ++i) {
    out += printer.Print(
        graph.output(i),
        i < user_outputs
            ? absl::StrCat("output ", i, ":")
            : absl::StrCat("update of '", updates[i - user_outputs], "':"));
  }
  return out;
}

std::string ToDot(std::span<const Var> outputs) {
  std::string out = "digraph theta {\n  rankdir=BT;\n";
  absl::flat_hash_map<const Variable*, std::string> var_ids;
  int counter = 0;
  auto var_id = [&](const Var& v) -> std::string {
    auto [it, fresh] = var_ids.try_emplace(v.get(), "");
    if (fresh) {
      it->second = absl::StrCat("v", counter++);
      const bool leaf = v.owner() == nullptr;
      absl::StrAppend(&out, "  ", it->second,
                      " [shape=", leaf ? "box" : "ellipse", ", label=\"",
                      DotEscape(leaf ? v->DisplayName() : v.name()),
                      leaf || v.name().empty() ? "" : "\\n",
                      DotEscape(v.type().ToString()), "\"];\n");
    }
    return it->second;
  };
  for (Node* node : TopologicalNodes(outputs)) {
    std::string node_id = absl::StrCat("n", counter++);
    absl::StrAppend(&out, "  ", node_id,
                    " [shape=record, style=filled, fillcolor=lightgrey, "
                    "label=\"",
                    DotEscape(node->op().name()), "\"];\n");
    for (int i = 0; i < node->num_inputs(); ++i) {
      absl::StrAppend(&out, "  ", var_id(node->input(i)), " -> ", node_id,
                      " [label=\"", i, "\"];\n");
    }
    for (int o = 0; o < node->num_outputs(); ++o) {
      absl::StrAppend(&out, "  ", node_id, " -> ", var_id(node->output(o)),
                      ";\n");
    }
  }
  for (const Var& v : outputs) var_id(v);
  return out + "}\n";
}

std::string ToDot(const Function& f) { return ToDot(f.graph().outputs()); }

}  // namespace theta
