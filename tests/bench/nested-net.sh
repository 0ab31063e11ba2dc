#!/bin/sh
# Nested network throughput: vmdeck --net user against QEMU -netdev user
# (both libslirp), in the same L1 on the same L2 (see tests/system/).  L2
# sends MIB MiB to L1's nc and receives as much back (busybox dd + nc);
# ROUNDS rounds, each in its own L1, the two VMMs in alternating order.
# Reports the median seconds each way, the ratio QEMU time / vmdeck time
# (goal >= 1.0: vmdeck at least as fast) and the VMM's CPU time per MiB
# moved (the whole VMM process, guest and boot included).  Absolute
# numbers under TCG say little; the ratios do.
#
#   ROUNDS=3 (default)   MIB=64 (default)   VMDECK_BIN=path (default: bin/vmdeck)
# A transfer whose L2 the nested setup lost boots again (up to 3 attempts,
# see BENCH_ATTEMPTS in l1-tests.sh); medians are over the rounds whose
# transfers completed.  Every result line is listed, with what the guest
# paid each way (interrupts, segments, retransmissions).  Exit status 0
# when each VMM completed at least one round (goal met or not), 1
# otherwise, 77 when the images cannot be built here.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rounds=${ROUNDS:-3}
mib=${MIB:-64}
log_dir=$top/build/nested
log=$log_dir/bench-net-serial.log
mkdir -p "$log_dir"

"$top/tests/system/build-images.sh" || exit $?
# Under TCG both ways together take up to 0.8 s per MiB: twice that, and
# the boot.  A guest that stops making progress (one way L1 loses its L2s)
# costs this much before it boots again.
per_guest=$((90 + mib * 2))
attempts=3                    # l1-tests.sh: BENCH_ATTEMPTS
# One L1 per round: under heavy network load the nested setup itself
# loses L2s (l1-tests.sh boots them again) and once in a while L1 itself,
# and a fresh L1 keeps that to one round.  The order alternates so that
# neither VMM always runs on a freshly booted L1.  L1's console can stay
# quiet for as long as a transfer runs.
: >"$log"
r=1
while [ "$r" -le "$rounds" ]; do
	order=vmdeck-net-bench,qemu-net-bench
	[ $((r % 2)) = 0 ] && order=qemu-net-bench,vmdeck-net-bench
	echo "ROUND $r $order" >>"$log"
	"$top/tests/system/run-l1.sh" -t $((60 + 2 * attempts * (per_guest + 30))) -i $((per_guest + 30)) \
		-a "vmdeck.scenarios=$order vmdeck.netmib=$mib vmdeck.timeout=$per_guest" \
		"${VMDECK_BIN:-$top/bin/vmdeck}" >>"$log" 2>&1 || true
	r=$((r + 1))
done

awk -v rounds="$rounds" -v mib="$mib" -v logfile="$log" '
	function median(a, n,   i, j, t) {
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2
	}
	{ sub(/^[0-9]+\| /, "") }
	/^RESULT / { print "  " $0 }
	/^!! vmdeck-net-bench: L1 lost/ { vlost++ }
	/^!! qemu-net-bench: L1 lost/ { qlost++ }
	$1 == "METRIC" && $2 == "vmdeck-net-bench-up-s" { vu[nvu++] = $3 }
	$1 == "METRIC" && $2 == "vmdeck-net-bench-down-s" { vd[nvd++] = $3 }
	$1 == "METRIC" && $2 == "vmdeck-net-bench-vmm-cpu-s" { vc[nvc++] = $3 }
	$1 == "METRIC" && $2 == "qemu-net-bench-up-s" { qu[nqu++] = $3 }
	$1 == "METRIC" && $2 == "qemu-net-bench-down-s" { qd[nqd++] = $3 }
	$1 == "METRIC" && $2 == "qemu-net-bench-vmm-cpu-s" { qc[nqc++] = $3 }
	END {
		if (nvu < 1 || nqu < 1) {
			printf "nested-net: %d vmdeck and %d QEMU transfers of %d completed; see %s\n", nvu, nqu, rounds, logfile
			exit 1
		}
		a = median(vu, nvu); b = median(qu, nqu); c = median(vd, nvd); d = median(qd, nqd)
		printf "nested-net: %d MiB guest->L1, median of %d/%d: vmdeck %.1f s (%.2f MiB/s), QEMU %.1f s (%.2f MiB/s), ratio %.2f\n", mib, nvu, nqu, a, mib / a, b, mib / b, b / a
		printf "nested-net: %d MiB L1->guest, median of %d/%d: vmdeck %.1f s (%.2f MiB/s), QEMU %.1f s (%.2f MiB/s), ratio %.2f\n", mib, nvd, nqd, c, mib / c, d, mib / d, d / c
		printf "nested-net: VMM CPU per MiB moved (process, guest and boot included): vmdeck %.2f s, QEMU %.2f s\n", median(vc, nvc) / (2 * mib), median(qc, nqc) / (2 * mib)
		printf "nested-net: L2s that L1 lost and booted again: vmdeck %d, QEMU %d\n", vlost, qlost
		printf "nested-net: goal ratio >= 1.0 both ways: %s\n", (b / a >= 1 && d / c >= 1) ? "met" : "NOT met"
	}' "$log"
