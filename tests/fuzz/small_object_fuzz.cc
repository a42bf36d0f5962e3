// Fuzzes the small-object heap against the shadow model with three threads
// in lockstep: the input picks the thread of every allocation and free, so
// remote frees, thread caches and collect are all exercised. After every
// step the heap's invariant walk runs on each of the three threads, so every
// thread's cache and pages are checked.
#include "alloy/small_object.h"
#include "tests/fuzz/lockstep_threads.h"
#include "tests/fuzz/shadow_model.h"

namespace {

alloy_small_object *Heap(void *state) { return static_cast<alloy_small_object *>(state); }

void *Create() {
  alloy_small_object_config config = {};
  config.max_size = 512;
  config.page_size = 1u << 14;
  config.capacity = 1u << 26;
  config.max_threads = 8;
  alloy_small_object *heap = nullptr;
  return alloy_small_object_create(&config, &heap) == ALLOY_OK ? heap : nullptr;
}

// Each thread walks its own lists; the first failure is the result.
alloy_status CheckOnEveryThread(void *state) {
  alloy_status result = ALLOY_OK;
  for (int thread = 0; thread < 3 && result == ALLOY_OK; ++thread)
    alloy_fuzz::RunOnThread(thread, [&] { result = alloy_small_object_check(Heap(state)); });
  return result;
}

bool IsInitial(void *state, const char **why) {
  alloy_small_object_stats stats;
  alloy_small_object_get_stats(Heap(state), &stats);
  *why = "live bytes left after every free and a collect";
  return stats.live_bytes == 0;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "small_object";
  s.typical_size = 512;
  s.threads = 3;
  s.any_thread_allocates = true;
  s.create = Create;
  s.destroy = [](void *state) { alloy_small_object_destroy(Heap(state)); };
  s.resource = [](void *state) { return alloy_small_object_resource(Heap(state)); };
  s.trim = [](void *state) { alloy_small_object_trim(Heap(state)); };
  s.collect = [](void *state) { alloy_small_object_collect(Heap(state)); };
  s.thread_done = [](void *state) { alloy_small_object_thread_detach(Heap(state)); };
  s.is_initial = IsInitial;
  s.check = CheckOnEveryThread;
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
