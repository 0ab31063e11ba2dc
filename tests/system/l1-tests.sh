#!/bin/sh
# The nested tier's test list, run by L1's /init.  Each scenario boots the L2
# kernel (/l2/vmlinuz, /l2/initrd.cpio, see l2-init.sh) under a VMM on L1's
# /dev/kvm and prints, on the serial console the host test parses:
#   RESULT <scenario> pass|fail <one-line detail>
#   METRIC <name> <value> <unit>
# Guest output is echoed live as "[scenario] MS| line" for debugging.
#
# Adding a scenario: write a function scenario_NAME (dashes in the test's
# name become underscores), add the name to ALL_SCENARIOS and to
# scenario_names in test_nested.c.
#
# L1 kernel parameters: vmdeck.scenarios=a,b,c picks scenarios (default
# all), vmdeck.repeat=N boots each of them N times (the benchmark uses it),
# vmdeck.timeout=S changes the per-boot limit.
set -u

L2_KERNEL=/l2/vmlinuz
L2_INITRD=/l2/initrd.cpio
L2_CMDLINE_BASE="console=ttyS0 panic=-1 quiet"
VMDECK=/payload/bin/vmdeck
# Generous: under TCG a broken VMM must fail a test, never hang the tier.
TIMEOUT=120
# Once the guest says it powers off, reboots or panics, the VMM has this
# long to exit before the scenario is declared stuck.
GRACE=15
LOGDIR=/tmp/l1-logs
ALL_SCENARIOS="qemu-reference vmdeck-boot-smp vmdeck-reboot-noreboot"

# ---- running a guest and reading its output ---------------------------------

# run_guest NAME CMD...: boots a guest, echoing its stamped output as it
# comes; leaves the log in $LOG and l1tool's exit status in $RC.  sed must
# write to the console itself: into a pipe it would hold the lines back
# until the guest is gone.
run_guest() {
	name=$1
	shift
	LOG=$LOGDIR/$name.log
	{
		l1tool run -g "$GRACE" -e "reboot: Power down" -e "reboot: Restarting system" \
			-e "Kernel panic" "$TIMEOUT" "$@"
		echo $? >"$LOGDIR/$name.rc"
	} | tee "$LOG" | sed "s/^/[$name] /"
	RC=$(cat "$LOGDIR/$name.rc")
}

# Milliseconds from VMM start to the L2 marker line, or nothing.
marker_ms() {
	awk 'index($0, "VMDECK-L2-UP") { sub(/\|.*/, ""); print; exit }' "$LOG"
}

# Value of the guest's "L2 KEY VALUE" line, or nothing.
fact() {
	awk -v key="$1" '{ sub(/^[0-9]+\| /, "") } $1 == "L2" && $2 == key { print $3; exit }' "$LOG"
}

last_words() {
	grep -v '| l1tool: ' "$LOG" | tail -n 1 | cut -d' ' -f2- | cut -c1-160
}

# RESULT and METRIC lines also go to a file, for report_ratio.
result() {
	echo "RESULT $1 $2 $3" | tee -a "$LOGDIR/console"
}

metric() {
	echo "METRIC $1 $2 $3" | tee -a "$LOGDIR/console"
}

# Common verdict for a boot: marker seen, the guest got as far as its
# scenario, expected CPUs online, VMM exit status 0.
# $1 test name, $2 L2 scenario, $3 expected cpus-online or "", $4 prefix
# for the metrics.
judge_boot() {
	ms=$(marker_ms)
	cpus=$(fact cpus-online)
	why=""
	[ -n "$ms" ] || why="no VMDECK-L2-UP marker;"
	[ -z "$ms" ] || [ "$(fact scenario)" = "$2" ] || why="$why L2 never started scenario $2;"
	[ -z "$3" ] || [ -z "$ms" ] || [ "$cpus" = "$3" ] || why="$why cpus-online '$cpus', want '$3';"
	case $RC in
	0) ;;
	124) why="$why never exited (killed at the time limit, or $GRACE s after the guest's power-off, reboot or panic);" ;;
	*) why="$why exit status $RC;" ;;
	esac
	if [ -z "$why" ]; then
		result "$1" pass "marker at ${ms} ms, cpus-online ${cpus:-?}, exit 0"
	else
		result "$1" fail "$why last line: $(last_words)"
	fi
	if [ -n "$ms" ]; then
		metric "$4-l2-marker-ms" "$ms" ms
		metric "$4-l2-uptime-at-marker-s" "$(fact uptime-s)" s
	fi
}

l2_cmdline() {
	echo "$L2_CMDLINE_BASE vmdeck.test=$1"
}

# ---- scenarios ----------------------------------------------------------------

scenario_qemu_reference() {
	run_guest qemu-reference qemu-system-x86_64 -enable-kvm -cpu host -smp 2 -m 256M \
		-nographic -no-reboot -kernel "$L2_KERNEL" -initrd "$L2_INITRD" \
		-append "$(l2_cmdline poweroff)"
	judge_boot qemu-reference poweroff 0-1 qemu
}

scenario_vmdeck_boot_smp() {
	run_guest vmdeck-boot-smp "$VMDECK" run --kernel "$L2_KERNEL" --initrd "$L2_INITRD" \
		--cpus 2 --mem 256M --serial stdio --cmdline "$(l2_cmdline poweroff)"
	judge_boot vmdeck-boot-smp poweroff 0-1 vmdeck
}

scenario_vmdeck_reboot_noreboot() {
	run_guest vmdeck-reboot-noreboot "$VMDECK" run --kernel "$L2_KERNEL" --initrd "$L2_INITRD" \
		--cpus 2 --mem 256M --serial stdio --no-reboot --cmdline "$(l2_cmdline reboot)"
	judge_boot vmdeck-reboot-noreboot reboot "" vmdeck-reboot
}

# ---- driver -------------------------------------------------------------------

cmdline_param() {
	for word in $(cat /proc/cmdline); do
		case $word in
		"$1"=*) echo "${word#*=}"; return ;;
		esac
	done
}

# Ratio of the median marker times, from the METRIC lines printed so far.
report_ratio() {
	awk '$1 == "METRIC" && $2 == "vmdeck-l2-marker-ms" { v[nv++] = $3 }
	     $1 == "METRIC" && $2 == "qemu-l2-marker-ms" { q[nq++] = $3 }
	     function median(a, n,   i, j, t) {
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((n - 1) / 2)]
	     }
	     END { if (nv && nq) printf "METRIC vmdeck-qemu-boot-ratio %.2f x\n", median(v, nv) / median(q, nq) }' "$LOGDIR/console"
}

run_scenario() {
	fn=scenario_$(echo "$1" | tr '-' '_')
	if command -v "$fn" >/dev/null 2>&1; then
		"$fn"
	else
		result "$1" fail "no such scenario in l1-tests.sh"
	fi
}

main() {
	mkdir -p "$LOGDIR"
	: >"$LOGDIR/console"
	scenarios=$(cmdline_param vmdeck.scenarios | tr ',' ' ')
	repeat=$(cmdline_param vmdeck.repeat)
	limit=$(cmdline_param vmdeck.timeout)
	TIMEOUT=${limit:-$TIMEOUT}
	[ -x "$VMDECK" ] || echo "L1 vmdeck binary missing at $VMDECK"
	# Rounds, not one scenario N times in a row: a noisy neighbour then
	# slows both VMMs alike and the ratio stays honest.
	i=0
	while [ "$i" -lt "${repeat:-1}" ]; do
		for s in ${scenarios:-$ALL_SCENARIOS}; do
			run_scenario "$s"
		done
		i=$((i + 1))
	done
	report_ratio
}

main "$@"
