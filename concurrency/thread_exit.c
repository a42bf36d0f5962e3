/* Thread-exit callbacks on POSIX thread-specific keys. */
#include "alloy/thread_exit.h"

#include <errno.h>
#include <pthread.h>

ALLOY_STATIC_ASSERT(sizeof(pthread_key_t) <= sizeof(unsigned int), "pthread_key_t must fit the stored key");

alloy_status alloy_thread_exit_key_create(alloy_thread_exit_key *key, alloy_thread_exit_fn on_exit) {
  if (key == NULL || on_exit == NULL) return ALLOY_E_INVALID_ARGUMENT;
  pthread_key_t created;
  int error = pthread_key_create(&created, on_exit);
  if (error == EAGAIN) return ALLOY_E_CAPACITY;
  if (error != 0) return ALLOY_E_OUT_OF_MEMORY;
  key->key = (unsigned int)created;
  key->valid = true;
  return ALLOY_OK;
}

void alloy_thread_exit_key_delete(alloy_thread_exit_key *key) {
  if (key == NULL || !key->valid) return;
  pthread_key_delete((pthread_key_t)key->key);
  key->valid = false;
}

alloy_status alloy_thread_exit_set(const alloy_thread_exit_key *key, void *value) {
  if (key == NULL || !key->valid) return ALLOY_E_INVALID_ARGUMENT;
  return pthread_setspecific((pthread_key_t)key->key, value) == 0 ? ALLOY_OK : ALLOY_E_OUT_OF_MEMORY;
}

void *alloy_thread_exit_get(const alloy_thread_exit_key *key) {
  if (key == NULL || !key->valid) return NULL;
  return pthread_getspecific((pthread_key_t)key->key);
}
