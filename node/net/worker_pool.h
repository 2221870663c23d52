// A fixed pool of threads running queued tasks, with a bounded queue so that
// overload is refused (TrySchedule returns false) rather than queued forever.
#ifndef CDL_NODE_NET_WORKER_POOL_H_
#define CDL_NODE_NET_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace cdl::net {

class WorkerPool {
 public:
  // `name` (at most 15 characters) names the threads for ps/top/perf.
  WorkerPool(int threads, size_t max_queue, const char* name = "cdl-worker");
  // Runs the queued tasks, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false if the queue is full or the pool is stopping.
  bool TrySchedule(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);
  size_t queued() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  const size_t max_queue_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace cdl::net

#endif  // CDL_NODE_NET_WORKER_POOL_H_
