#include "graph/client_list.h"

namespace theta {

void ClientList::Add(GraphClient c) {
  list_.push_back(c);
  if (position_ != nullptr) {
    (*position_)[{c.node, c.index}] = list_.size() - 1;
  } else if (list_.size() > kIndexedLength) {
    position_ = std::make_unique<
        absl::flat_hash_map<std::pair<const Node*, int>, size_t>>();
    for (size_t i = 0; i < list_.size(); ++i) {
      (*position_)[{list_[i].node, list_[i].index}] = i;
    }
  }
}

void ClientList::Remove(const Node* node, int index) {
  size_t i = 0;
  if (position_ != nullptr) {
    auto it = position_->find({node, index});
    if (it == position_->end()) return;
    i = it->second;
    position_->erase(it);
  } else {
    while (i < list_.size() &&
           (list_[i].node != node || list_[i].index != index)) {
      ++i;
    }
    if (i == list_.size()) return;
  }
  if (i + 1 != list_.size()) {
    list_[i] = list_.back();
    if (position_ != nullptr) {
      (*position_)[{list_[i].node, list_[i].index}] = i;
    }
  }
  list_.pop_back();
}

void ClientList::Clear() {
  list_.clear();
  position_.reset();
}

}  // namespace theta
