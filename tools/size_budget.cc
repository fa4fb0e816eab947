// size_budget: reports C/C++/CUDA files over a line budget and functions over
// a line budget, for the size test (tools/size_budget_test.sh).
//
//   size_budget --max_file_lines=1000 --max_function_lines=150
//       --exceptions=tools/size_budget_exceptions.txt FILE...
//
// Prints one line per offender ("FILE: 1011 lines (budget 1000)",
// "FILE:LINE: function NAME is 567 lines (budget 150)") and exits 1 when an
// offender is not listed in the exceptions file, or when an exception is stale
// (names nothing over budget), or when an exception gives no reason. Exits 0
// otherwise, 2 on bad usage or an unreadable file.
//
// A function's length runs from the first line of its declaration (its
// `template <...>` line, if any) to the line of its closing brace, both
// included, as Google-style C++ lays it out. Functions are the definitions at
// namespace or class scope; lambdas and local classes count toward the
// function holding them. Comments, string and character literals (raw strings
// too) and preprocessor lines are ignored when finding braces.
//
// Exceptions file: one entry a line, `#` starts a comment line.
//   PATH: REASON                 (the file PATH may pass the file budget)
//   PATH FUNCTION_NAME: REASON   (that function in PATH may pass the budget)
// PATH is as given on the command line, without a leading "./".
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Function {
  std::string name;
  int first_line = 0;
  int last_line = 0;
};

// Returns `text` with comments, string and character literals and
// preprocessor lines replaced by spaces; newlines are kept so that line numbers
// still hold.
std::string StripNonCode(const std::string& text) {
  std::string out = text;
  const size_t n = text.size();
  size_t i = 0;
  bool line_start = true;  // only whitespace so far on this line
  auto blank = [&](size_t from, size_t to) {
    for (size_t k = from; k < to && k < n; ++k) {
      if (out[k] != '\n') out[k] = ' ';
    }
  };
  while (i < n) {
    const char c = text[i];
    if (c == '\n') {
      line_start = true;
      ++i;
      continue;
    }
    if (line_start && c == '#') {  // a directive, with its continuations
      size_t j = i;
      while (j < n && text[j] != '\n') {
        if (text[j] == '\\' && j + 1 < n && text[j + 1] == '\n') ++j;
        ++j;
      }
      blank(i, j);
      i = j;
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) line_start = false;
    if (c == '/' && i + 1 < n && text[i + 1] == '/') {
      size_t j = i;
      while (j < n && text[j] != '\n') ++j;
      blank(i, j);
      i = j;
      continue;
    }
    if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      size_t end = text.find("*/", i + 2);
      end = end == std::string::npos ? n : end + 2;
      blank(i, end);
      i = end;
      continue;
    }
    const bool raw = c == 'R' && i + 1 < n && text[i + 1] == '"' &&
                     (i == 0 ||
                      !(std::isalnum(static_cast<unsigned char>(text[i - 1])) ||
                        text[i - 1] == '_') ||
                      text[i - 1] == 'u' || text[i - 1] == 'U' ||
                      text[i - 1] == 'L' || text[i - 1] == '8');
    if (raw) {
      const size_t open = text.find('(', i + 2);
      if (open != std::string::npos) {
        const std::string delimiter =
            ")" + text.substr(i + 2, open - (i + 2)) + "\"";
        size_t end = text.find(delimiter, open);
        end = end == std::string::npos ? n : end + delimiter.size();
        blank(i, end);
        i = end;
        continue;
      }
    }
    const bool digit_separator =
        c == '\'' && i > 0 &&
        std::isxdigit(static_cast<unsigned char>(text[i - 1])) && i + 1 < n &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1]));
    if ((c == '"' || c == '\'') && !digit_separator) {
      size_t j = i + 1;
      while (j < n && text[j] != c && text[j] != '\n') {
        if (text[j] == '\\') ++j;
        ++j;
      }
      blank(i, j + 1);
      i = j + 1;
      continue;
    }
    ++i;
  }
  return out;
}

std::string Trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool IsIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

bool StartsWithWord(const std::string& s, const std::string& word) {
  return s.compare(0, word.size(), word) == 0 &&
         (s.size() == word.size() || !IsIdentifierChar(s[word.size()]));
}

// Drops a leading `template <...>` (angle brackets balanced).
std::string DropTemplateHead(std::string s) {
  while (StartsWithWord(s, "template")) {
    size_t i = s.find('<');
    if (i == std::string::npos) return s;
    int depth = 0;
    for (; i < s.size(); ++i) {
      if (s[i] == '<') ++depth;
      if (s[i] == '>' && --depth == 0) break;
    }
    s = Trim(i < s.size() ? s.substr(i + 1) : "");
  }
  return s;
}

// The qualified name just before the first '(' of a declaration.
std::string FunctionName(const std::string& declaration) {
  const size_t paren = declaration.find('(');
  size_t e = paren;
  while (e > 0 && std::isspace(static_cast<unsigned char>(declaration[e - 1])))
    --e;
  size_t b = e;
  while (b > 0 && (IsIdentifierChar(declaration[b - 1]) ||
                   declaration[b - 1] == ':' || declaration[b - 1] == '~')) {
    --b;
  }
  std::string name = declaration.substr(b, e - b);
  return name.empty() ? "(unnamed)" : name;
}

enum class Scope { kTransparent, kFunction, kOpaque, kMemberInit };

// What the '{' that ends `declaration` opens, at namespace or class scope.
Scope Classify(const std::string& raw_declaration) {
  const std::string d = DropTemplateHead(Trim(raw_declaration));
  if (StartsWithWord(d, "namespace") ||
      (StartsWithWord(d, "extern") && d.find('(') == std::string::npos)) {
    return Scope::kTransparent;
  }
  for (const char* keyword : {"class", "struct", "union", "enum", "typedef"}) {
    if (StartsWithWord(d, keyword) && d.find('(') == std::string::npos) {
      return Scope::kTransparent;
    }
  }
  if (d.find('(') == std::string::npos || d.empty() || d.back() == '=' ||
      d.back() == ',' || d.back() == '(') {
    return Scope::kOpaque;
  }
  // `Foo::Foo(int a) : a_(a), b_{b} {`: the brace after `b_` initialises a
  // member; the body is the brace after it.
  const size_t close = d.rfind(')');
  if (IsIdentifierChar(d.back()) && close != std::string::npos &&
      d.find(':', close) != std::string::npos &&
      d.find("->", close) == std::string::npos) {
    size_t k = d.size();
    while (k > 0 && IsIdentifierChar(d[k - 1])) --k;
    const std::string last = d.substr(k);
    if (last != "const" && last != "override" && last != "final" &&
        last != "noexcept" && last != "mutable" && last != "try") {
      return Scope::kMemberInit;
    }
  }
  return Scope::kFunction;
}

// Finds the function definitions at namespace and class scope of `code`
// (already stripped of comments, literals and directives).
std::vector<Function> FindFunctions(const std::string& code) {
  std::vector<Function> functions;
  std::string declaration;    // text since the last ';', '{' or '}'
  int declaration_line = 0;   // line of its first non-space character
  std::vector<Scope> scopes;  // open braces at namespace/class scope
  int line = 1;
  for (size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    if (c == '\n') {
      ++line;
      declaration += ' ';
      continue;
    }
    if (c == ';' || c == '}') {
      if (c == '}' && !scopes.empty()) {
        const Scope closed = scopes.back();
        scopes.pop_back();
        if (closed == Scope::kMemberInit) {
          declaration += "{}";
          continue;
        }
      }
      declaration.clear();
      continue;
    }
    if (c != '{') {
      if (Trim(declaration).empty() &&
          !std::isspace(static_cast<unsigned char>(c))) {
        declaration_line = line;
        // A label such as `public:` is not part of the next declaration.
      }
      declaration += c;
      const std::string t = Trim(declaration);
      if (t == "public:" || t == "private:" || t == "protected:") {
        declaration.clear();
      }
      continue;
    }
    const Scope scope = Classify(declaration);
    if (scope == Scope::kTransparent || scope == Scope::kMemberInit) {
      scopes.push_back(scope);
      if (scope == Scope::kTransparent) declaration.clear();
      continue;
    }
    // A function body or an opaque block: skip to its matching brace.
    int depth = 1;
    size_t j = i + 1;
    int end_line = line;
    for (; j < code.size() && depth > 0; ++j) {
      if (code[j] == '\n') ++end_line;
      if (code[j] == '{') ++depth;
      if (code[j] == '}') --depth;
    }
    if (scope == Scope::kFunction) {
      functions.push_back({FunctionName(DropTemplateHead(Trim(declaration))),
                           declaration_line, end_line});
    }
    line = end_line;
    i = j - 1;
    declaration.clear();
  }
  return functions;
}

struct Exceptions {
  // key: "PATH" or "PATH FUNCTION" -> reason
  std::map<std::string, std::string> reasons;
  std::map<std::string, bool> used;
  bool ok = true;
};

Exceptions ReadExceptions(const std::string& path) {
  Exceptions exceptions;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "size_budget: cannot read exceptions file %s\n",
                 path.c_str());
    exceptions.ok = false;
    return exceptions;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    const size_t colon = t.find(": ");
    const std::string key =
        Trim(colon == std::string::npos ? t : t.substr(0, colon));
    const std::string reason =
        colon == std::string::npos ? "" : Trim(t.substr(colon + 2));
    if (reason.empty()) {
      std::printf(
          "%s:%d: exception for \"%s\" gives no reason (write "
          "\"PATH [FUNCTION]: REASON\")\n",
          path.c_str(), number, key.c_str());
      exceptions.ok = false;
      continue;
    }
    exceptions.reasons[key] = reason;
    exceptions.used[key] = false;
  }
  return exceptions;
}

bool ParseFlag(const std::string& arg, const std::string& flag,
               std::string* value) {
  const std::string prefix = "--" + flag + "=";
  if (arg.compare(0, prefix.size(), prefix) != 0) return false;
  *value = arg.substr(prefix.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int max_file_lines = 1000;
  int max_function_lines = 150;
  std::string exceptions_path;
  std::vector<std::string> files;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    std::string value;
    if (ParseFlag(arg, "max_file_lines", &value)) {
      max_file_lines = std::atoi(value.c_str());
    } else if (ParseFlag(arg, "max_function_lines", &value)) {
      max_function_lines = std::atoi(value.c_str());
    } else if (ParseFlag(arg, "exceptions", &value)) {
      exceptions_path = value;
    } else if (arg.compare(0, 2, "--") == 0) {
      std::fprintf(stderr, "size_budget: unknown flag %s\n", arg.c_str());
      return 2;
    } else {
      files.push_back(arg.compare(0, 2, "./") == 0 ? arg.substr(2) : arg);
    }
  }
  if (max_file_lines <= 0 || max_function_lines <= 0) {
    std::fprintf(stderr, "size_budget: budgets must be positive\n");
    return 2;
  }
  Exceptions exceptions;
  if (!exceptions_path.empty()) exceptions = ReadExceptions(exceptions_path);
  bool failed = !exceptions.ok;
  int offenders = 0;
  auto report = [&](const std::string& key, const std::string& what) {
    ++offenders;
    auto it = exceptions.reasons.find(key);
    if (it != exceptions.reasons.end()) {
      exceptions.used[key] = true;
      std::printf("excepted: %s [%s]\n", what.c_str(), it->second.c_str());
    } else {
      std::printf("OVER BUDGET: %s\n", what.c_str());
      failed = true;
    }
  };
  for (const std::string& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "size_budget: cannot read %s\n", path.c_str());
      return 2;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    int lines = 0;
    for (char c : text) lines += c == '\n';
    if (!text.empty() && text.back() != '\n') ++lines;
    if (lines > max_file_lines) {
      report(path, path + ": " + std::to_string(lines) + " lines (budget " +
                       std::to_string(max_file_lines) + ")");
    }
    for (const Function& f : FindFunctions(StripNonCode(text))) {
      const int length = f.last_line - f.first_line + 1;
      if (length <= max_function_lines) continue;
      report(path + " " + f.name,
             path + ":" + std::to_string(f.first_line) + ": function " +
                 f.name + " is " + std::to_string(length) + " lines (budget " +
                 std::to_string(max_function_lines) + ")");
    }
  }
  for (const auto& [key, used] : exceptions.used) {
    if (!used) {
      std::printf(
          "STALE EXCEPTION: %s is within budget now; remove it from %s\n",
          key.c_str(), exceptions_path.c_str());
      failed = true;
    }
  }
  std::printf("size_budget: %zu files, %d over budget%s\n", files.size(),
              offenders, failed ? ", FAILED" : "");
  return failed ? 1 : 0;
}
