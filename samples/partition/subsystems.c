/* Sample: one partition per subsystem.
 *
 * Network packets and UI widgets live in separate partitions: a dangling
 * packet pointer can only ever hit packet memory, never a widget, and a free
 * through the wrong partition is caught instead of corrupting either heap. */
#include <stdio.h>
#include <string.h>

#include "alloy/allocator.h"
#include "alloy/fault.h"
#include "alloy/partition.h"

typedef struct packet {
  unsigned id;
  unsigned length;
  unsigned char payload[1400];
} packet;

typedef struct widget {
  float x, y, w, h;
  char label[48];
} widget;

/* A program that prefers to log programming errors rather than abort. */
static void log_fault(const alloy_fault *fault, void *context) {
  char message[256];
  (void)context;
  alloy_fault_format(fault, message, sizeof message);
  printf("caught: %s\n", message);
}

int main(void) {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  alloy_partition_root *root;
  if (alloy_partition_root_create(&root_config, &root) != ALLOY_OK) return 1;

  alloy_partition_config config = alloy_partition_config_default();
  config.guard_pages = true; /* an overrun off a packet slab faults */
  alloy_partition *network, *ui;
  if (alloy_partition_create(root, "network", &config, &network) != ALLOY_OK) return 1;
  config.guard_pages = false;
  if (alloy_partition_create(root, "ui", &config, &ui) != ALLOY_OK) return 1;
  alloy_allocator net = alloy_allocator_of(alloy_partition_resource(network));
  alloy_allocator gui = alloy_allocator_of(alloy_partition_resource(ui));

  packet *p;
  widget *w;
  if (ALLOY_NEW(net, packet, &p) != ALLOY_OK || ALLOY_NEW(gui, widget, &w) != ALLOY_OK) return 1;
  p->id = 1;
  strcpy(w->label, "Connect");
  printf("packet in '%s', widget in '%s'\n", alloy_partition_name(alloy_partition_of(root, p)),
         alloy_partition_name(alloy_partition_of(root, w)));

  alloy_fault_set_handler(log_fault, NULL);
  alloy_status status = alloy_free(gui, alloy_block_make(p, sizeof *p), ALLOY_ALIGNOF(packet));
  printf("freeing the packet through ui: %s (the packet is untouched, id %u)\n", alloy_status_name(status), p->id);
  alloy_fault_set_handler(NULL, NULL);

  ALLOY_IGNORE_STATUS(ALLOY_DELETE(net, packet, p));
  ALLOY_IGNORE_STATUS(ALLOY_DELETE(gui, widget, w));
  alloy_partition_root_destroy(root);
  return 0;
}
