// Grammar for messages: counted nouns and articles, so that errors read
// "1 entry", "3 entries", "an int32 tensor", "a float32 tensor".
//
//   absl::StrCat("outputs_info has ", Count(n, "entry", "entries"));
//   absl::StrCat("got ", Article(DTypeName(d)), " ", DTypeName(d), " tensor");
#ifndef THETA_GRAPH_TEXT_H_
#define THETA_GRAPH_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace theta {

// "<n> <noun>": `singular` when n is 1 or -1, else `plural` (empty: singular
// + "s").
std::string Count(int64_t n, std::string_view singular,
                  std::string_view plural = "");

// "an" before a word that starts with a vowel letter other than u ("an
// int32", "an element"), else "a" ("a float32", "a uint8", "a bool").
const char* Article(std::string_view word);

}  // namespace theta

#endif  // THETA_GRAPH_TEXT_H_
