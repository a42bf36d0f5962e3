/* Keys for the misuse checks: the kernel's generator, mixed with the time
 * and a salt, through a 64-bit finaliser (see alloy/random.h). */
#define _GNU_SOURCE /* getrandom, clock_gettime under -std=c11 */
#include "alloy/random.h"

#include <sys/random.h>
#include <time.h>

/* A bijective mixer (the splitmix64 finaliser): nearby inputs give unrelated outputs. */
static uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t alloy_random_key(const void *salt) {
  static uint64_t counter;
  uint64_t entropy = 0;
  if (getrandom(&entropy, sizeof entropy, GRND_NONBLOCK) != (ssize_t)sizeof entropy) entropy = 0;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
  uint64_t key = mix(entropy ^ mix((uint64_t)(uintptr_t)salt ^ ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^
                                   (n * 0x9E3779B97F4A7C15ull)));
  return key != 0 ? key : 0x9E3779B97F4A7C15ull;
}
