// GEMM detection: scaling, negation and additions around a product fold
// into the Gemm call (alpha * A B + beta * C), so a layer's dot + bias, or
// the sum of two weight-gradient products, costs one GEMM call each.
#include "graph/rewrite.h"
#include "ops/elementwise.h"
#include "ops/elementwise_op.h"
#include "ops/linalg_ops.h"

namespace theta {
namespace {

using Replacement = std::optional<std::vector<Var>>;

// A Gemm whose output only `user` reads.
const Gemm* SoleGemm(FunctionGraph& graph, const Var& v, const Node& user) {
  const Gemm* g = AsGemm(v.owner());
  if (g == nullptr) return nullptr;
  const auto& clients = graph.clients(v.get());
  if (clients.size() != 1 || clients[0].node != &user) return nullptr;
  return g;
}

std::optional<double> ScalarConstant(const Var& v) {
  if (v->kind() != VarKind::kConstant || v->constant_value().size() != 1) {
    return std::nullopt;
  }
  return v->constant_value().GetAsDouble(0);
}

Replacement Same(const Var& v, Node& node) {
  if (v.type() != node.output_variable(0)->type()) {
    // Keep the static type of the replaced variable exactly.
    if (v.dtype() != node.output_variable(0)->type().dtype() ||
        v.ndim() != node.output_variable(0)->type().ndim()) {
      return std::nullopt;
    }
  }
  return std::vector<Var>{v};
}

Replacement DetectGemm(FunctionGraph& graph, Node& node) {
  const Elementwise* e = AsElementwise(node);
  if (e == nullptr) return std::nullopt;
  const int op = e->single_opcode();
  const Var out = node.output(0);
  if (!IsFloat(out.dtype())) return std::nullopt;
  if (op == THETA_EW_ADD || op == THETA_EW_SUB) {
    for (int i = 0; i < 2; ++i) {
      const Var& prod = node.input(i);
      const Var& other = node.input(1 - i);
      const Gemm* g = SoleGemm(graph, prod, node);
      if (g == nullptr || g->has_bias() || prod.type() != out.type() ||
          other.dtype() != out.dtype()) {
        continue;
      }
      Node* p = prod.owner();
      double alpha = g->alpha(), beta = 1.0;
      if (op == THETA_EW_SUB) {
        if (i == 0) {
          beta = -1.0;  // prod - other
        } else {
          alpha = -alpha;  // other - prod
        }
      }
      return Same(MakeGemm(p->input(0), p->input(1), other, alpha, beta,
                           std::source_location::current()),
                  node);
    }
    return std::nullopt;
  }
  if (op == THETA_EW_MUL) {
    for (int i = 0; i < 2; ++i) {
      const Gemm* g = SoleGemm(graph, node.input(i), node);
      std::optional<double> s = ScalarConstant(node.input(1 - i));
      if (g == nullptr || !s.has_value() ||
          node.input(i).type() != out.type()) {
        continue;
      }
      Node* p = node.input(i).owner();
      Var c = g->has_bias() ? p->input(2) : Var();
      return Same(MakeGemm(p->input(0), p->input(1), c, g->alpha() * *s,
                           g->beta() * *s, std::source_location::current()),
                  node);
    }
    return std::nullopt;
  }
  if (op == THETA_EW_NEG) {
    const Gemm* g = SoleGemm(graph, node.input(0), node);
    if (g == nullptr || node.input(0).type() != out.type()) return std::nullopt;
    Node* p = node.input(0).owner();
    Var c = g->has_bias() ? p->input(2) : Var();
    return Same(MakeGemm(p->input(0), p->input(1), c, -g->alpha(), -g->beta(),
                         std::source_location::current()),
                node);
  }
  return std::nullopt;
}

}  // namespace

THETA_REGISTER_NODE_REWRITE_FOR(kSpecialize, "gemm", 10, Elementwise,
                                DetectGemm);

}  // namespace theta
