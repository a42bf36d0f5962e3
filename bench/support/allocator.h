// bench/support/allocator.h — what a benchmark subject looks like to the workloads.
//
// Every subject — a peer malloc loaded with dlopen or any alloy_resource — is
// reached through this one interface, so every subject pays the same one
// virtual call per operation on top of its own entry point (a dlsym'd function
// or an ops table). Sizes and alignments are passed back on free so that sized
// frees (alloy's contract, sdallocx, tc_free_sized, mi_free_size) are used
// wherever the subject has one.
#ifndef ALLOY_BENCH_SUPPORT_ALLOCATOR_H
#define ALLOY_BENCH_SUPPORT_ALLOCATOR_H

#include <cstddef>
#include <string>
#include <vector>

namespace alloy_bench {

// A block a subject moved (its bytes already copied): the workload repoints
// its reference from `from` to `to`.
struct BlockMove {
  void* from;
  void* to;
};

// Bytes a subject holds from the OS, and how that number was obtained.
struct HeldMemory {
  bool known = false;
  size_t bytes = 0;
  std::string method;  // e.g. "mallinfo2 arena+hblkhd", "RSS delta"
};

class Allocator {
 public:
  virtual ~Allocator() = default;

  virtual const std::string& name() const = 0;
  // nullptr on failure. align is a power of two.
  virtual void* Allocate(size_t size, size_t align) = 0;
  // size and align are those given to Allocate.
  virtual void Free(void* ptr, size_t size, size_t align) = 0;

  // Whether any thread may allocate and any thread may free.
  virtual bool thread_safe() const { return true; }
  // The largest request the subject serves (workloads above it are skipped).
  virtual size_t max_size() const { return static_cast<size_t>(-1) / 2; }

  // Frame-style subjects: Reset releases everything allocated since Mark.
  virtual bool can_reset() const { return false; }
  virtual bool Mark() { return false; }
  virtual bool Reset() { return false; }

  // Memory held right now, by the subject's own accounting when it has one.
  // Workloads take differences between two readings, so a constant baseline
  // (other subjects, the harness) cancels out. RSS-based probes are only
  // meaningful while the subject is the only thing allocating.
  virtual HeldMemory Held() { return HeldMemory{}; }
  // Bytes set aside for the live blocks by the subject's own books: their
  // sizes as placed (rounding included) plus their headers. False when the
  // subject does not say.
  virtual bool BlockBytes(size_t* bytes) {
    (void)bytes;
    return false;
  }
  // Returns cached free memory to the OS where the subject can (before a
  // memory measurement starts).
  virtual void Trim() {}
  // Called after every operation of a workload that can repoint its blocks
  // (the medium trace): a subject that moves blocks (a defragmenting heap)
  // may move some now, copy their bytes and append each move to `moves`.
  // False on failure. Default: moves nothing.
  virtual bool Defragment(std::vector<BlockMove>* moves) {
    (void)moves;
    return true;
  }
};

// Resident set size of this process in bytes (from /proc/self/statm).
size_t ProcessResidentBytes();

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_ALLOCATOR_H
