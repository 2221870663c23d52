// ThreadSanitizer builds only (-DCDL_SANITIZE=thread links this into every
// executable): tells TSan about absl::Mutex, absl::CondVar and their
// Conditions, whose code lives in Debian's uninstrumented
// libabsl_synchronization.so.
//
// Why: absl::Mutex takes and releases its lock with atomics inside that
// library. Built without -fsanitize=thread it carries no TSan annotations, so
// TSan never sees a lock taken and reports every access to state guarded by an
// absl::Mutex (node, mempool, worker pool, transport, ...) as a race.
//
// How: this file defines the public non-inline members our code and gRPC's
// gpr_mu/gpr_cv call. The executable's definitions take precedence over the
// library's (ELF symbol interposition); each forwards to the library's own
// (found with dlsym(RTLD_NEXT)) and adds __tsan_acquire after taking the lock
// and __tsan_release before letting it go, keyed on the Mutex's address.
// Conditions are wrapped so the predicate, which absl may evaluate on the
// thread that is unlocking, runs between an acquire and a release too.
//
// What is lost: these are plain happens-before edges, not TSan mutex
// annotations, so TSan does not report lock-order inversions or unlocking an
// unheld absl::Mutex (absl's own debug checks and our tests cover those).
// absl::Notification is not annotated: no threaded code of ours uses it.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"

namespace {

#define CDL_STRINGIFY2(x) #x
#define CDL_STRINGIFY(x) CDL_STRINGIFY2(x)

// The library's definition of absl::<rest>, where `rest` is the Itanium
// mangling after the absl::<inline namespace>:: prefix (e.g. "5Mutex4LockEv").
void *RealSymbol(const char *rest) {
  const std::string ns = CDL_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = "_ZN4absl" + std::to_string(ns.size()) + ns + rest;
  void *fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found in the loaded Abseil\n",
                 name.c_str());
    std::abort();
  }
  return fn;
}

// REAL(Type, "mangled rest"): the library function, looked up once.
#define REAL(Type, rest)                                                       \
  ([]() {                                                                      \
    static Type fn = reinterpret_cast<Type>(RealSymbol(rest));                 \
    return fn;                                                                 \
  }())

void Acquire(const void *mu) { __tsan_acquire(const_cast<void *>(mu)); }
void Release(const void *mu) { __tsan_release(const_cast<void *>(mu)); }

// A condition evaluated as if inside the critical section of `mu`.
struct Annotated {
  const absl::Condition *cond;
  absl::Mutex *mu;
};
bool EvalAnnotated(void *arg) {
  auto *a = static_cast<Annotated *>(arg);
  Acquire(a->mu);
  bool result = a->cond->Eval();
  Release(a->mu);
  return result;
}

using PlainFn = void (*)(absl::Mutex *);
using TryFn = bool (*)(absl::Mutex *);
using WithCondFn = void (*)(absl::Mutex *, const absl::Condition &);
using WithCondTimeoutFn = bool (*)(absl::Mutex *, const absl::Condition &,
                                   absl::Duration);
using WithCondDeadlineFn = bool (*)(absl::Mutex *, const absl::Condition &,
                                    absl::Time);
using WaitFn = void (*)(absl::CondVar *, absl::Mutex *);
using WaitTimeoutFn = bool (*)(absl::CondVar *, absl::Mutex *, absl::Duration);
using WaitDeadlineFn = bool (*)(absl::CondVar *, absl::Mutex *, absl::Time);

} // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  REAL(PlainFn, "5Mutex4LockEv")(this);
  Acquire(this);
}
void Mutex::ReaderLock() {
  REAL(PlainFn, "5Mutex10ReaderLockEv")(this);
  Acquire(this);
}
void Mutex::Unlock() {
  Release(this);
  REAL(PlainFn, "5Mutex6UnlockEv")(this);
}
void Mutex::ReaderUnlock() {
  Release(this);
  REAL(PlainFn, "5Mutex12ReaderUnlockEv")(this);
}
bool Mutex::TryLock() {
  bool locked = REAL(TryFn, "5Mutex7TryLockEv")(this);
  if (locked)
    Acquire(this);
  return locked;
}
bool Mutex::ReaderTryLock() {
  bool locked = REAL(TryFn, "5Mutex13ReaderTryLockEv")(this);
  if (locked)
    Acquire(this);
  return locked;
}

void Mutex::LockWhen(const Condition &cond) {
  Annotated a{&cond, this};
  REAL(WithCondFn, "5Mutex8LockWhenERKNS0_9ConditionE")
  (this, Condition(&EvalAnnotated, &a));
  Acquire(this);
}
void Mutex::ReaderLockWhen(const Condition &cond) {
  Annotated a{&cond, this};
  REAL(WithCondFn, "5Mutex14ReaderLockWhenERKNS0_9ConditionE")
  (this, Condition(&EvalAnnotated, &a));
  Acquire(this);
}
bool Mutex::LockWhenWithTimeout(const Condition &cond, Duration timeout) {
  Annotated a{&cond, this};
  bool result =
      REAL(WithCondTimeoutFn,
           "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE")(
          this, Condition(&EvalAnnotated, &a), timeout);
  Acquire(this);
  return result;
}
bool Mutex::LockWhenWithDeadline(const Condition &cond, Time deadline) {
  Annotated a{&cond, this};
  bool result =
      REAL(WithCondDeadlineFn,
           "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE")(
          this, Condition(&EvalAnnotated, &a), deadline);
  Acquire(this);
  return result;
}
bool Mutex::ReaderLockWhenWithTimeout(const Condition &cond, Duration timeout) {
  Annotated a{&cond, this};
  bool result =
      REAL(WithCondTimeoutFn,
           "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE")(
          this, Condition(&EvalAnnotated, &a), timeout);
  Acquire(this);
  return result;
}
bool Mutex::ReaderLockWhenWithDeadline(const Condition &cond, Time deadline) {
  Annotated a{&cond, this};
  bool result =
      REAL(WithCondDeadlineFn,
           "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE")(
          this, Condition(&EvalAnnotated, &a), deadline);
  Acquire(this);
  return result;
}

// Await* may let the lock go and take it again.
void Mutex::Await(const Condition &cond) {
  Annotated a{&cond, this};
  Release(this);
  REAL(WithCondFn, "5Mutex5AwaitERKNS0_9ConditionE")
  (this, Condition(&EvalAnnotated, &a));
  Acquire(this);
}
bool Mutex::AwaitWithTimeout(const Condition &cond, Duration timeout) {
  Annotated a{&cond, this};
  Release(this);
  bool result =
      REAL(WithCondTimeoutFn,
           "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE")(
          this, Condition(&EvalAnnotated, &a), timeout);
  Acquire(this);
  return result;
}
bool Mutex::AwaitWithDeadline(const Condition &cond, Time deadline) {
  Annotated a{&cond, this};
  Release(this);
  bool result = REAL(WithCondDeadlineFn,
                     "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE")(
      this, Condition(&EvalAnnotated, &a), deadline);
  Acquire(this);
  return result;
}

// Waiting lets `mu` go and takes it again.
void CondVar::Wait(Mutex *mu) {
  Release(mu);
  REAL(WaitFn, "7CondVar4WaitEPNS0_5MutexE")(this, mu);
  Acquire(mu);
}
bool CondVar::WaitWithTimeout(Mutex *mu, Duration timeout) {
  Release(mu);
  bool result = REAL(WaitTimeoutFn,
                     "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE")(
      this, mu, timeout);
  Acquire(mu);
  return result;
}
bool CondVar::WaitWithDeadline(Mutex *mu, Time deadline) {
  Release(mu);
  bool result =
      REAL(WaitDeadlineFn, "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE")(
          this, mu, deadline);
  Acquire(mu);
  return result;
}

ABSL_NAMESPACE_END
} // namespace absl
