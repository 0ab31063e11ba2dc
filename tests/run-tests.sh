#!/bin/sh
# Runs cmocka test programs one after the other, shows their output and ends
# with one line "N passed, N failed".  A program that dies before printing
# cmocka's summary counts as one failure, so a crash can never pass.
# cmocka prints one summary per group; a program may run several groups.
sum_of() {
	awk -v tag="[  $1]" 'index($0, tag) == 1 && $4 ~ /^[0-9]+$/ && $5 ~ /^test\(s\)/ { n += $4; seen = 1 }
		END { if (seen) print n }' "$2"
}
passed=0 failed=0 skipped=0 broken=""
# A runtime directory of the suite's own: VMs the tests start without a
# name must not meet the user's VMs (or another suite's) under vm.sock.
XDG_RUNTIME_DIR=$(mktemp -d /tmp/vmdeck-check-XXXXXX) || exit 1
export XDG_RUNTIME_DIR
trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
for t in "$@"; do
	name=$(basename "$t")
	echo "==> $name"
	out=$(mktemp)
	{ "$t" 2>&1; echo $? >"$out.rc"; } | tee "$out"
	rc=$(cat "$out.rc")
	p=$(sum_of 'PASSED  ' "$out")
	f=$(sum_of 'FAILED  ' "$out")
	s=$(sum_of 'SKIPPED ' "$out")
	if [ -z "$p" ] && [ -z "$f" ]; then
		echo "** $name ended without a cmocka summary: counted as a failure"
		f=1 p=0
	fi
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "** $name exited with status $rc after its tests passed (sanitizer or leak report?): counted as a failure"
		f=1
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	[ "${f:-0}" -gt 0 ] && broken="$broken $name"
	rm -f "$out" "$out.rc"
done
echo
if [ "$skipped" -gt 0 ]; then
	echo "!! $skipped test(s) SKIPPED: see the SKIPPED lines above for why"
fi
[ -n "$broken" ] && echo "failing programs:$broken"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
