#!/bin/sh
# make run: create the VM "demo" the first time, start it, open the TUI on it.
#
#   share/demo-vm.sh /path/to/vmdeck
#
# The demo is a small Linux: Debian's generic kernel (linux-image-amd64,
# fetched with apt-get download and unpacked with dpkg -x; the host's own
# kernel is not a Debian one on every machine) and a busybox initramfs built
# here from busybox-static: it mounts the usual file systems, loads the
# virtio drivers, brings up eth0 with udhcpc when there is a network, serves
# a page with busybox httpd on port 80 (forwarded from 127.0.0.1:8080 on
# the host), powers off on the ACPI power button, and runs a shell on the
# serial console.  Everything downloaded or built is cached in
# $XDG_CACHE_HOME/vmdeck/demo (~/.cache/vmdeck/demo); running this again
# reuses it and never touches an existing "demo" VM.
set -eu

VMDECK=${1:?usage: demo-vm.sh VMDECK-BINARY}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vmdeck/demo
NAME=demo
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
	virtio_blk failover net_failover virtio_net virtio_balloon evdev button"

say() { printf '==> %s\n' "$*"; }
die() { printf 'demo-vm.sh: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"

# ---- the kernel ------------------------------------------------------------
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}

fetch_kernel() {
	if [ -s "$CACHE/vmlinuz" ] && [ -d "$CACHE/kernel-tree/lib/modules" ]; then
		say "kernel: cached ($(cat "$CACHE/kernel-version" 2>/dev/null || echo unknown))"
		return
	fi
	pkg=$(kernel_pkg)
	[ -n "$pkg" ] || die "apt-cache does not know linux-image-amd64; run 'sudo apt-get update' and try again"
	say "kernel: downloading $pkg (Debian's generic kernel) with apt-get download"
	rm -rf "$CACHE/dl" "$CACHE/kernel-tree"
	mkdir -p "$CACHE/dl"
	(cd "$CACHE/dl" && apt-get download "$pkg" >/dev/null) ||
		die "apt-get download $pkg failed; check the network and your apt sources"
	say "kernel: unpacking with dpkg -x"
	dpkg -x "$CACHE"/dl/*.deb "$CACHE/kernel-tree"
	vmlinuz=$(ls "$CACHE"/kernel-tree/boot/vmlinuz-* | head -n1)
	[ -s "$vmlinuz" ] || die "the package $pkg holds no /boot/vmlinuz-*"
	cp "$vmlinuz" "$CACHE/vmlinuz.tmp" && mv "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"
	basename "$vmlinuz" | sed 's/^vmlinuz-//' >"$CACHE/kernel-version"
	rm -rf "$CACHE/dl"
}

# ---- the initramfs -----------------------------------------------------------
write_init() {
	cat >"$1/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp /data /www /etc
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
hostname demo
for m in $(cat /etc/modules); do
	[ -f "/lib/modules/$m.ko" ] && insmod "/lib/modules/$m.ko" 2>/dev/null
done
# The power button powers off (vmdeck stop presses it).
acpid 2>/dev/null
# The data disk: formatted on first boot, mounted on /data.
if [ -b /dev/vda ]; then
	mount /dev/vda /data 2>/dev/null || { mke2fs -q /dev/vda && mount /dev/vda /data; }
fi
# The network, when the VM has one.
if [ -e /sys/class/net/eth0 ]; then
	ip link set lo up
	ip link set eth0 up
	udhcpc -i eth0 -s /etc/udhcpc.script -q -n -t 5 >/dev/null 2>&1 &&
		echo "demo: eth0 is $(ip -4 -o addr show eth0 | sed 's/.*inet \([^ ]*\).*/\1/')"
fi
cat >/www/index.html <<HTML
<html><body><h1>Hello from the vmdeck demo VM</h1>
<p>Kernel $(uname -r), up since $(date).</p></body></html>
HTML
httpd -h /www -p 80 && echo "demo: httpd serves port 80 (127.0.0.1:8080 on the host)"
echo "demo: ready; this is a busybox shell on the serial console"
while true; do
	setsid cttyhack sh -l
done
INIT
	chmod 755 "$1/init"
	cat >"$1/etc/udhcpc.script" <<'DHCP'
#!/bin/sh
case "$1" in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -n "${router:-}" ] && ip route add default via "${router%% *}" dev "$interface"
	[ -n "${dns:-}" ] && echo "nameserver ${dns%% *}" >/etc/resolv.conf
	;;
esac
exit 0
DHCP
	chmod 755 "$1/etc/udhcpc.script"
	# busybox acpid's built-in tables send the power button (KEY_POWER from
	# the ACPI button driver through evdev) to /etc/acpi/PWRF/00000080.
	mkdir -p "$1/etc/acpi/PWRF"
	printf '#!/bin/sh\npoweroff -f\n' >"$1/etc/acpi/PWRF/00000080"
	chmod 755 "$1/etc/acpi/PWRF/00000080"
	echo "$MODULES" | tr -s ' \t' '\n\n' | sed '/^$/d' >"$1/etc/modules"
	echo 'PS1="demo# "' >"$1/etc/profile"
}

build_initramfs() {
	version=$(cat "$CACHE/kernel-version")
	stamp="$version $(sha256sum "$0" | cut -c1-16)"
	if [ -s "$CACHE/initrd.gz" ] && [ "$(cat "$CACHE/initrd.stamp" 2>/dev/null)" = "$stamp" ]; then
		say "initramfs: cached"
		return
	fi
	busybox=$(command -v busybox || true)
	[ -x /bin/busybox ] && busybox=/bin/busybox
	file "$busybox" 2>/dev/null | grep -q 'statically linked' ||
		die "a static busybox is needed: sudo apt-get install busybox-static (make deps does it)"
	say "initramfs: busybox from busybox-static, the virtio modules of $version"
	root=$CACHE/initramfs
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/etc" "$root/lib/modules"
	cp "$busybox" "$root/bin/busybox"
	for m in $MODULES; do
		ko=$(find "$CACHE/kernel-tree/lib/modules" \( -name "$m.ko" -o -name "$m.ko.xz" \) | head -n1)
		case "$ko" in
		'') ;;                                  # built in (or absent): nothing to load
		*.xz) xz -dc "$ko" >"$root/lib/modules/$m.ko" ;;
		*) cp "$ko" "$root/lib/modules/$m.ko" ;;
		esac
	done
	write_init "$root"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$CACHE/initrd.gz.tmp"
	mv "$CACHE/initrd.gz.tmp" "$CACHE/initrd.gz"
	echo "$stamp" >"$CACHE/initrd.stamp"
	rm -rf "$root"
}

# ---- the VM ------------------------------------------------------------------
vm_exists() {
	"$VMDECK" list --json | grep -q "\"name\":\"$NAME\""
}

vm_state() {
	"$VMDECK" list --json | tr -d ' \n' | sed -n "s/.*{\"name\":\"$NAME\",\"state\":\"\([a-z]*\)\".*/\1/p"
}

[ -x "$VMDECK" ] || die "no vmdeck binary at '$VMDECK'"
if vm_exists; then
	say "VM '$NAME' exists already: leaving it as it is"
else
	fetch_kernel
	build_initramfs
	say "creating VM '$NAME': 2 vCPUs, 256M, a 1G growable data disk, NAT with 127.0.0.1:8080 -> guest port 80"
	"$VMDECK" new "$NAME" --cpus 2 --mem 256M --disk-size 1G --kernel "$CACHE/vmlinuz" --initrd "$CACHE/initrd.gz" \
		--cmdline "console=ttyS0" --net "user,hostfwd=tcp:127.0.0.1:8080-:80" >/dev/null
fi
# GUIDE: kvm_pvm emulates guest kernel code and stock Linux cannot boot on
# it; the TUI says so for the running VM, and here it is said first.
[ -e /sys/module/kvm_pvm ] &&
	say "this host's KVM is kvm_pvm (guest kernel code is emulated): the demo's stock kernel cannot boot here; the console shows the VM and why"
case "$(vm_state)" in
running|starting|paused) say "VM '$NAME' is running" ;;
*)
	say "starting VM '$NAME'"
	"$VMDECK" start "$NAME" >/dev/null || true     # a failure shows in the TUI, with its reason
	;;
esac
if [ -t 0 ] && [ -t 1 ]; then
	say "opening the console (F1 lists the keys, q quits and leaves the VM running)"
	exec "$VMDECK" tui --select "$NAME"
fi
say "not on a terminal: run '$VMDECK' to open the console"
"$VMDECK" list
