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

# ---- networking (virtio-net behind a user-mode NAT, QEMU's addresses) ----------

# udhcpc hands the lease to a script; this one configures eth0 with it.
write_dhcp_script() {
	cat >/tmp/dhcp.sh <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
[ -n "${router:-}" ] && ip route add default via "$router"
echo "nameserver ${dns:-10.0.2.3}" >/etc/resolv.conf
echo "L2 dhcp-router ${router:-none}"
echo "L2 dhcp-dns ${dns:-none}"
SCRIPT
	chmod 755 /tmp/dhcp.sh
}

net_up() {
	ip link set lo up
	ip link set eth0 up || { echo "L2 net-no-eth0"; return 1; }
	echo "L2 net-mac $(cat /sys/class/net/eth0/address)"
	echo "L2 net-mtu $(cat /sys/class/net/eth0/mtu)"
	echo "L2 net-features $(cat /sys/bus/virtio/drivers/virtio_net/virtio*/features 2>/dev/null | head -n1)"
	write_dhcp_script
	if udhcpc -i eth0 -n -q -t 5 -T 2 -s /tmp/dhcp.sh >/tmp/udhcpc.log 2>&1; then
		grep '^L2 ' /tmp/udhcpc.log
		echo "L2 dhcp-addr $(ip -4 -o addr show dev eth0 | awk '{ print $4; exit }')"
	else
		echo "L2 dhcp-addr none"
	fi
}

# HTTP/1.0 through nc (busybox's static wget crashes); prints the body.
http_get() {
	printf 'GET %s HTTP/1.0\r\n\r\n' "$3" | nc -w 10 "$1" "$2" 2>/dev/null | awk 'body { print } /^\r$/ { body = 1 }'
}

# A hostname from L1's DNS server through slirp's 10.0.2.3.
dns_lookup() {
	nslookup "$1" 10.0.2.3 2>/dev/null | awk '/^Address/ && $NF !~ /:53$/ { a = $NF } END { print a ? a : "none" }'
}

# True once a connection to port 80 was accepted and has ended.
http_served() {
	awk '$1 == "Tcp:" && n++ { exit !($7 > 0) }' /proc/net/snmp &&
		awk '$2 ~ /:0050$/ && $4 != "0A" && $4 != "06" { busy = 1 } END { exit busy }' /proc/net/tcp
}

scenario_net() {
	net_up
	if ping -c 1 -W 3 10.0.2.2 >/dev/null 2>&1; then echo "L2 ping-gateway ok"; else echo "L2 ping-gateway fail"; fi
	echo "L2 dns-l1host $(dns_lookup vmdeck-l1)"
	echo "L2 dns-localhost $(dns_lookup localhost)"
	http_get 10.0.2.2 8000 /blob >/tmp/blob
	echo "L2 fetch-sha256 $(sha256sum /tmp/blob | cut -d' ' -f1)"
	mkdir -p /www
	echo "hello from L2" >/www/index.html
	httpd -p 80 -h /www
	echo "L2 httpd-up"
	# L1 fetches the page through its forward meanwhile.  Done once the
	# guest has accepted a connection (it opened none passively before)
	# and every socket on port 80 is the listener or in TIME_WAIT; at most
	# 60 s.
	i=0
	while [ $i -lt 120 ] && ! http_served; do
		sleep 0.5
		i=$((i + 1))
	done
	echo "L2 net-done"
	poweroff -f
}

scenario_net_restrict() {
	net_up
	if ping -c 1 -W 3 10.0.2.2 >/dev/null 2>&1; then echo "L2 ping-gateway ok"; else echo "L2 ping-gateway fail"; fi
	echo "L2 dns-l1host $(dns_lookup vmdeck-l1)"
	if [ -n "$(http_get 10.0.2.2 8000 /blob | head -c 10)" ]; then echo "L2 fetch reached"; else echo "L2 fetch blocked"; fi
	echo "L2 net-done"
	poweroff -f
}

# What the guest paid for a transfer, as one line of counters: interrupts
# of the receive and the transmit queue, TCP segments in and out, and the
# segments it retransmitted.  The bench compares VMMs on the same guest, so
# these explain a difference in time.
net_counters() {
	awk '/-input\.0/ || /-output\.0/ {
		n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
		if (/-input\.0/) rx += n; else tx += n
	} END { printf "%d %d ", rx, tx }' /proc/interrupts
	awk '$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
	     $1 == "Tcp:" { print $col["InSegs"], $col["OutSegs"], $col["RetransSegs"] }' /proc/net/snmp
}

# "irq-rx=.. irq-tx=.. segs-in=.. segs-out=.. retrans=.." between two
# net_counters lines.
counters_delta() {
	echo "$1 $2" | awk '{ printf "irq-rx=%d irq-tx=%d segs-in=%d segs-out=%d retrans=%d\n",
		$6 - $1, $7 - $2, $8 - $3, $9 - $4, $10 - $5 }'
}

# The throughput benchmark: vmdeck.netmib= MiB (default 64) to L1's nc on
# port vmdeck.netport= (default 5002) and as much back from the next port,
# timed here.  busybox nc ends when its stdin does, so the receiving one
# reads from a FIFO that stays open.
scenario_net_bench() {
	net_up
	mib=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^vmdeck\.netmib=//p')
	port=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^vmdeck\.netport=//p')
	port=${port:-5002}
	count=$((${mib:-64} * 16))
	mkfifo /tmp/hold
	exec 3<>/tmp/hold
	c0=$(net_counters)
	t0=$(cut -d' ' -f1 /proc/uptime)
	dd if=/dev/zero bs=65536 count=$count 2>/dev/null | nc 10.0.2.2 "$port"
	t1=$(cut -d' ' -f1 /proc/uptime)
	c1=$(net_counters)
	nc 10.0.2.2 $((port + 1)) <&3 | wc -c >/tmp/down-bytes
	t2=$(cut -d' ' -f1 /proc/uptime)
	c2=$(net_counters)
	exec 3>&-
	echo "L2 net-up-s $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
	echo "L2 net-down-s $(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"
	echo "L2 net-down-bytes $(tr -d ' ' </tmp/down-bytes)"
	echo "L2 net-up-counters $(counters_delta "$c0" "$c1")"
	echo "L2 net-down-counters $(counters_delta "$c1" "$c2")"
	poweroff -f
}

# Balloon, statistics and the power button (l1-tests.sh drives it from
# outside through the control socket): the power button reaches busybox
# acpid as KEY_POWER through the ACPI button driver and powers off; the
# guest touches most of its memory once, frees it, then reports MemTotal
# and MemFree every second for the host to compare with the balloon's
# statistics.
scenario_balloon() {
	for m in evdev button pvpanic pvpanic-mmio; do
		insmod "/lib/modules/$m.ko" 2>/dev/null || echo "L2 module-failed $m"
	done
	if ls /sys/bus/platform/drivers/pvpanic-mmio 2>/dev/null | grep -q QEMU0001; then
		echo "L2 pvpanic yes"
	else
		echo "L2 pvpanic no"
	fi
	mkdir -p /etc/acpi/PWRF /var/log /var/run /mnt
	printf '#!/bin/sh\necho "L2 power-button" >/dev/console\npoweroff -f\n' >/etc/acpi/PWRF/00000080
	chmod 755 /etc/acpi/PWRF/00000080
	acpid || echo "L2 acpid-failed"
	mount -t tmpfs -o size=90% tmpfs /mnt
	total_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
	fill_mb=$((total_kb * 7 / 10 / 1024))
	dd if=/dev/zero of=/mnt/fill bs=1M count="$fill_mb" 2>/dev/null
	rm -f /mnt/fill
	echo "L2 filled-mb $fill_mb"
	while :; do
		echo "L2 meminfo $(awk '/^MemTotal:/ { t = $2 } /^MemFree:/ { f = $2 } END { print t, f }' /proc/meminfo)"
		sleep 1
	done
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
