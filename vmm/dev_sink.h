/* Ports that firmware and kernels write for timing or progress codes
 * (0x80 POST codes, 0xED I/O delay): writes are absorbed without a log
 * line each, reads return the last value written (as on real hardware). */
#ifndef VMDECK_DEV_SINK_H
#define VMDECK_DEV_SINK_H

#include <stdint.h>

#include "vmm/bus.h"

struct sink {
	uint8_t last;
	uint64_t writes;
};

extern const struct bus_ops sink_bus_ops;

#endif
