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
L2_GENERIC=/l2/vmlinuz-generic
L2_INITRD=/l2/initrd.cpio
L2_CMDLINE_BASE="console=ttyS0 panic=-1 quiet"
VMDECK=/payload/bin/vmdeck
# Generous: under TCG a broken VMM must fail a test, never hang the tier.
TIMEOUT=120
# Once the guest says it powers off, reboots or panics, the VMM has this
# long to exit before the scenario is declared stuck.
GRACE=15
LOGDIR=/tmp/l1-logs
ALL_SCENARIOS="qemu-reference vmdeck-boot-smp vmdeck-reboot-noreboot vmdeck-disk vmdeck-display"

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
		# A guest that reboots on purpose (REBOOT_IS_END=no) keeps its VMM.
		if [ "${REBOOT_IS_END:-yes}" = yes ]; then
			l1tool run -g "$GRACE" -e "reboot: Power down" -e "reboot: Restarting system" \
				-e "Kernel panic" "$TIMEOUT" "$@"
		else
			l1tool run -g "$GRACE" -e "reboot: Power down" -e "Kernel panic" "$TIMEOUT" "$@"
		fi
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

# The L2 generic kernel's console on the VGA, seen through the VMM's VNC
# socket by l1vnc, which then types a line that the guest's shell reads from
# the console and echoes on the serial port.
scenario_vmdeck_display() {
	sock=/tmp/l2-display.vnc
	rm -f "$sock"
	run_guest vmdeck-display "$VMDECK" run --kernel "$L2_GENERIC" --initrd "$L2_INITRD" \
		--mem 256M --serial stdio --vnc "unix:$sock" \
		--cmdline "console=tty0 console=ttyS0 panic=-1 quiet vmdeck.test=display" &
	guest=$!
	log=$LOGDIR/vmdeck-display.log
	i=0
	while [ "$i" -lt "$TIMEOUT" ] && ! grep -q "L2 display-ready" "$log" 2>/dev/null; do
		sleep 1
		i=$((i + 1))
	done
	vnc_detail="L2 never said display-ready"
	vnc_rc=1
	if grep -q "L2 display-ready" "$log"; then
		l1vnc "$sock" 60 vmdeck-typed >"$LOGDIR/l1vnc.log" 2>&1
		vnc_rc=$?
		sed 's/^/[vmdeck-display] /' "$LOGDIR/l1vnc.log"
		vnc_detail=$(grep "lit pixels" "$LOGDIR/l1vnc.log" | head -n 1)
	fi
	wait "$guest"
	LOG=$log
	RC=$(cat "$LOGDIR/vmdeck-display.rc")
	why=""
	[ "$vnc_rc" = 0 ] || why="the screen over VNC stayed black ($vnc_detail);"
	grep -q "L2 typed vmdeck-typed" "$LOG" || why="$why the line typed over VNC never reached the guest's shell;"
	[ "$RC" = 0 ] || why="$why exit status $RC;"
	if [ -z "$why" ]; then
		result vmdeck-display pass "$vnc_detail, typed line echoed, fb $(fact fb), exit 0"
	else
		result vmdeck-display fail "$why last line: $(last_words)"
	fi
}

# The disk survives a guest reboot and the image stays consistent: the
# guest's file system and checksums (l2-init.sh: scenario_disk), then
# qemu-img check on the image the VMM wrote.
scenario_vmdeck_disk() {
	img=/tmp/vmdeck-disk.qcow2
	rm -f "$img"
	"$VMDECK" img create -q -f qcow2 "$img" 4G
	REBOOT_IS_END=no run_guest vmdeck-disk "$VMDECK" run --kernel "$L2_KERNEL" --initrd "$L2_INITRD" \
		--cpus 2 --mem 256M --serial stdio --disk "$img" --cmdline "$(l2_cmdline disk)"
	why=""
	[ "$(fact disk-bytes)" = 4294967296 ] || why="$why /dev/vda is '$(fact disk-bytes)' bytes, want 4 GiB;"
	grep -q "L2 disk-written" "$LOG" || why="$why the first boot did not write its files;"
	verify=$(awk '{ sub(/^[0-9]+\| /, "") } $1 == "L2" && $2 == "disk-verify" { print $3, $4 }' "$LOG")
	[ "$verify" = "ok 5" ] || why="$why after the reboot the files checked '${verify:-nothing}', want 'ok 5';"
	[ "$RC" = 0 ] || why="$why exit status $RC;"
	check=$(qemu-img check "$img" 2>&1)
	crc=$?
	[ "$crc" = 0 ] || why="$why qemu-img check says ($crc): $(echo "$check" | tr '\n' ' ' | cut -c1-120);"
	used=$(du -k "$img" | cut -f1)
	metric vmdeck-disk-image-kib "$used" KiB
	if [ -z "$why" ]; then
		result vmdeck-disk pass "5 files verified after a reboot, qemu-img check clean, image ${used} KiB"
	else
		result vmdeck-disk fail "$why last line: $(last_words)"
	fi
	rm -f "$img"
}

# Milliseconds between two L2 lines' stamps.
span_ms() {
	awk -v a="$1" -v b="$2" '{ split($0, f, "|") } index($0, "L2 " a) { s = f[1] } index($0, "L2 " b) { e = f[1] }
		END { if (s != "" && e != "") print e - s }' "$LOG"
}

# 256 MiB written then read with O_DIRECT on a fresh growable qcow2.
disk_bench() {
	name=$1
	prefix=$2
	img=/tmp/bench.qcow2
	shift 2
	rm -f "$img"
	"$VMDECK" img create -q -f qcow2 "$img" 1G
	run_guest "$name" "$@"
	w=$(span_ms bench-write-start bench-write-end)
	r=$(span_ms bench-read-start bench-read-end)
	if [ -n "$w" ] && [ -n "$r" ] && ! grep -q "bench-.*-failed" "$LOG"; then
		metric "$prefix-disk-write-ms" "$w" ms
		metric "$prefix-disk-read-ms" "$r" ms
		result "$name" pass "256 MiB written in $w ms, read in $r ms"
	else
		result "$name" fail "no timings; last line: $(last_words)"
	fi
	rm -f "$img"
}

scenario_vmdeck_diskbench() {
	disk_bench vmdeck-diskbench vmdeck "$VMDECK" run --kernel "$L2_KERNEL" --initrd "$L2_INITRD" \
		--cpus 2 --mem 256M --serial stdio --disk /tmp/bench.qcow2 --cmdline "$(l2_cmdline diskbench)"
}

scenario_qemu_diskbench() {
	disk_bench qemu-diskbench qemu qemu-system-x86_64 -enable-kvm -cpu host -smp 2 -m 256M \
		-nographic -no-reboot -kernel "$L2_KERNEL" -initrd "$L2_INITRD" \
		-drive file=/tmp/bench.qcow2,if=virtio,format=qcow2,cache=writeback \
		-append "$(l2_cmdline diskbench)"
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
