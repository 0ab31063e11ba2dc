#!/bin/sh
# /init of the L1 guest: the Linux, running under QEMU's TCG with an emulated
# SVM CPU, in which the VMM under test gets a real /dev/kvm.  It loads
# kvm-amd, runs /payload/l1-tests.sh and powers off; everything it has to
# say goes to the serial console, which the host test parses.
set -u
PATH=/payload/bin:/bin:/sbin:/usr/bin:/usr/sbin
# QEMU and the VMM come with their ldd closure but L1 has no ld.so.cache.
LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
export PATH LD_LIBRARY_PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /run
mount -t tmpfs tmpfs /tmp
echo "L1-INIT uptime-s $(cut -d' ' -f1 /proc/uptime)"

# kvm-amd needs ccp (SEV) and kvm, kvm needs irqbypass: this order needs no
# modprobe and no modules.dep.
for m in irqbypass ccp kvm kvm-amd; do
	insmod "/lib/modules/$m.ko" || echo "L1 insmod-failed $m"
done
[ -c /dev/kvm ] || mknod /dev/kvm c 10 232
echo "L1 kvm $(ls -l /dev/kvm 2>&1)"
echo "L1 cpus $(nproc) memtotal-kb $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"

if [ -x /payload/l1-tests.sh ]; then
	/payload/l1-tests.sh
	echo "L1-TESTS-DONE rc $?"
else
	echo "L1-TESTS-DONE missing /payload/l1-tests.sh"
fi
poweroff -f
