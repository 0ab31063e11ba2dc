#!/bin/sh
# /init of the L2 guest, the Linux that the VMM under test boots.  It prints
# one fixed marker, then what the guest sees as "L2 key value" lines, then
# runs the scenario named by vmdeck.test= on the kernel command line.  The
# L1 test script judges the VMM from these lines, so their format is an
# interface: add lines, do not rename them.
#
# A scenario is a shell function scenario_NAME: adding a test means adding a
# function here and a case in l1-tests.sh.  Virtio modules are loaded before
# any scenario runs so that disk, net and balloon scenarios find their
# devices; a missing device is reported, never fatal.
set -u
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	virtio_blk failover net_failover virtio_net virtio_balloon"

mount_pseudo_fs() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
}

report_facts() {
	echo "L2 cpus-online $(cat /sys/devices/system/cpu/online)"
	echo "L2 nproc $(nproc)"
	echo "L2 kernel $(uname -r)"
	echo "L2 memtotal-kb $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
	echo "L2 uptime-s $(cut -d' ' -f1 /proc/uptime)"
}

load_modules() {
	for m in $MODULES; do
		if [ ! -f "/lib/modules/$m.ko" ]; then
			echo "L2 module-missing $m"
		elif ! insmod "/lib/modules/$m.ko" 2>/dev/null; then
			echo "L2 module-failed $m"
		fi
	done
	echo "L2 virtio-devices $(ls /sys/bus/virtio/devices 2>/dev/null | wc -l)"
}

# The value of vmdeck.test=; the kernel keeps dotted parameters out of init's
# environment, so /proc/cmdline is the only place to read it.
scenario_name() {
	for word in $(cat /proc/cmdline); do
		case $word in
		vmdeck.test=*) echo "${word#vmdeck.test=}"; return ;;
		esac
	done
	echo poweroff
}

scenario_poweroff() {
	poweroff -f
}

scenario_reboot() {
	reboot -f
}

# The display: the kernel's framebuffer console (vesafb from screen_info)
# shows text, and a line typed on the PS/2 keyboard (over VNC) reaches a
# shell reading the console's terminal.
scenario_display() {
	echo "L2 fb $(tr ' ' '_' </sys/class/graphics/fb0/name 2>/dev/null || echo none)"
	echo "L2 serio $(ls /sys/bus/serio/devices 2>/dev/null | wc -l)"
	echo "vmdeck display scenario: type a line" >/dev/tty1
	echo "L2 display-ready"
	read -r line </dev/tty1
	echo "L2 typed $line"
	poweroff -f
}

# /dev/vda across a reboot: the first boot makes a file system and writes
# files with known checksums, syncs and reboots; the second boot finds the
# file system and checks every file.  The checksums travel on the disk.
scenario_disk() {
	if [ ! -b /dev/vda ]; then
		echo "L2 disk-missing"
		poweroff -f
	fi
	echo "L2 disk-bytes $(($(cat /sys/block/vda/size) * 512))"
	mkdir -p /mnt
	if mount /dev/vda /mnt 2>/dev/null; then
		if [ -f /mnt/SUMS ] && (cd /mnt && sha256sum -c SUMS >/dev/null 2>&1); then
			echo "L2 disk-verify ok $(wc -l </mnt/SUMS)"
		else
			echo "L2 disk-verify failed"
		fi
		umount /mnt
		poweroff -f
	fi
	mke2fs -q /dev/vda || echo "L2 disk-mkfs failed"
	mount /dev/vda /mnt || echo "L2 disk-mount failed"
	for i in 1 2 3 4 5; do
		dd if=/dev/urandom of="/mnt/file$i" bs=1024 count=$((i * 700)) 2>/dev/null
	done
	(cd /mnt && sha256sum file* >SUMS)
	sync
	umount /mnt
	echo "L2 disk-written"
	reboot -f
}

# Sequential throughput of /dev/vda past the page cache (O_DIRECT); the
# timestamps l1tool puts on these lines give the durations.
scenario_diskbench() {
	if [ ! -b /dev/vda ]; then
		echo "L2 disk-missing"
		poweroff -f
	fi
	echo "L2 bench-write-start"
	dd if=/dev/zero of=/dev/vda bs=1M count=256 oflag=direct 2>/dev/null || echo "L2 bench-write-failed"
	echo "L2 bench-write-end"
	echo "L2 bench-read-start"
	dd if=/dev/vda of=/dev/null bs=1M count=256 iflag=direct 2>/dev/null || echo "L2 bench-read-failed"
	echo "L2 bench-read-end"
	poweroff -f
}

# For a person at the console: vmdeck.test=shell.
scenario_shell() {
	setsid cttyhack sh
	poweroff -f
}

mount_pseudo_fs
echo VMDECK-L2-UP
report_facts
load_modules
name=$(scenario_name)
echo "L2 scenario $name"
if command -v "scenario_$name" >/dev/null 2>&1; then
	"scenario_$name"
else
	echo "L2 scenario-unknown $name"
	poweroff -f
fi
# poweroff -f and reboot -f do not return; reaching this line is a guest bug
# worth seeing, and sleeping keeps the kernel from panicking over a dead init.
echo "L2 scenario-returned $name"
while :; do sleep 3600; done
