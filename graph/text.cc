#include "graph/text.h"

#include "absl/strings/str_cat.h"

namespace theta {

std::string Count(int64_t n, std::string_view singular,
                  std::string_view plural) {
  // (absl::StrCat here takes absl::string_view, not std::string_view.)
  const std::string noun(n == 1 || n == -1 ? singular
                         : plural.empty()  ? singular
                                           : plural);
  const bool add_s = n != 1 && n != -1 && plural.empty();
  return absl::StrCat(n, " ", noun, add_s ? "s" : "");
}

const char* Article(std::string_view word) {
  if (word.empty()) return "a";
  switch (word[0]) {
    case 'a':
    case 'e':
    case 'i':
    case 'o':
    case 'A':
    case 'E':
    case 'I':
    case 'O':
      return "an";
    default:
      return "a";
  }
}

}  // namespace theta
