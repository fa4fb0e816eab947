#include "graph/source_info.h"

#include "absl/strings/str_cat.h"

namespace theta {
namespace {

std::shared_ptr<const std::string>& CurrentScope() {
  thread_local std::shared_ptr<const std::string> scope;
  return scope;
}

std::string_view BaseName(const char* path) {
  std::string_view p = path;
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

}  // namespace

std::string SourceInfo::ToString() const {
  std::string out;
  if (location.line() != 0) {
    out = absl::StrCat(std::string(BaseName(location.file_name())), ":",
                       location.line());
    if (location.function_name() != nullptr && location.function_name()[0]) {
      absl::StrAppend(&out, " in ", location.function_name());
    }
  } else {
    out = "(unknown location)";
  }
  if (scope != nullptr && !scope->empty()) {
    absl::StrAppend(&out, " [scope ", *scope, "]");
  }
  return out;
}

std::string SourceInfo::FileLine() const {
  if (location.line() == 0) return "(unknown location)";
  return absl::StrCat(std::string(BaseName(location.file_name())), ":",
                      location.line());
}

SourceInfo MakeSourceInfo(std::source_location location) {
  return SourceInfo{location, CurrentScope()};
}

NameScope::NameScope(const std::string& name) : previous_(CurrentScope()) {
  std::string full = previous_ && !previous_->empty()
                         ? absl::StrCat(*previous_, "/", name)
                         : name;
  CurrentScope() = std::make_shared<const std::string>(std::move(full));
}

NameScope::~NameScope() { CurrentScope() = previous_; }

std::string NameScope::Current() {
  const auto& scope = CurrentScope();
  return scope ? *scope : std::string();
}

}  // namespace theta
