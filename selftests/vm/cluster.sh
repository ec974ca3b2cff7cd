#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cluster.sh: boot N guests of Debian's kernel with dsm.ko loaded, on a
# private bridge, and run one command on all of them at once.
#
#   cluster.sh --nodes N [--copy PATH]... [--timeout SECONDS] [--no-join]
#              [--key] [--logs DIR] [--cpus N] [--mem MB] [--kernel 6.1|6.12|debug]
#              -- COMMAND [ARGS...]
#   cluster.sh --shell [--nodes N] [OPTIONS]
#
# Topology, all inside a network namespace this script creates and deletes:
#
#     netns dsm-<pid>:  br0 (no address)
#                        |-- tap1 -- node 1  10.0.0.1/24  52:54:00:00:00:01
#                        |-- tap2 -- node 2  10.0.0.2/24  52:54:00:00:00:02
#                        '-- tapN -- node N  10.0.0.N/24
#
# Every guest boots from one initramfs (busybox, the virtio modules, dsm.ko,
# dsmctl, the selftest binaries; --copy paths under /extra), configures its
# address, loads dsm.ko and, unless --no-join, runs
# `dsmctl node set id i addr 10.0.0.i`; node 1 then forms the cluster
# (`dsmctl join`), the others join it (`dsmctl join 10.0.0.1`), and each
# waits until its links to all others are up. Then the command starts on
# all nodes at once, with DSM_NODE_ID and DSM_NODES set; its output is
# printed prefixed with "[node i]". Exit status is 0 only if the command
# exited 0 on every node and no guest log shows a kernel BUG, WARNING, Oops,
# lockup or hung task. QEMU processes and the namespace are removed on every
# exit path (success, failure, timeout, Ctrl-C).
#
# A command that prints the line "$DSM_TOKEN KILL" has its guest killed at
# once (SIGKILL to QEMU: a node dying abruptly); that node counts as passed.
#
# --shell, for trying dsm by hand: the command is `on shell` (selftests/vm/
# on.sh): this terminal becomes an interactive shell on node 1 (a second
# virtio console of its QEMU, on stdio), from which `on NODE CMD` runs a
# command on another node; `exit` stops the cluster. No timeout unless
# --timeout is given.
#
# --key: the nodes take a cluster key (a fixed test key) before they form
# the cluster, so every link is sealed (make bench's keyed run).
#
# --kernel picks the guest kernel: Debian's 6.1 (default) or 6.12, with the
# dsm.ko built for it (`make`, `make module-612`), or the debug kernel of
# selftests/vm/debug-kernel.sh (`make module-debug`), which boots with
# panic_on_warn and reports kmemleak's findings after the command.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NODES=1 TIMEOUT="" JOIN=1 KEY=0 LOGS="" CPUS=2 MEM=512 FLAVOUR=6.1 SHELL_MODE=0 TTY_MODE=""
COPIES=()

usage() {
	sed -n '4,10p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--nodes) NODES=$2; shift 2 ;;
	--copy) COPIES+=("$2"); shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--no-join) JOIN=0; shift ;;
	--key) KEY=1; shift ;;
	--logs) LOGS=$2; shift 2 ;;
	--cpus) CPUS=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--kernel) FLAVOUR=$2; shift 2 ;;
	--shell) SHELL_MODE=1; shift ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) echo "cluster.sh: unknown option '$1'" >&2; usage ;;
	esac
done
if [ $SHELL_MODE = 1 ]; then
	[ $# -eq 0 ] || { echo "cluster.sh: --shell takes no command" >&2; usage; }
	[ $JOIN = 1 ] || { echo "cluster.sh: --shell needs the cluster joined" >&2; exit 1; }
	set -- on shell
	# the boot has the usual time; the shell, unless --timeout, no limit
	SHELL_TIMEOUT=${TIMEOUT:-31536000}
	# QEMU's stdio (node 1's shell port) is this terminal: saved here,
	# before a background job's stdin becomes /dev/null
	exec 5<&0 6>&1
	TTY_MODE=$(stty -g <&5 2> /dev/null || true)
fi
TIMEOUT=${TIMEOUT:-600}
[ $# -gt 0 ] || { echo "cluster.sh: no command given" >&2; usage; }
[[ $NODES =~ ^[1-9]$ ]] || { echo "cluster.sh: --nodes must be 1-9" >&2; exit 1; }
[[ $TIMEOUT =~ ^[0-9]+$ ]] || { echo "cluster.sh: bad --timeout" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "cluster.sh: must run as root (netns, taps)" >&2; exit 1; }

newest() { ls /lib/modules | grep -E "$1" | sort -V | tail -1; }
# the register dump and stack of a warning, lockup or stall reach the
# console as they happen (quiet alone hides them until the dmesg dump)
APPEND="loglevel=5 random.trust_cpu=on"
case $FLAVOUR in
6.1)	KVER=$(newest '^6\.1\.[0-9-]*-amd64$')
	KERNEL=/boot/vmlinuz-$KVER MODDIR=/lib/modules/$KVER DSMKO=$ROOT/dsm.ko ;;
6.12)	KVER=$(newest '^6\.12\.[0-9]*\+deb12-amd64$')
	KERNEL=/boot/vmlinuz-$KVER MODDIR=/lib/modules/$KVER DSMKO=$ROOT/build/612/dsm.ko ;;
debug)	KDIR=$("$ROOT/selftests/vm/debug-kernel.sh")
	KERNEL=$KDIR/arch/x86/boot/bzImage MODDIR="" DSMKO=$ROOT/build/debug/dsm.ko
	# warnings on the console too: with panic_on_warn there is no dmesg dump
	APPEND="$APPEND panic_on_warn=1" ;;
*)	echo "cluster.sh: --kernel must be 6.1, 6.12 or debug" >&2; exit 1 ;;
esac
if [ -e "$DSMKO" ] && [ -n "$(find "$ROOT/kernel" "$ROOT/uapi" -newer "$DSMKO" -name '*.[ch]')" ]; then
	echo "cluster.sh: $DSMKO is older than the sources (make; make module-612; make module-debug)" >&2
	exit 1
fi
for f in "$KERNEL" "$DSMKO" "$ROOT/build/dsmctl"; do
	[ -e "$f" ] || { echo "cluster.sh: $f missing (run 'make deps all')" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/dsm-cluster.XXXXXX)
LOGS=${LOGS:-$WORK/logs}
mkdir -p "$LOGS"
NS=dsm-$$
TOKEN=dsm$$x$RANDOM
PIDS=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	# a QEMU killed while it had the terminal in raw mode
	[ -z "${TTY_MODE:-}" ] || stty "$TTY_MODE" <&5 2>/dev/null || true
	rm -rf "$WORK"	# (with --logs, the logs are elsewhere)
	exit $rc
}
trap cleanup EXIT
trap 'echo "cluster.sh: interrupted" >&2; exit 130' INT TERM

# ---- initramfs ----
build_initramfs() {
	local r=$WORK/root m f
	mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,tmp,run,extra,lib/modules,lib64}
	cp /bin/busybox "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
	done
	: > "$r/lib/modules/load-order"
	# inet_diag, tcp_diag: dsm_rst aborts connections through sock_diag;
	# gcm and its parts seal keyed links; af_alg and algif_*: dsm_seal_test
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
		 virtio_pci failover net_failover virtio_net virtio_console \
		 sch_netem inet_diag tcp_diag crypto_null ctr gf128mul \
		 ghash-generic gcm af_alg algif_hash algif_aead; do
		[ -n "$MODDIR" ] || break	# debug kernel: all built in
		f=$(find "$MODDIR/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
		[ -n "$f" ] || continue	# built in
		case $f in
		*.xz) xz -dc "$f" > "$r/lib/modules/$m.ko" ;;
		*) cp "$f" "$r/lib/modules/" ;;
		esac
		echo "$m" >> "$r/lib/modules/load-order"
	done
	cp "$DSMKO" "$r/lib/modules/dsm.ko"
	if [ "$FLAVOUR" = debug ]; then
		cp "$ROOT/build/canary/canary.ko" "$r/lib/modules/"
	fi
	cp "$ROOT/build/dsmctl" "$ROOT/build/dsmrun" "$r/bin/"
	cp "$ROOT"/build/selftests/* "$r/bin/" 2>/dev/null || true
	cp "$ROOT"/selftests/*.sh "$r/bin/" 2>/dev/null || true
	# libdsm and a C runtime, for dynamically linked programs given by --copy
	cp -d "$ROOT"/build/libdsm.so* /lib/x86_64-linux-gnu/libc.so.6 \
		/lib/x86_64-linux-gnu/libm.so.6 "$r/lib/"
	cp /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
	# iproute2's tc (busybox's has no netem), with the libraries it needs.
	# Busybox's shell runs its own applets before PATH: call /usr/sbin/tc.
	mkdir -p "$r/usr/sbin" && cp /sbin/tc "$r/usr/sbin/tc"
	for f in $(ldd /sbin/tc | awk '$2 == "=>" { print $3 }'); do
		cp -L "$f" "$r/lib/"
	done
	for f in "${COPIES[@]}"; do
		cp -a "$f" "$r/extra/"
	done
	cp "$ROOT/selftests/vm/init.sh" "$r/init"
	cp "$ROOT/selftests/vm/on.sh" "$r/bin/on"
	printf 'root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n' > "$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
	# the command, quoted for the guest's POSIX shell
	local q="" a
	for a in "${CMD[@]}"; do
		q+="'${a//\'/\'\\\'\'}' "
	done
	echo "$q" > "$r/etc/dsm-cmd"
	(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/initrd.gz"
}

# ---- network ----
setup_net() {
	ip netns add "$NS"
	ip -n "$NS" link add br0 type bridge
	ip -n "$NS" link set br0 up
	for i in $(seq 1 "$NODES"); do
		ip -n "$NS" tuntap add "tap$i" mode tap
		ip -n "$NS" link set "tap$i" master br0
		ip -n "$NS" link set "tap$i" up
	done
}

start_node() {
	local i=$1 shell=() in=/dev/null out=2
	mkfifo "$WORK/n$i.in" "$WORK/n$i.out"
	if [ $SHELL_MODE = 1 ] && [ "$i" = 1 ]; then	# /dev/hvc1: this terminal
		shell=(-chardev stdio,id=sh,signal=off
		       -device virtconsole,chardev=sh,bus=vser.0)
		in=/dev/fd/5 out=6
	fi
	# RDRAND seeds the guest's CRNG at boot: seeded ~100 s in, it patched
	# get_random_u64's static branch while dsm_pages_send ran it, and
	# QEMU's emulation left the int3 in (an Oops on 6.12)
	ip netns exec "$NS" qemu-system-x86_64 -accel tcg -cpu qemu64,+rdrand -nodefaults \
		-no-user-config -display none -monitor none -no-reboot \
		-m "$MEM" -smp "$CPUS" \
		-kernel "$KERNEL" -initrd "$WORK/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 $APPEND DSM_NODE_ID=$i DSM_NODES=$NODES DSM_JOIN=$JOIN DSM_KEY=$KEY DSM_TOKEN=$TOKEN" \
		-serial "file:$LOGS/node$i.console" \
		-device virtio-serial-pci,id=vser \
		-chardev "pipe,id=ctl,path=$WORK/n$i" \
		-device virtconsole,chardev=ctl,bus=vser.0 "${shell[@]}" \
		-netdev "tap,id=net0,ifname=tap$i,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=net0,mac=52:54:00:00:00:$(printf %02x "$i")" \
		< "$in" 2> "$LOGS/node$i.qemu" >&"$out" &
	PIDS+=($!)
	disown $!	# no "Killed" job notice when a node is killed on request
	# relay the control port: status lines to files, the rest prefixed
	(
		while IFS= read -r line; do
			line=${line%$'\r'}
			case $line in
			"$TOKEN READY") : > "$WORK/ready$i" ;;
			"$TOKEN JOINED") : > "$WORK/joined$i" ;;
			"$TOKEN EXIT "*) echo "${line##* }" > "$WORK/rc$i" ;;
			"$TOKEN KILL")	# the command asked to die abruptly
				kill -9 "$(qemu_pid "$i")"
				echo 0 > "$WORK/rc$i"
				echo "[node $i] killed (SIGKILL to QEMU) as the command asked" ;;
			*) printf '[node %d] %s\n' "$i" "$line" | tee -a "$LOGS/node$i.out" ;;
			esac
		done < "$WORK/n$i.out"
	) &
	PIDS+=($!)
}

qemu_pid() { echo "${PIDS[$(( ($1 - 1) * 2 ))]}"; }
relay_pid() { echo "${PIDS[$(( ($1 - 1) * 2 + 1 ))]}"; }

# A node is gone once its QEMU and the relay of its output have both ended.
gone() {
	! kill -0 "$(qemu_pid "$1")" 2>/dev/null && ! kill -0 "$(relay_pid "$1")" 2>/dev/null
}

# wait_all PREFIX: until $WORK/PREFIX<i> exists for every node. Waiting for
# "rc", a node that is gone counts as done (it failed).
wait_all() {
	local i missing
	while :; do
		missing=0
		for i in $(seq 1 "$NODES"); do
			[ -e "$WORK/$1$i" ] && continue
			if gone "$i"; then
				[ "$1" = rc ] && continue
				echo "cluster.sh: node $i exited before '$1'" >&2
				return 1
			fi
			missing=1
		done
		[ $missing -eq 0 ] && return 0
		[ $SECONDS -lt $DEADLINE ] || { echo "cluster.sh: timeout after ${TIMEOUT}s waiting for '$1'" >&2; return 1; }
		sleep 0.2
	done
}

# Stop every node of a boot that failed, by pid, and keep its consoles.
stop_boot() {
	local i
	for i in $(seq 1 "$NODES"); do
		kill -9 "$(qemu_pid "$i")" 2>/dev/null || true
	done
	for i in $(seq 1 "$NODES"); do
		while ! gone "$i"; do sleep 0.2; done
		mv -f "$LOGS/node$i.console" "$LOGS/node$i.console.failed-boot" || true
	done
	rm -f "$WORK"/n*.in "$WORK"/n*.out "$WORK"/ready*
	PIDS=()
}

# A guest that died before dsm.ko was loaded (QEMU's emulation has crashed
# a booting kernel, e.g. an int3 Oops in run_timer_softirq on 6.12): the
# cluster is booted once more; the failed boot is reported and its consoles
# kept. A guest that dies once dsm.ko is loading counts as a failure.
died_booting() {
	local i
	for i in $(seq 1 "$NODES"); do
		if gone "$i" && [ ! -e "$WORK/ready$i" ] &&
		   ! grep -q "dsm: loading out-of-tree module" "$LOGS/node$i.console"; then
			echo "cluster.sh: node $i died while booting, before dsm.ko; booting the cluster again:" >&2
			grep -E -A12 'Oops|BUG:|Kernel panic' "$LOGS/node$i.console" | head -14 >&2
			return 0
		fi
	done
	return 1
}

CMD=("$@")
DEADLINE=$((SECONDS + TIMEOUT))
build_initramfs
setup_net
for i in $(seq 1 "$NODES"); do
	start_node "$i"
done
if ! wait_all ready && died_booting; then
	stop_boot
	for i in $(seq 1 "$NODES"); do
		start_node "$i"
	done
fi

# Node 1 forms the cluster, then the others join through it.
form_cluster() {
	echo "JOIN 10.0.0.1" > "$WORK/n1.in"
	while [ ! -e "$WORK/joined1" ]; do
		gone 1 && return 1
		[ $SECONDS -lt $DEADLINE ] || return 1
		sleep 0.2
	done
	for i in $(seq 2 "$NODES"); do
		echo "JOIN 10.0.0.1" > "$WORK/n$i.in"
	done
	wait_all joined
}

status=0
if wait_all ready && { [ $JOIN = 0 ] || form_cluster; }; then
	for i in $(seq 1 "$NODES"); do
		echo GO > "$WORK/n$i.in"
	done
	[ $SHELL_MODE = 0 ] || DEADLINE=$((SECONDS + SHELL_TIMEOUT))
	wait_all rc || status=1
else
	status=1
fi

# let each guest dump its dmesg and power off
for i in $(seq 1 "$NODES"); do
	pid=$(qemu_pid "$i")
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
done

BAD='BUG:|WARNING:|Oops|Kernel panic|soft lockup|hard LOCKUP|blocked for more than|Call Trace|KASAN|UBSAN|unreferenced object|circular locking|recursive locking|inconsistent lock state|bad unlock balance|suspicious RCU usage|lock held when returning'
for i in $(seq 1 "$NODES"); do
	rc=$(cat "$WORK/rc$i" 2>/dev/null || echo none)
	if [ "$rc" != 0 ]; then
		echo "cluster.sh: node $i: command exit status $rc" >&2
		status=1
	fi
	if grep -Eq "$BAD" "$LOGS/node$i.console"; then
		echo "cluster.sh: node $i: kernel reported a problem:" >&2
		grep -E -A20 "$BAD" "$LOGS/node$i.console" | head -60 >&2
		status=1
	fi
	if [ "$rc" = none ]; then
		echo "cluster.sh: node $i: last console lines:" >&2
		tail -20 "$LOGS/node$i.console" >&2
	fi
done
exit $status
