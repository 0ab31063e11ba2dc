#!/bin/sh
# Runs every benchmark: the bench_* programs given as arguments (built by
# the Makefile from tests/bench/bench_*.c) and every tests/bench/*.sh script
# but this one.  Each prints its own numbers; this only sequences them and
# ends with one line naming those that failed to produce a measurement.
# Environment from `make bench`: VMDECK_BIN, VMDECK_GUESTS.
set -u

here=$(cd "$(dirname "$0")" && pwd)
failed=""
for b in "$@" "$here"/*.sh; do
	[ -e "$b" ] || continue
	[ "$(basename "$b")" = run-bench.sh ] && continue
	name=$(basename "$b")
	echo "==> $name"
	case $b in
	*.sh) sh "$b" ;;
	*) "$b" ;;
	esac || failed="$failed $name"
done
echo
if [ -n "$failed" ]; then
	echo "benchmarks that failed:$failed"
	exit 1
fi
echo "all benchmarks ran"
