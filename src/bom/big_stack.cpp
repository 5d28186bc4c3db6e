#include "big_stack.hpp"

#include <pthread.h>

#include <cstring>
#include <string>

namespace mlsc::bom::detail {

namespace {

void* trampoline(void* arg) {
  (*static_cast<const std::function<void()>*>(arg))();
  return nullptr;
}

class ThreadAttr {
 public:
  ThreadAttr() { ok_ = pthread_attr_init(&attr_) == 0; }
  ~ThreadAttr() {
    if (ok_) pthread_attr_destroy(&attr_);
  }
  ThreadAttr(const ThreadAttr&) = delete;
  ThreadAttr& operator=(const ThreadAttr&) = delete;
  bool ok() const { return ok_; }
  pthread_attr_t* get() { return &attr_; }

 private:
  pthread_attr_t attr_{};
  bool ok_ = false;
};

}  // namespace

Expected<void> run_on_big_stack(const std::function<void()>& fn, std::size_t stack_bytes) {
  ThreadAttr attr;
  if (!attr.ok()) return Error("cannot create thread attributes");
  if (const int rc = pthread_attr_setstacksize(attr.get(), stack_bytes); rc != 0)
    return Error(std::string("cannot set a large thread stack: ") + std::strerror(rc));
  pthread_t thread{};
  // The function is only read by the thread, and outlives it: join below waits for it.
  auto* arg = const_cast<std::function<void()>*>(&fn);
  if (const int rc = pthread_create(&thread, attr.get(), trampoline, arg); rc != 0)
    return Error(std::string("cannot start the validation thread: ") + std::strerror(rc));
  pthread_join(thread, nullptr);
  return {};
}

}  // namespace mlsc::bom::detail
