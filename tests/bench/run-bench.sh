#!/bin/sh
# Runs every benchmark: the bench_* programs given as arguments, then every
# tests/bench/*.sh script.  Benchmarks print their own results; a failing one
# is reported but does not stop the others.
status=0
# A runtime directory of the benchmarks' own (as make check has): their
# unnamed VMs must not meet the user's under vm.sock or vm.vnc.
XDG_RUNTIME_DIR=$(mktemp -d /tmp/vmdeck-bench-XXXXXX) || exit 1
export XDG_RUNTIME_DIR
trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
for b in "$@"; do
	echo "==> $(basename "$b")"
	"$b" || { echo "** $(basename "$b") failed"; status=1; }
done
for s in "$(dirname "$0")"/*.sh; do
	[ "$(basename "$s")" = run-bench.sh ] && continue
	[ -x "$s" ] || continue
	echo "==> $(basename "$s")"
	"$s" || { echo "** $(basename "$s") failed"; status=1; }
done
exit $status
