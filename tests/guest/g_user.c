/* Ring 3: a loop at CPL 3 (native speed even where CPL 0 is emulated), then
 * back to CPL 0 through SYSCALL.  `loops=N` sets the iteration count; the
 * result is an xorshift64 value the host checks. */
#include "guest.h"

static uint64_t loops = 1000000;
static volatile uint64_t result;
static volatile uint16_t user_cs;

static void user_loop(void)
{
	uint64_t x = 88172645463325252ull;
	for (uint64_t i = 0; i < loops; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	result = x;
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	user_cs = cs;
}

void guest_main(void)
{
	char buf[24];
	if (cmdline_get("loops", buf, sizeof(buf))) {
		loops = 0;
		for (const char *p = buf; *p >= '0' && *p <= '9'; p++)
			loops = loops * 10 + (uint64_t)(*p - '0');
	}
	println("user: entering cpl 3");
	enter_user(user_loop);
	print("user: loop ran at cpl ");
	put_dec(user_cs & 3);
	putc_serial('\n');
	print("user: back at cpl 0, result ");
	put_hex(result);
	putc_serial('\n');
}
