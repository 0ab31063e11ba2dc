#!/bin/sh
# Nested boot time: vmdeck against QEMU, both in the same L1 on the same L2
# (see tests/system/).  Boots L1 once, and in it each VMM ROUNDS times in
# alternation; reports the median time from VMM start to the L2 marker and
# the ratio, against the goal vmdeck <= 0.8x QEMU.  Absolute times under TCG
# say little about a desktop; the ratio does.
#
#   ROUNDS=3 (default)   VMDECK_BIN=path (default: bin/vmdeck)
# Exit status 0 when both VMMs booted every round (goal met or not), 1 when
# a measurement is missing, 77 when the images cannot be built here.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rounds=${ROUNDS:-3}
goal=0.80
log_dir=$top/build/nested
log=$log_dir/bench-serial.log
mkdir -p "$log_dir"

"$top/tests/system/build-images.sh" || exit $?
"$top/tests/system/run-l1.sh" -t $((60 + rounds * 2 * 130)) \
	-a "vmdeck.scenarios=qemu-reference,vmdeck-boot-smp vmdeck.repeat=$rounds" \
	"${VMDECK_BIN:-$top/bin/vmdeck}" >"$log" 2>&1 || true

awk -v rounds="$rounds" -v goal="$goal" -v logfile="$log" '
	function median(a, n,   i, j, t) {
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((n - 1) / 2)]
	}
	{ sub(/^[0-9]+\| /, "") }
	/^RESULT / && $3 != "pass" { print "  " $0 }
	$1 == "METRIC" && $2 == "vmdeck-l2-marker-ms" { v[nv++] = $3 }
	$1 == "METRIC" && $2 == "qemu-l2-marker-ms" { q[nq++] = $3 }
	END {
		if (nv < rounds || nq < rounds) {
			printf "nested-boot: only %d vmdeck and %d QEMU boots of %d measured; see %s\n", nv, nq, rounds, logfile
			exit 1
		}
		mv = median(v, nv); mq = median(q, nq)
		printf "nested-boot: L2 boot to marker, median of %d: vmdeck %d ms, QEMU %d ms\n", rounds, mv, mq
		printf "nested-boot: ratio vmdeck/QEMU %.2f (goal <= %.2f: %s)\n", mv / mq, goal, mv / mq <= goal ? "met" : "NOT met"
	}' "$log"
