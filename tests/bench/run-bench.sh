#!/bin/sh
# Runs every benchmark: the tests/bench/bench_* programs given as arguments,
# then every other tests/bench/*.sh script.  Each prints its own numbers;
# this script only reports which ones failed to run.
dir=$(dirname "$0")
failed=""
for b in "$@"; do
	echo "==> $(basename "$b")"
	"$b" || failed="$failed $(basename "$b")"
done
for s in "$dir"/*.sh; do
	[ "$(basename "$s")" = run-bench.sh ] && continue
	echo "==> $(basename "$s")"
	sh "$s" || failed="$failed $(basename "$s")"
done
[ -n "$failed" ] && { echo "benchmarks that failed to run:$failed"; exit 1; }
exit 0
