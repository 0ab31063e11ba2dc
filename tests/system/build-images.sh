#!/bin/sh
# Builds, once, everything the nested tier boots except the VMM under test:
#   l1-vmlinuz, l1-base.cpio   L1: Debian's generic kernel, busybox, kvm-amd,
#                              qemu-system-x86_64 with its libraries and
#                              firmware, and the L2 files under /l2
#   l2-vmlinuz, l2-initrd.cpio L2: Debian's cloud kernel, busybox, virtio
#   l1tool                     static helper, see l1tool.c
#   l1vnc                      static VNC client for the display scenario
# into .cache/nested/ (git-ignored, kept by `make clean`).  Only Debian
# packages are used: kernels and busybox-static are fetched with
# apt-get download, QEMU comes from the host's qemu-system-x86.
#
# Each output is rebuilt only when its key (package versions plus the hash of
# the sources it is made from) changes, so a second run takes seconds (apt
# look-ups).
# Exit status 77 means "cannot be built on this machine" (no network or no
# package): the test program skips on it and fails on anything else.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CACHE=${VMDECK_NESTED_CACHE:-$TOP/.cache/nested}

L1_MODULES="irqbypass ccp kvm kvm-amd"
L2_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	virtio_blk failover net_failover virtio_net virtio_balloon
	evdev button pvpanic pvpanic-mmio"
# Firmware QEMU opens for `-kernel` boot of a PC with its default devices
# (found with strace): SeaBIOS, the linuxboot and vapic option ROMs, the
# standard VGA BIOS and the default e1000 NIC's ROM.
QEMU_FIRMWARE="/usr/share/seabios/bios-256k.bin /usr/share/seabios/vgabios-stdvga.bin
	/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/kvmvapic.bin
	/usr/lib/ipxe/qemu/efi-e1000.rom"

say() { echo "build-images: $*" >&2; }
cannot() { say "SKIP: $*"; exit 77; }

# ---- fetching -----------------------------------------------------------------

# linux-image-amd64 -> linux-image-6.1.0-NN-amd64: the versioned package has
# the files, the meta package only a dependency.
resolve_meta() {
	apt-cache depends "$1" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

resolve_or_update() {
	pkg=$(resolve_meta "$1")
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(resolve_meta "$1")
	fi
	echo "$pkg"
}

# The cached .deb of package $1 at version $2 (empty: any, the last in
# name order), or nothing.  apt-get download writes an epoch's ':' as %3a.
cached_deb() {
	found=""
	ver=$(echo "$2" | sed 's/:/%3a/g')
	# shellcheck disable=SC2231 # unquoted on purpose: "*" must glob
	for f in "$CACHE/debs/$1_"${ver:-*}_*.deb; do
		[ -f "$f" ] && found=$f
	done
	echo "$found"
}

# Prints the path of the cached .deb of package $1, downloading it if needed.
# Without apt (offline) a previously downloaded version is good enough.
fetch_deb() {
	mkdir -p "$CACHE/debs"
	ver=$(apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		deb=$(cached_deb "$1" "")
		[ -n "$deb" ] || cannot "apt knows no package $1 and none is cached (run apt-get update?)"
	else
		deb=$(cached_deb "$1" "$ver")
		if [ -z "$deb" ]; then
			(cd "$CACHE/debs" && apt-get download -q "$1" >/dev/null 2>&1) ||
				cannot "apt-get download $1 failed (offline?)"
			deb=$(cached_deb "$1" "$ver")
			[ -n "$deb" ] || cannot "apt-get download $1 left no ${1}_${ver}_*.deb"
		fi
	fi
	echo "$deb"
}

# Old kernels' packages would otherwise pile up at ~100 MB per update.
prune_debs() {
	for f in "$CACHE"/debs/*.deb; do
		case $f in
		"$GENERIC_DEB" | "$CLOUD_DEB" | "$BB_DEB") ;;
		*) rm -f "$f" ;;
		esac
	done
}

# Unpacks a .deb into $CACHE/root/NAME once per .deb file.
unpack() {
	dir=$CACHE/root/$2
	if [ "$(cat "$dir.deb" 2>/dev/null)" != "$(basename "$1")" ]; then
		rm -rf "$dir" "$dir.deb"
		mkdir -p "$CACHE/root"
		dpkg-deb -x "$1" "$dir"
		basename "$1" >"$dir.deb"
	fi
	echo "$dir"
}

# ---- cpio -------------------------------------------------------------------

# A newc archive holding /dev/console: the kernel opens it for init's stdio
# before /init runs, and only root could mknod it in a staging directory.
console_cpio() {
	newc_entry 1 "$((0x41ed))" 0 0 dev
	newc_entry 2 "$((0x2180))" 5 1 dev/console
	newc_entry 3 0 0 0 TRAILER!!!
}

newc_entry() {
	namesize=$((${#5} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$1" "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
	printf '%s\0' "$5"
	head -c $(((4 - (110 + namesize) % 4) % 4)) /dev/zero
}

# cpio of directory $1 into file $2, owned by root, plus /dev/console.
make_cpio() {
	{
		(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0)
		console_cpio
	} >"$2.tmp"
	mv "$2.tmp" "$2"
}

install_busybox() {
	mkdir -p "$2/bin" "$2/sbin" "$2/usr/bin" "$2/usr/sbin" "$2/proc" "$2/sys" "$2/dev" "$2/tmp"
	cp "$1/bin/busybox" "$2/bin/busybox"
	for applet in $("$1/bin/busybox" --list-full); do
		[ -e "$2/$applet" ] || ln -s /bin/busybox "$2/$applet"
	done
}

# Copies modules $3... of kernel tree $1 flat into $2/lib/modules, uncompressed
# because busybox insmod reads plain ELF only.
install_modules() {
	tree=$1 dest=$2/lib/modules
	shift 2
	mkdir -p "$dest"
	for m in "$@"; do
		ko=$(find "$tree/lib/modules" -name "$m.ko" -o -name "$m.ko.xz" | head -n1)
		case $ko in
		"") say "module $m not in this kernel, skipped" ;;
		*.xz) xz -dc "$ko" >"$dest/$m.ko" ;;
		*) cp "$ko" "$dest/$m.ko" ;;
		esac
	done
}

# ---- outputs ----------------------------------------------------------------

key_of() { cat "$@" | sha256sum | cut -c1-16; }
fresh() { [ -f "$CACHE/$1" ] && [ "$(cat "$CACHE/$1.key" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$CACHE/$1.key"; }

build_l1tool() {
	key=$(key_of "$HERE/l1tool.c")
	fresh l1tool "$key" && return 0
	${HOST_CC:-cc} -std=gnu11 -O2 -Wall -Wextra -static -o "$CACHE/l1tool" "$HERE/l1tool.c" ||
		cannot "cannot link a static l1tool (is libc6-dev installed?)"
	stamp l1tool "$key"
}

build_l1vnc() {
	key=$(key_of "$HERE/l1vnc.c")
	fresh l1vnc "$key" && return 0
	${HOST_CC:-cc} -std=gnu11 -O2 -Wall -Wextra -static -o "$CACHE/l1vnc" "$HERE/l1vnc.c" ||
		cannot "cannot link a static l1vnc (is libc6-dev installed?)"
	stamp l1vnc "$key"
}

build_l2() {
	key="$(basename "$CLOUD_DEB") $(basename "$BB_DEB") $(key_of "$HERE/l2-init.sh" "$HERE/build-images.sh")"
	fresh l2-initrd.cpio "$key" && return 0
	stage=$CACHE/stage-l2
	rm -rf "$stage"
	install_busybox "$BB_ROOT" "$stage"
	# shellcheck disable=SC2086
	install_modules "$CLOUD_ROOT" "$stage" $L2_MODULES
	cp "$HERE/l2-init.sh" "$stage/init"
	chmod 755 "$stage/init"
	cp "$CLOUD_ROOT"/boot/vmlinuz-* "$CACHE/l2-vmlinuz"
	make_cpio "$stage" "$CACHE/l2-initrd.cpio"
	rm -rf "$stage"
	stamp l2-initrd.cpio "$key"
}

# Copies host file $1 and the libraries ldd lists for it to the same paths
# under $2 (symlinks resolved: the initramfs holds plain files).
install_with_libs() {
	for f in "$1" $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$2$(dirname "$f")"
		cp -L "$f" "$2$f"
	done
}

# Debian's bzImage holds an xz-compressed ELF vmlinux with a PVH entry point;
# booting that directly spares L1 ~2 s of decompression under TCG.  Like the
# kernel's scripts/extract-vmlinux, tries each xz magic until one gives an ELF.
extract_vmlinux() {
	rm -f "$2"
	command -v xz >/dev/null || return 0
	# shellcheck disable=SC2013 # one offset per line, no spaces
	for off in $(grep -abo "$(printf '\3757zXZ')" "$1" | cut -d: -f1); do
		tail -c +$((off + 1)) "$1" | xz -dcq >"$2.tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$2.tmp" | od -An -c | tr -d ' ')" = "177ELF" ]; then
			mv "$2.tmp" "$2"
			return 0
		fi
	done
	rm -f "$2.tmp"
	say "no vmlinux found in $1: L1 boots the bzImage (slower)"
}

qemu_version() { dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || qemu-system-x86_64 --version | head -n1; }

build_l1() {
	command -v qemu-system-x86_64 >/dev/null || cannot "qemu-system-x86_64 is not installed (make deps)"
	key="$(basename "$GENERIC_DEB") $(basename "$BB_DEB") $(qemu_version) $(key_of "$HERE/l1-init.sh" "$HERE/build-images.sh" "$CACHE/l2-initrd.cpio.key")"
	fresh l1-base.cpio "$key" && return 0
	stage=$CACHE/stage-l1
	rm -rf "$stage"
	install_busybox "$BB_ROOT" "$stage"
	# shellcheck disable=SC2086
	install_modules "$GENERIC_ROOT" "$stage" $L1_MODULES
	install_with_libs "$(command -v qemu-system-x86_64)" "$stage"
	# qemu-img checks the images the VMM under test wrote.
	command -v qemu-img >/dev/null || cannot "qemu-img is not installed (make deps)"
	install_with_libs "$(command -v qemu-img)" "$stage"
	for f in $QEMU_FIRMWARE; do
		mkdir -p "$stage$(dirname "$f")"
		cp -L "$f" "$stage$f" || cannot "QEMU firmware $f is missing"
	done
	mkdir -p "$stage/l2" "$stage/payload/bin"
	cp "$CACHE/l2-vmlinuz" "$stage/l2/vmlinuz"
	# The display scenario boots the generic kernel as L2: the cloud one has
	# no framebuffer drivers.
	cp "$GENERIC_ROOT"/boot/vmlinuz-* "$stage/l2/vmlinuz-generic"
	cp "$CACHE/l2-initrd.cpio" "$stage/l2/initrd.cpio"
	cp "$HERE/l1-init.sh" "$stage/init"
	chmod 755 "$stage/init"
	cp "$GENERIC_ROOT"/boot/vmlinuz-* "$CACHE/l1-vmlinuz"
	extract_vmlinux "$CACHE/l1-vmlinuz" "$CACHE/l1-vmlinux"
	make_cpio "$stage" "$CACHE/l1-base.cpio"
	rm -rf "$stage"
	stamp l1-base.cpio "$key"
}

main() {
	mkdir -p "$CACHE"
	for tool in apt-get dpkg-deb cpio; do
		command -v $tool >/dev/null || cannot "$tool is not installed"
	done
	generic=$(resolve_or_update linux-image-amd64)
	cloud=$(resolve_or_update linux-image-cloud-amd64)
	# Offline and never resolved before: fall back to what is cached.
	GENERIC_DEB=$(fetch_deb "${generic:-$(cat "$CACHE/generic.pkg" 2>/dev/null || echo linux-image-amd64)}")
	CLOUD_DEB=$(fetch_deb "${cloud:-$(cat "$CACHE/cloud.pkg" 2>/dev/null || echo linux-image-cloud-amd64)}")
	BB_DEB=$(fetch_deb busybox-static)
	[ -n "$generic" ] && echo "$generic" >"$CACHE/generic.pkg"
	[ -n "$cloud" ] && echo "$cloud" >"$CACHE/cloud.pkg"
	prune_debs
	GENERIC_ROOT=$(unpack "$GENERIC_DEB" kernel-generic)
	CLOUD_ROOT=$(unpack "$CLOUD_DEB" kernel-cloud)
	BB_ROOT=$(unpack "$BB_DEB" busybox)
	build_l1tool
	build_l1vnc
	build_l2
	build_l1
	say "ready in $CACHE ($(basename "$GENERIC_DEB" .deb), $(basename "$CLOUD_DEB" .deb))"
}

main "$@"
