/* virtio-blk's counters for the statistics (the dev_counters hook). */
#ifndef VMDECK_VIRTIO_BLK_STATS_H
#define VMDECK_VIRTIO_BLK_STATS_H

#include "vmm/dev_counters.h"

unsigned vblk_counters(void *dev, struct dev_counter *out, unsigned max);

#endif
