/* vmm/dev_sink.c: ports 0x80 and 0xED absorb writes and read back the
 * last value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/dev_sink.h"

static void reads_back_the_last_write(void **state)
{
	struct sink s = { 0 };
	uint8_t v = 0xaa;
	sink_bus_ops.read(&s, 0, &v, 1);
	assert_int_equal(v, 0);                 /* nothing written yet */
	uint8_t w = 0x12;
	sink_bus_ops.write(&s, 0, &w, 1);
	sink_bus_ops.read(&s, 0, &v, 1);
	assert_int_equal(v, 0x12);
	w = 0xed;
	sink_bus_ops.write(&s, 0, &w, 1);
	uint8_t four[4] = { 0 };
	sink_bus_ops.read(&s, 0, four, 4);      /* every byte of a wide read */
	for (int i = 0; i < 4; i++)
		assert_int_equal(four[i], 0xed);
	assert_int_equal(s.last, 0xed);
}

static void counts_writes(void **state)
{
	struct sink s = { 0 };
	for (unsigned i = 0; i < 1000; i++) {
		uint8_t w = (uint8_t)i;
		sink_bus_ops.write(&s, 0, &w, 1);
	}
	assert_int_equal(s.writes, 1000);
	assert_int_equal(s.last, (uint8_t)999);
	uint8_t v;
	sink_bus_ops.read(&s, 0, &v, 1);
	assert_int_equal(s.writes, 1000);       /* reads are not writes */
	/* A wide write stores its first byte (the one port 0x80 decodes). */
	uint8_t wide[2] = { 0x34, 0x12 };
	sink_bus_ops.write(&s, 0, wide, 2);
	assert_int_equal(s.last, 0x34);
	assert_int_equal(s.writes, 1001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_back_the_last_write),
		cmocka_unit_test(counts_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
