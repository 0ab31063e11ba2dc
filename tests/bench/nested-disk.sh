#!/bin/sh
# Guest disk throughput: a stock Linux in the nested setup (tests/system/)
# writes then reads 256 MiB of /dev/vda with O_DIRECT, on a fresh growable
# qcow2, under vmdeck and under QEMU's virtio-blk in the same L1, ROUNDS
# times in alternation.  Reports the medians and the throughput ratios
# against the goal vmdeck >= 0.9x QEMU.
#
#   ROUNDS=2 (default)   VMDECK_BIN=path (default: bin/vmdeck)
# Exit status 0 when every round was measured, 1 when one is missing, 77 when
# the images cannot be built here.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rounds=${ROUNDS:-2}
log_dir=$top/build/nested
log=$log_dir/bench-disk-serial.log
mkdir -p "$log_dir"

"$top/tests/system/build-images.sh" || exit $?
"$top/tests/system/run-l1.sh" -t $((60 + rounds * 2 * 200)) \
	-a "vmdeck.scenarios=vmdeck-diskbench,qemu-diskbench vmdeck.repeat=$rounds" \
	"${VMDECK_BIN:-$top/bin/vmdeck}" >"$log" 2>&1 || true

awk -v rounds="$rounds" -v logfile="$log" '
	function median(a, n,   i, j, t) {
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((n - 1) / 2)]
	}
	{ sub(/^[0-9]+\| /, "") }
	/^RESULT / && $3 != "pass" { print "  " $0 }
	$1 == "METRIC" { v[$2, n[$2]++] = $3 }
	function med(name,   a, i) { for (i = 0; i < n[name]; i++) a[i] = v[name, i]; return median(a, n[name]) }
	function line(what, key,   mv, mq) {
		mv = med("vmdeck-disk-" key "-ms"); mq = med("qemu-disk-" key "-ms")
		printf "nested-disk: 256 MiB %s: vmdeck %d ms (%.1f MiB/s), QEMU %d ms (%.1f MiB/s); ratio %.2f (goal >= 0.90: %s)\n",
			what, mv, 256000 / mv, mq, 256000 / mq, mq / mv, mq / mv >= 0.9 ? "met" : "NOT met"
	}
	END {
		if (n["vmdeck-disk-write-ms"] < rounds || n["qemu-disk-write-ms"] < rounds) {
			printf "nested-disk: only %d vmdeck and %d QEMU rounds of %d measured; see %s\n",
				n["vmdeck-disk-write-ms"], n["qemu-disk-write-ms"], rounds, logfile
			exit 1
		}
		line("sequential write", "write")
		line("sequential read", "read")
	}' "$log"
