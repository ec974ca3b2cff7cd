#!/bin/sh
# Coherence across a cluster; runs on every node at once (cluster.sh
# --nodes 3 -- coherence_test.sh). Each phase is one dsm_coherence test;
# the dsm tracepoints are on meanwhile (where the kernel has tracing) and
# must have recorded each kind of event; the counters of every node are
# printed at the end.
#
# DSM_FILL_MIB, DSM_MP_ITERS and DSM_SB_ITERS scale the longest phases down
# for slower kernels (selftests/check.sh).
. ktap.sh
status=0
me=$DSM_NODE_ID
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs nodev $T 2> /dev/null
tracing=0
# Only dsm.ko's text is patched (static keys): without record-cmd, enabling
# an event does not hook the scheduler's tracepoints, whose patching under
# QEMU's emulation once left an int3 in ttwu_do_activate on 6.12 (an Oops
# in the idle task); and the end stops the buffer, not the events.
if [ -d $T/events/dsm ]; then
	echo 0 > $T/options/record-cmd
	echo 1 > $T/events/dsm/enable && echo > $T/trace && tracing=1
fi

mp=${DSM_MP_ITERS:-3000}
for t in regions pingpong "atomic 20000" "mp-2pages $mp" "mp-1page $mp" \
	 "sb ${DSM_SB_ITERS:-1000}" halves rmw granthold readahead wait barrier "fill ${DSM_FILL_MIB:-64}" \
	 "slowlink 1024" "linkreset 5" removerace removelate leave leavebusy leaveslow leaveattach hot libdsm \
	 "replica-cap 0xc0de0161" "memcap 0xc0de0162" \
	 cleanup; do
	phase "dsm_coherence $t"
	dsm_coherence $t || status=1
done
# a region left behind makes every later leave hand it over (40 s under
# the lossy phase's netem, when replica-cap's was left)
left=$(dsmctl region list | grep -oE '^0xc0de0[01][0-9a-f]+' | tr '\n' ' ')
if [ -z "$left" ]; then
	echo "ok - node $me: the coherence phases left none of their regions"
else
	echo "not ok - node $me: regions left after the cleanup: $left"
	status=1
fi

phase tracepoints
if [ $tracing = 1 ]; then
	echo 0 > $T/tracing_on
	cat $T/trace > /tmp/trace.txt	# formatted once (slow on the debug kernel)
	for e in dsm_fault dsm_request dsm_invalidate dsm_grant; do
		n=$(grep -c " $e: " /tmp/trace.txt)
		if [ "$n" -gt 0 ]; then
			echo "ok - node $me: tracepoint $e recorded ($n in the buffer)"
		else
			echo "not ok - node $me: tracepoint $e never recorded"
			status=1
		fi
	done
	grep -m 1 " dsm_grant: " /tmp/trace.txt | sed 's/^ */# /'
else
	echo "ok - node $me: tracepoints # SKIP this kernel has no tracing"
fi
phase "the demo's program: red-black SOR across the nodes"
if dsm_sor 126 10 > /tmp/sor.out; then
	echo "ok - node $me: dsm_sor"
else
	echo "not ok - node $me: dsm_sor"
	status=1
fi
sed 's/^/# /' /tmp/sor.out
dsm_coherence cleanup > /dev/null || status=1
dsmctl show | sed -n '/read_faults_local/,$p' | sed "s/^/# node $me: /"
exit $status
