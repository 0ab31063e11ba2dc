/* Linux input key codes (<linux/input-event-codes.h>, the project's key
 * numbering) to PS/2 scancode set 2 as a keyboard sends them. */
#ifndef VMDECK_PS2_SCANCODE_H
#define VMDECK_PS2_SCANCODE_H

#include <stdbool.h>
#include <stdint.h>

#define PS2_SCANCODE_MAX 8

/* Writes the make (DOWN) or break code of KEYCODE; returns its length, 0
 * for a key a PS/2 keyboard does not have. */
unsigned ps2_scancode(unsigned keycode, bool down, uint8_t out[PS2_SCANCODE_MAX]);

#endif
