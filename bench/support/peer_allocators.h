// bench/support/peer_allocators.h — the peers (glibc, mimalloc, jemalloc, tcmalloc) in one process.
//
// glibc is the process's own malloc. The others are Debian's shared libraries
// opened with dlopen(RTLD_NOW | RTLD_LOCAL): their entry points are looked up
// on the handle, so none of them replaces the process malloc and all of them
// run side by side in the same run. Each peer is checked in a forked child
// (a million blocks allocated and freed from two threads, plus cross-thread
// frees) before it is used; a peer that fails is skipped with the reason.
#ifndef ALLOY_BENCH_SUPPORT_PEER_ALLOCATORS_H
#define ALLOY_BENCH_SUPPORT_PEER_ALLOCATORS_H

#include <memory>
#include <string>

#include "bench/support/allocator.h"

namespace alloy_bench {

struct PeerLoad {
  std::unique_ptr<Allocator> allocator;  // null when skipped
  std::string library;                   // the shared object, or "libc"
  std::string note;                      // why it was skipped, or how it was loaded
};

// name: "glibc", "mimalloc", "jemalloc" or "tcmalloc". `check`: run the
// two-thread check in a child first (skip only in a process that already
// had it checked, such as the report's own memory-trace children).
PeerLoad LoadPeer(const std::string& name, bool check = true);

// jemalloc and tcmalloc keep their thread state in initial-exec TLS, which a
// library opened with dlopen must take from glibc's small static TLS surplus.
// glibc.rtld.optional_static_tls raises that surplus but is read only at
// process start, so this re-executes the program once with it set (a no-op
// when already set or when `allowed` is false). Call it first thing in main.
void EnsureStaticTlsForPeers(int argc, char** argv, bool allowed);

// glibc's main-arena plus mmapped bytes (mallinfo2).
HeldMemory GlibcHeldMemory();

// Runs `check` on a fresh allocator in a forked child; empty on success,
// otherwise what went wrong (signal or exit code).
std::string CheckInChild(Allocator& allocator);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_PEER_ALLOCATORS_H
