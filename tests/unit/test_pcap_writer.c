/* The pcap writer, read back by tshark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/pcap_writer.h"
#include "tests/lib/netpkt.h"

static char path[] = "/tmp/vmdeck-pcap-XXXXXX";

static int setup(void **state)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

/* tshark's output for the file with extra ARGS (stderr apart). */
static char *tshark(const char *args, int *status)
{
	char cmd[512];
	static char out[16384];
	snprintf(cmd, sizeof(cmd), "tshark -r '%s' %s 2>/dev/null", path, args);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	*status = pclose(p);
	return out;
}

static void test_frames_read_back_by_tshark(void **state)
{
	struct pcap_writer w;
	struct error err;
	assert_int_equal(pcap_writer_open(&w, path, &err), 0);
	struct pkt_addr me = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, { 10, 0, 2, 15 } };
	uint8_t f[PKT_MAX];
	struct timespec ts = { 1700000000, 123456789 };
	size_t n = pkt_arp_request(f, &me, (uint8_t[]){ 10, 0, 2, 2 });
	assert_int_equal(pcap_writer_write(&w, f, n, &ts), 0);
	n = pkt_dhcp(f, me.mac, 0xabcd, 1, NULL);
	ts.tv_sec++;
	assert_int_equal(pcap_writer_write(&w, f, n, &ts), 0);
	/* Longer than the snap length: cut, with the real length kept. */
	static uint8_t huge[70000];
	memcpy(huge, f, n);
	assert_int_equal(pcap_writer_write(&w, huge, sizeof(huge), &ts), 0);
	assert_int_equal(w.packets, 3);
	assert_int_equal(pcap_writer_close(&w, &err), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	int status;
	char *out = tshark("", &status);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "Who has 10.0.2.2? Tell 10.0.2.15"));
	assert_non_null(strstr(out, "DHCP Discover - Transaction ID 0xabcd"));
	out = tshark("-T fields -e frame.number -e frame.len -e frame.cap_len -e frame.time_epoch", &status);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "1\t60\t60\t1700000000.123456000"));
	assert_non_null(strstr(out, "3\t70000\t65535\t1700000001.123456000"));
}

static void test_header_is_classic_pcap(void **state)
{
	struct pcap_writer w;
	struct error err;
	assert_int_equal(pcap_writer_open(&w, path, &err), 0);
	assert_int_equal(pcap_writer_close(&w, &err), 0);
	FILE *f = fopen(path, "rb");
	uint8_t h[32];
	assert_int_equal(fread(h, 1, sizeof(h), f), 24);
	fclose(f);
	const uint8_t want[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				   0xff, 0xff, 0, 0, 1, 0, 0, 0 };
	assert_memory_equal(h, want, 24);
	int status;
	tshark("", &status);
	assert_int_equal(status, 0);            /* an empty capture is still valid */
}

static void test_errors_are_sentences(void **state)
{
	struct pcap_writer w;
	struct error err;
	assert_int_equal(pcap_writer_open(&w, "/nonexistent/x.pcap", &err), -1);
	assert_string_equal(err.msg, "cannot create the capture file '/nonexistent/x.pcap': No such file or directory");
	assert_false(pcap_writer_is_open(&w));
	/* A full disk: the header cannot be written. */
	assert_int_equal(pcap_writer_open(&w, "/dev/full", &err), -1);
	assert_string_equal(err.msg, "cannot write the capture file '/dev/full': No space left on device");
	uint8_t f[64] = { 0 };
	struct timespec ts = { 0, 0 };
	assert_int_equal(pcap_writer_write(&w, f, sizeof(f), &ts), -1);   /* closed: refused, no crash */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_read_back_by_tshark),
		cmocka_unit_test(test_header_is_classic_pcap),
		cmocka_unit_test(test_errors_are_sentences),
	};
	return cmocka_run_group_tests_name("pcap writer", tests, setup, teardown);
}
