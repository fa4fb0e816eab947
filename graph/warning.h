// Warnings: every warning Theta gives (scan's unused initial values, grad's
// disconnected inputs and function's unused inputs with kWarn) goes through
// one handler, which by default prints "theta warning: <message>" to
// stderr. A program redirects or silences them by installing its own.
//
//   theta::WarningHandler previous = theta::SetWarningHandler(
//       [](std::string_view message) { my_log(message); });
//   theta::SetWarningHandler(previous);   // restores it
#ifndef THETA_GRAPH_WARNING_H_
#define THETA_GRAPH_WARNING_H_

#include <functional>
#include <string_view>
#include <utility>

namespace theta {

// Receives the message without the "theta warning: " prefix or a newline.
using WarningHandler = std::function<void(std::string_view message)>;

// Installs `handler` for every thread and returns the one it replaces. An
// empty handler (nullptr) silences warnings. Safe to call from any thread;
// a warning being delivered concurrently may still reach the old handler.
WarningHandler SetWarningHandler(WarningHandler handler);

// The default handler: writes "theta warning: <message>\n" to stderr.
void PrintWarningToStderr(std::string_view message);

// Delivers `message` to the current handler (the library's warnings call
// this; programs may too).
void Warn(std::string_view message);

// Installs a handler for the lifetime of this object, then restores the
// previous one (for tests and scoped silencing). Not copyable.
class ScopedWarningHandler {
 public:
  explicit ScopedWarningHandler(WarningHandler handler)
      : previous_(SetWarningHandler(std::move(handler))) {}
  ~ScopedWarningHandler() { SetWarningHandler(std::move(previous_)); }
  ScopedWarningHandler(const ScopedWarningHandler&) = delete;
  ScopedWarningHandler& operator=(const ScopedWarningHandler&) = delete;

 private:
  WarningHandler previous_;
};

}  // namespace theta

#endif  // THETA_GRAPH_WARNING_H_
