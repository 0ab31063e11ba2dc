#!/bin/sh
# Boots the L1 guest once with the VMM under test and prints L1's serial
# console on stdout (RESULT and METRIC lines included, see l1-tests.sh).
#
#   run-l1.sh [-t SECONDS] [-i SECONDS] [-a "L1 KERNEL PARAMS"] VMDECK_BIN
#
# The L1 initramfs is the cached base built by build-images.sh with a small
# second archive appended, holding this run's VMDECK_BIN (with its ldd
# closure), l1-tests.sh and l1tool; the kernel unpacks concatenated archives
# in order.  The payload (QEMU and its libraries, the L2 files: ~70 MB)
# travels in the initramfs rather than over 9p: uncompressed, it adds only
# ~0.7 s to L1's boot (measured: 6.1 s -> 6.8 s to power-off), which is all
# 9p could save, and 9p would need eight more modules loaded under TCG plus
# a virtio round trip for every page QEMU and the VMM load.  It is not
# compressed: gzip -1 costs another ~0.6 s to inflate under TCG.
#
# Each output line is stamped "MS| " with the host's milliseconds since QEMU
# started (by l1tool, the same helper L1 uses).  -t is a hard limit on the
# whole run (default 420 s: three scenarios at their 120 s limit plus boot)
# and L1 is also killed after 180 s without a line of output (-i), which only a
# wedged L1 kernel does (a stuck scenario is killed inside L1 at 120 s), or
# 3 s after its kernel reports a soft lockup or an RCU stall, so a hang can
# never hang `make check`.  Long benchmarks raise -i: while L1's
# vCPUs are saturated its console output can lag by a minute or more.
# VMDECK_L1_QEMU_ARGS adds QEMU options for debugging L1 itself, e.g.
# "-monitor unix:/tmp/l1.mon,server,nowait" or "-s" for gdb.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CACHE=${VMDECK_NESTED_CACHE:-$TOP/.cache/nested}
limit=420
idle=180
extra=""

while getopts t:i:a: opt; do
	case $opt in
	t) limit=$OPTARG ;;
	i) idle=$OPTARG ;;
	a) extra=$OPTARG ;;
	*) echo "usage: run-l1.sh [-t SECONDS] [-i SECONDS] [-a PARAMS] VMDECK_BIN" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { echo "usage: run-l1.sh [-t SECONDS] [-i SECONDS] [-a PARAMS] VMDECK_BIN" >&2; exit 2; }
vmdeck=$1

for f in l1-vmlinuz l1-base.cpio l1tool l1vnc; do
	[ -f "$CACHE/$f" ] || { echo "run-l1.sh: $CACHE/$f missing: run build-images.sh" >&2; exit 2; }
done
[ -x "$vmdeck" ] || { echo "run-l1.sh: $vmdeck is not an executable" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/vmdeck-l1.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# Same paths as on the host, so the L1 dynamic loader finds everything.
stage_payload() {
	stage=$work/stage
	mkdir -p "$stage/payload/bin"
	cp -L "$vmdeck" "$stage/payload/bin/vmdeck"
	for lib in $(ldd "$vmdeck" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
	cp "$CACHE/l1tool" "$stage/payload/bin/l1tool"
	cp "$CACHE/l1vnc" "$stage/payload/bin/l1vnc"
	cp "$HERE/l1-tests.sh" "$stage/payload/l1-tests.sh"
	chmod 755 "$stage/payload/l1-tests.sh"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$work/payload.cpio"
	cat "$CACHE/l1-base.cpio" "$work/payload.cpio" >"$work/l1.cpio"
}

# An EPYC with SVM and nested paging for kvm-amd, minus what TCG cannot
# emulate (QEMU would drop those anyway, with one warning per vCPU each).
L1_CPU=EPYC,+svm,+npt,-rdseed,-sha-ni,-fxsr-opt,-misalignsse,-3dnowprefetch,-osvw,-topoext,-nrip-save,-xsavec
# The uncompressed vmlinux boots through PVH, skipping the xz decompression
# of the bzImage that costs ~2 s under TCG; build-images.sh falls back to the
# bzImage if it cannot extract one.
kernel=$CACHE/l1-vmlinux
[ -f "$kernel" ] || kernel=$CACHE/l1-vmlinuz

stage_payload
# tsc=reliable: on a loaded host L1's clocksource watchdog otherwise may
# declare the (host-clock-driven) TCG TSC unstable at boot and fall back to
# the emulated HPET, which made every L2 boot in that L1 three times slower.
# MTTCG (one host thread per vCPU) lets L2 really run two vCPUs in parallel.
# L1's kernel reporting a soft lockup or an RCU stall has broken down for
# good (seen: stall reports every minute until the run's limit), so L1 is
# killed 3 s later and test_nested.c runs what it took with it in a fresh
# L1; keep these signs in step with l1_kernel_broke() there.
# No exec: the trap must still clean up after QEMU exits.
# shellcheck disable=SC2086 # VMDECK_L1_QEMU_ARGS is a list of options
"$CACHE/l1tool" run -i "$idle" -g 3 -k "soft lockup" -k "rcu_preempt detected stalls" \
	-k "rcu_preempt self-detected stall" "$limit" qemu-system-x86_64 -accel tcg,thread=multi -cpu "$L1_CPU" \
	-smp 2 -m 3072 -nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$work/l1.cpio" \
	-append "console=ttyS0 panic=-1 quiet tsc=reliable $extra" ${VMDECK_L1_QEMU_ARGS:-}
