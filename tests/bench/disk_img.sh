#!/bin/sh
# vmdeck img bench/convert against qemu-img bench/convert on the same files.
# Every case runs RUNS times, alternating the two tools, and keeps the best
# time of each (the machine may be shared; the best run is the least noisy).
# Throughput ratio = qemu time / vmdeck time (goal >= 1.0); convert time
# ratio = vmdeck time / qemu time (goal <= 1.0).  The best CPU time (user +
# system) of each tool is shown too.
set -e
VMDECK=${VMDECK_BIN:-bin/vmdeck}
RUNS=${RUNS:-3}
SIZE_MB=${SIZE_MB:-512}
base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/vmdeck-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
img=$work/bench.qcow2

now() { date +%s.%N; }
elapsed() { # command... -> seconds in $wall, CPU seconds in $cpu
	t0=$(now); cpu_of "$@" >/dev/null 2>&1; t1=$(now)
	wall=$(echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }')
}
# CPU seconds (user + system) of the last timed command, when /usr/bin/time
# exists: on a loaded machine CPU time says more than wall time.
TIME=$(command -v /usr/bin/time || true)
cpu=""
cpu_of() { # command... (output discarded) ; sets $cpu
	if [ -n "$TIME" ]; then
		"$TIME" -f "%U %S" -o "$work/cpu" "$@"
		cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$work/cpu")
	else
		"$@"; cpu=""
	fi
}
bench_time() { # tool args... -> "Run completed in X seconds."; sets $cpu
	cpu_of "$@" > "$work/bench.out" 2>/dev/null || true
	sed -n 's/^Run completed in \([0-9.]*\) seconds\./\1/p' "$work/bench.out"
}
min() { echo "$1 $2" | awk '{ if ($2 == "" || ($1 != "" && $1 < $2)) print $1; else print $2 }'; }

report() { # label ours theirs kind ours_cpu theirs_cpu
	awk -v label="$1" -v v="$2" -v q="$3" -v kind="$4" -v vc="$5" -v qc="$6" 'BEGIN {
		if (v == "" || q == "") { printf "  %-30s a run failed (vmdeck \"%s\", qemu-img \"%s\")\n", label, v, q; exit 1 }
		if (kind == "throughput") r = q / v; else r = v / q;
		printf "  %-26s vmdeck %6.3fs  qemu-img %6.3fs  ratio %.2f (%s)", label, v, q, r,
			kind == "throughput" ? "qemu/vmdeck, goal >= 1.0" : "vmdeck/qemu, goal <= 1.0"
		if (vc != "" && qc != "") printf "  cpu %.3fs vs %.3fs", vc, qc
		printf "\n" }'
}

compare_bench() { # label args...
	label=$1; shift
	best_v=""; best_q=""; cpu_v=""; cpu_q=""
	i=0
	while [ $i -lt "$RUNS" ]; do
		# Write-back of the previous run would be charged to the next one.
		sync; bench_time "$VMDECK" img bench "$@" "$img" > "$work/t"; v=$(cat "$work/t")
		cpu_v=$(min "$cpu" "$cpu_v")
		sync; bench_time qemu-img bench "$@" "$img" > "$work/t"; q=$(cat "$work/t")
		cpu_q=$(min "$cpu" "$cpu_q")
		best_v=$(min "$v" "$best_v"); best_q=$(min "$q" "$best_q")
		i=$((i + 1))
	done
	report "$label" "$best_v" "$best_q" throughput "$cpu_v" "$cpu_q"
}

compare_convert() { # label srcfmt src dstfmt
	label=$1 sfmt=$2 src=$3 dfmt=$4
	best_v=""; best_q=""; cpu_v=""; cpu_q=""
	i=0
	while [ $i -lt "$RUNS" ]; do
		rm -f "$work/out"; sync; elapsed "$VMDECK" img convert -q -f "$sfmt" -O "$dfmt" "$src" "$work/out"
		best_v=$(min "$wall" "$best_v"); cpu_v=$(min "$cpu" "$cpu_v")
		rm -f "$work/out"; sync; elapsed qemu-img convert -q -f "$sfmt" -O "$dfmt" "$src" "$work/out"
		best_q=$(min "$wall" "$best_q"); cpu_q=$(min "$cpu" "$cpu_q")
		i=$((i + 1))
	done
	report "$label" "$best_v" "$best_q" time "$cpu_v" "$cpu_q"
}

echo "disk image benchmarks: ${SIZE_MB} MiB fully allocated qcow2, best of $RUNS runs, $(nproc) CPUs"
qemu-img create -q -f qcow2 -o preallocation=full "$img" "${SIZE_MB}M"
# 4 KiB "random" I/O: qemu-img bench only strides, so stride by 1 MiB + 4 KiB,
# which visits a different cluster and L2 entry on every request.
stride=1052672
compare_bench "4K random read, QD1" -c 100000 -d 1 -s 4k -S $stride
compare_bench "4K random read, QD32" -c 200000 -d 32 -s 4k -S $stride
compare_bench "4K random write, QD1" -w -c 50000 -d 1 -s 4k -S $stride
compare_bench "4K random write, QD32" -w -c 100000 -d 32 -s 4k -S $stride
compare_bench "1M sequential read, QD1" -c 2000 -d 1 -s 1M
compare_bench "1M sequential write, QD1" -w -c 2000 -d 1 -s 1M

# Convert: half random data, a quarter text, a quarter zeros.
raw=$work/src.raw
qemu-img create -q -f raw "$raw" "${SIZE_MB}M"
head -c $((SIZE_MB / 2))M /dev/urandom | dd of="$raw" conv=notrunc status=none
yes 'vmdeck benchmark line' | head -c $((SIZE_MB / 4))M | dd of="$raw" bs=1M seek=$((SIZE_MB / 2)) conv=notrunc status=none
qemu-img convert -q -f raw -O qcow2 "$raw" "$work/src.qcow2"
compare_convert "convert qcow2 -> raw" qcow2 "$work/src.qcow2" raw
compare_convert "convert raw -> qcow2" raw "$raw" qcow2
