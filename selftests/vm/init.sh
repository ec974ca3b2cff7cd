#!/bin/sh
# PID 1 of a dsm test guest (busybox). cluster.sh puts it at /init.
#
# The kernel command line hands us DSM_NODE_ID, DSM_NODES, DSM_JOIN, DSM_KEY
# and DSM_TOKEN as environment variables. Ports:
#   ttyS0  console: kernel messages, kmemleak's report (debug kernel) and a
#          dmesg dump when the command ends
#   hvc0   control (a virtio console: an emulated 16550 under TCG can lose
#          an interrupt and leave a reader or writer asleep forever): "TOKEN READY" out; then "JOIN <contact>" in (join the
#          cluster through <contact>, or form it if that is this node's
#          address), "TOKEN JOINED" out; "GO" in; the command's output
#          out; "TOKEN EXIT <status>"
export PATH=/bin:/sbin:/extra HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts /run && mount -t devpts devpts /dev/pts

# fd 3 is the control port, open for good: a virtio console resets its
# terminal settings whenever it is reopened
ctl=/dev/hvc0
say() { echo "$DSM_TOKEN $*" >&3; }
die() {
	echo "init: $*" > /dev/console
	{ echo "init: $*"; echo "$DSM_TOKEN EXIT 125"; } >&3 2>/dev/null
	dmesg > /dev/console
	reboot -f	# QEMU runs with -no-reboot: this ends it, ACPI or not
}

# Make hung tasks visible within a test's lifetime.
echo 30 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null

for m in $(cat /lib/modules/load-order); do
	insmod /lib/modules/$m.ko || die "insmod $m failed"
done
for _ in $(seq 50); do [ -c $ctl ] && break; sleep 0.1; done
exec 3<> $ctl || die "no control port $ctl"
stty raw -echo <&3
ip link set lo up
ip link set eth0 up || die "no eth0"
ip addr add 10.0.0.$DSM_NODE_ID/24 dev eth0
hostname node$DSM_NODE_ID

insmod /lib/modules/dsm.ko || die "insmod dsm.ko failed"
# kmemleak (debug kernel): forget what boot left, report what the run leaks
kml=/sys/kernel/debug/kmemleak
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -e $kml ] && echo clear > $kml
if [ "$DSM_JOIN" = 1 ]; then
	key=
	if [ "$DSM_KEY" = 1 ]; then	# cluster.sh --key
		echo 5ea1ed005ea1ed005ea1ed005ea1ed005ea1ed005ea1ed005ea1ed005ea1ed00 > /tmp/cluster-key
		key="key /tmp/cluster-key"
	fi
	dsmctl node set id $DSM_NODE_ID addr 10.0.0.$DSM_NODE_ID $key >&3 2>&1 ||
		die "dsmctl node set failed"
fi

# until every other member's link is up, at most 60 s
wait_cluster() {
	for _ in $(seq 300); do
		up=$(dsmctl -j peers | grep -o '"state":"up"' | wc -l)
		[ "$up" -ge $((DSM_NODES - 1)) ] && return 0
		sleep 0.2
	done
	dsmctl peers >&3 2>&1
	die "the cluster did not form"
}

say READY
joined=0
while read -r line <&3; do
	case $line in
	"JOIN 10.0.0.$DSM_NODE_ID")
		dsmctl join >&3 2>&1 || die "dsmctl join (form) failed"
		joined=1; say JOINED ;;
	"JOIN "*)
		dsmctl join "${line#JOIN }" >&3 2>&1 || die "dsmctl join failed"
		joined=1; say JOINED ;;
	GO)
		break ;;
	esac
done
[ $joined = 1 ] && wait_cluster

export DSM_NODE_ID DSM_NODES
cd /tmp
sh /etc/dsm-cmd < /dev/null >&3 2>&1 3>&-
rc=$?
if [ -e $kml ]; then
	sleep 6	# kmemleak reports only objects older than 5 s
	echo scan > $kml && echo scan > $kml
	cat $kml > /dev/console
fi
say EXIT $rc
echo "$DSM_TOKEN DMESG" > /dev/console
dmesg > /dev/console
reboot -f
