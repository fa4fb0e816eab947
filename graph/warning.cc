#include "graph/warning.h"

#include <iostream>
#include <mutex>
#include <utility>

namespace theta {
namespace {

std::mutex& HandlerMutex() {
  static std::mutex* mutex = new std::mutex;
  return *mutex;
}

WarningHandler& Handler() {
  static WarningHandler* handler = new WarningHandler(PrintWarningToStderr);
  return *handler;
}

}  // namespace

WarningHandler SetWarningHandler(WarningHandler handler) {
  std::lock_guard<std::mutex> lock(HandlerMutex());
  return std::exchange(Handler(), std::move(handler));
}

void PrintWarningToStderr(std::string_view message) {
  std::cerr << "theta warning: " << message << "\n";
}

void Warn(std::string_view message) {
  WarningHandler handler;
  {
    std::lock_guard<std::mutex> lock(HandlerMutex());
    handler = Handler();
  }
  if (handler) handler(message);
}

}  // namespace theta
