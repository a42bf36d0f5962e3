/* Per-node read-only copies: bind, commit, copy, protect. */
#include "alloy/numa_replica.h"

#include <string.h>

#include "alloy/align.h"
#include "alloy/numa.h"
#include "alloy/vm.h"

struct alloy_numa_replica {
  size_t size;          /* bytes of the structure */
  size_t mapped_size;   /* bytes of each copy's mapping (pages) */
  size_t header_size;   /* bytes of the mapping that holds this header */
  int count;            /* copies, one per node */
  const void *copies[]; /* copies[node] */
};

static alloy_status release_copies(alloy_numa_replica *replica, int count) {
  alloy_status status = ALLOY_OK;
  for (int node = 0; node < count; ++node) {
    alloy_status released = alloy_vm_release((void *)replica->copies[node], replica->mapped_size);
    if (released != ALLOY_OK) status = released;
  }
  return status;
}

static alloy_status place_copy(const void *data, size_t size, size_t mapped_size, int node, const void **out) {
  void *copy;
  ALLOY_TRY(alloy_vm_reserve(mapped_size, alloy_vm_page_size(), &copy));
  alloy_status status = alloy_numa_bind(copy, mapped_size, node);
  if (status == ALLOY_OK) status = alloy_vm_commit(copy, mapped_size);
  if (status == ALLOY_OK) {
    memcpy(copy, data, size); /* first touch happens here, on the bound node */
    status = alloy_vm_protect(copy, mapped_size, ALLOY_VM_READ);
  }
  if (status != ALLOY_OK) {
    ALLOY_IGNORE_STATUS(alloy_vm_release(copy, mapped_size));
    return status;
  }
  *out = copy;
  return ALLOY_OK;
}

alloy_status alloy_numa_replica_create(const void *data, size_t size, alloy_numa_replica **out) {
  if (data == NULL || out == NULL || size == 0 || size > ALLOY_MAX_REQUEST) return ALLOY_E_INVALID_ARGUMENT;
  const size_t page = alloy_vm_page_size();
  const int count = alloy_numa_node_count();
  size_t mapped_size, header_size;
  if (!alloy_align_up_checked(size, page, &mapped_size)) return ALLOY_E_INVALID_ARGUMENT;
  header_size = alloy_align_up(sizeof(alloy_numa_replica) + (size_t)count * sizeof(void *), page);

  void *header;
  ALLOY_TRY(alloy_vm_map(header_size, page, &header));
  alloy_numa_replica *replica = header;
  replica->size = size;
  replica->mapped_size = mapped_size;
  replica->header_size = header_size;
  replica->count = count;
  for (int node = 0; node < count; ++node) {
    alloy_status status = place_copy(data, size, mapped_size, node, &replica->copies[node]);
    if (status != ALLOY_OK) {
      ALLOY_IGNORE_STATUS(release_copies(replica, node));
      ALLOY_IGNORE_STATUS(alloy_vm_release(header, header_size));
      return status;
    }
  }
  *out = replica;
  return ALLOY_OK;
}

const void *alloy_numa_replica_local(const alloy_numa_replica *replica) {
  int node = 0;
  if (replica->count > 1 && alloy_numa_current_node(&node) != ALLOY_OK) node = 0;
  if (node < 0 || node >= replica->count) node = 0;
  return replica->copies[node];
}

alloy_status alloy_numa_replica_on_node(const alloy_numa_replica *replica, int node, const void **out) {
  if (replica == NULL || out == NULL || node < 0) return ALLOY_E_INVALID_ARGUMENT;
  if (node >= replica->count) return ALLOY_E_UNAVAILABLE;
  *out = replica->copies[node];
  return ALLOY_OK;
}

int alloy_numa_replica_count(const alloy_numa_replica *replica) { return replica->count; }

size_t alloy_numa_replica_size(const alloy_numa_replica *replica) { return replica->size; }

alloy_status alloy_numa_replica_destroy(alloy_numa_replica *replica) {
  if (replica == NULL) return ALLOY_E_INVALID_ARGUMENT;
  alloy_status status = release_copies(replica, replica->count);
  alloy_status released = alloy_vm_release(replica, replica->header_size);
  return status != ALLOY_OK ? status : released;
}
