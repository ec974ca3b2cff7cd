#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite (`make check`): host unit tests, static checks, the
# guest suite on Debian's 6.1 and 6.12 kernels and on the debug kernel, the
# debug lane's own detectors, and the runner's own behaviour. Ends with one summary line;
# exits non-zero if any step failed. Logs go to build/check/.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LOG=build/check
mkdir -p "$LOG"
CLUSTER=selftests/vm/cluster.sh
passed=() failed=()

step() {
	local name=$1 t0=$SECONDS
	shift
	if "$@" > "$LOG/$name.log" 2>&1; then
		passed+=("$name")
		echo "check: PASS $name ($((SECONDS - t0))s)"
	else
		failed+=("$name")
		echo "check: FAIL $name ($((SECONDS - t0))s); its failed tests and last lines of $LOG/$name.log:"
		grep -E 'not ok|BUG:|WARNING:|soft lockup|hung task' "$LOG/$name.log" | head -40 | sed 's/^/    /'
		echo "    ..."
		tail -30 "$LOG/$name.log" | sed 's/^/    /'
	fi
}

unit_tests() {
	local t rc=0
	for t in build/unit/*; do
		"$t" || rc=1
	done
	bash selftests/unit/completion_test.sh || rc=1
	return $rc
}

# A build whose output must show no compiler or sparse warning.
no_warnings() {
	"$@" 2>&1 | tee /dev/stderr | grep -E 'warning:|error:' && return 1
	return "${PIPESTATUS[0]}"
}

module_61() {
	# a full rebuild, so every warning shows (not by touching the sources:
	# the runner would then call the other kernels' modules stale)
	find kernel -name '*.o' -delete
	no_warnings make --no-print-directory sparse
}

module_612() {
	no_warnings make --no-print-directory module-612
}

# Valid JSON from each of 3 nodes: dsmctl show (the node itself), and
# after nodes 1 and 2 passed a token on a page homed at node 3 (dsm_coherence
# hot), region list (the region is there) and hot (node 3 names the page and
# both nodes, nodes 1 and 2 the page's home).
json_3_nodes() {
	local out
	out=$($CLUSTER --nodes 3 -- sh -c 'dsmctl -j show && dsm_coherence hot > /dev/null &&
		dsmctl -j region list && dsmctl -j hot') || return 1
	echo "$out"
	python3 -c '
import json, re, sys
docs = {}
for line in sys.stdin:
    m = re.match(r"\[node (\d+)\] (.*)", line)
    if m:
        docs.setdefault(int(m.group(1)), []).append(json.loads(m.group(2)))
assert sorted(docs) == [1, 2, 3], sorted(docs)
for i, (show, regions, hot) in docs.items():
    assert show["node"]["id"] == i and show["node"]["addr"] == "10.0.0.%d" % i, show
    region = [r for r in regions if r["key"] == 0xc0de0160]
    assert region and region[0]["mode"] == "cluster", regions
    top = hot[0]
    assert top["key"] == 0xc0de0160 and top["home"] == 3, hot
    if i == 3:
        assert top["nodes"] == "1,2" and top["moves"] >= 40, top
    else:
        assert top["faults"] >= 20, top
print("valid JSON from nodes 1, 2 and 3: show, region list, hot")' <<< "$out"
}

# The Debian packages: built from the committed tree, lintian without an
# error (its findings are in the log), then installed on this machine for
# real (a dsm installation there is purged first): DKMS builds and installs
# dsm.ko for Debian's 6.1 and 6.12 kernels (its postinst does the running
# and the newest kernel; the others are asked for as an admin would),
# dsm-tools has the udev rule, dsmctl runs, a program links libdsm through
# pkg-config; then purged, which removes the modules DKMS installed.
DSM_PKGS=(dsm-dkms dsm-tools libdsm0 libdsm-dev)
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o DPkg::Lock::Timeout=300)
purge_packages() {
	"${APT[@]}" purge "${DSM_PKGS[@]}" > /dev/null 2>&1
	! dkms status dsm 2> /dev/null | grep . > /dev/null
}

packages() {
	local k n=0 debs=() v
	v=$(sed -n 's/^DSM_VERSION := //p' Kbuild)
	make --no-print-directory packages || return 1
	lintian --display-info --tag-display-limit 0 build/pkg/*.changes
	for k in "${DSM_PKGS[@]}"; do
		debs+=("$ROOT/$(ls build/pkg/${k}_*.deb)")
	done
	purge_packages || { echo "a dsm installation could not be purged"; return 1; }
	"${APT[@]}" install "${debs[@]}" || { purge_packages; return 1; }
	dkms status dsm
	# the kernels the suites use: Debian's newest 6.1 and 6.12 (Makefile)
	for k in "$(ls /lib/modules | grep -E '^6\.1\.[0-9-]+-amd64$' | sort -V | tail -1)" \
		 "$(ls /lib/modules | grep -E '^6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -1)"; do
		dkms status dsm/"$v" -k "$k" | grep installed > /dev/null || dkms install dsm/"$v" -k "$k"
		if dkms status dsm/"$v" -k "$k" | grep installed > /dev/null &&
		   modinfo -k "$k" -F version dsm | grep -x "$v" > /dev/null; then
			echo "DKMS built and installed dsm.ko $v for $k"
			n=$((n + 1))
		fi
	done
	dpkg -L dsm-tools | grep '/udev/rules.d/60-dsm.rules$' > /dev/null &&
		/usr/sbin/dsmctl -V && /usr/sbin/dsmctl help > /dev/null && n=$((n + 1))
	printf '#include <libdsm.h>\n#include <stdio.h>\nint main(void) { printf("libdsm: node id %%d\\n", dsm_node_id()); return 0; }\n' > build/pkg/uses_libdsm.c
	# shellcheck disable=SC2046
	cc -o build/pkg/uses_libdsm build/pkg/uses_libdsm.c $(pkg-config --cflags --libs libdsm) &&
		ldd build/pkg/uses_libdsm | grep 'libdsm.so.0 => /' &&
		build/pkg/uses_libdsm && n=$((n + 1))
	purge_packages || { echo "purge left DKMS state behind"; return 1; }
	echo "packages: $n of 4 checks passed"
	[ $n -eq 4 ]
}

# The debug lane notices each kind of bug: a run whose guest commits one
# must fail, and name it.
debug_detects() {
	local bug want rc
	for bug in leak:'unreferenced object' uaf:'KASAN: use-after-free' \
		   lockdep:'circular locking' warn:'WARNING: CPU'; do
		want=${bug#*:} bug=${bug%%:*}
		run_cluster --kernel debug --nodes 1 --timeout 300 -- \
			insmod /lib/modules/canary.ko bug=$bug > "$LOG/canary-$bug.log" 2>&1
		rc=$?
		echo "canary $bug: exit $rc, report: $(grep -c "$want" "$LOG/canary-$bug.log") line(s) with '$want'"
		[ $rc -ne 0 ] && [ $rc -ne 99 ] && grep -q "$want" "$LOG/canary-$bug.log" || return 1
	done
}

# left_behind PID: runner PID's namespace (dsm-<pid>) or a guest of it
# (DSM_TOKEN=dsm<pid>x...) still exists
left_behind() {
	ip netns list | grep -q "^dsm-$1\b" || pgrep -f "DSM_TOKEN=dsm${1}x" > /dev/null
}

# run_cluster ARGS...: run the runner, then check it left nothing behind
run_cluster() {
	local pid rc
	$CLUSTER "$@" &
	pid=$!
	wait $pid
	rc=$?
	if left_behind $pid; then
		echo "cluster.sh (pid $pid) left a namespace or a QEMU behind"
		return 99
	fi
	return $rc
}

# The runner fails when it should, and cleans up on every path.
runner_failures() {
	local rc pid
	run_cluster --nodes 2 -- sh -c 'exit $((DSM_NODE_ID - 1))'
	rc=$?; echo "one node failing: exit $rc"; [ $rc -ne 0 ] && [ $rc -ne 99 ] || return 1
	run_cluster --nodes 1 --timeout 30 -- sleep 600
	rc=$?; echo "timeout: exit $rc"; [ $rc -ne 0 ] && [ $rc -ne 99 ] || return 1
	run_cluster --nodes 1 -- sh -c 'echo "WARNING: CPU: 0 PID: 1 at injected by check.sh" > /dev/kmsg'
	rc=$?; echo "kernel warning: exit $rc"; [ $rc -ne 0 ] && [ $rc -ne 99 ] || return 1
	$CLUSTER --nodes 2 -- sleep 600 &
	pid=$!
	sleep 8
	kill -TERM $pid
	wait $pid
	rc=$?; echo "terminated: exit $rc"; [ $rc -ne 0 ] || return 1
	if left_behind $pid; then
		echo "terminated runner left things behind"
		return 1
	fi
	run_cluster --nodes 1 --no-join -- sh -c 'dsmctl -j show | grep -q "\"id\":0"'
	rc=$?; echo "--no-join leaves the node unconfigured: exit $rc"; [ $rc -eq 0 ]
}

step unit unit_tests
step style make --no-print-directory style
step packages packages
step module-6.1-W1-sparse module_61
step module-6.12 module_612
# The coherence phases' two longest parts are scaled to each kernel's speed
# under TCG (the debug kernel runs KASAN and lockdep): the full 64 MiB on 6.1.
# The rogue member fuzzes for 30 s on the debug kernel, whose detectors
# catch what it breaks, 15 s on the others. The linkreset phase's workload
# (its resets take its first 8 s) runs 12 stripe rounds and 400 adds per
# thread there instead of 30 and 1000 (150 s: the longest phase).
# KASAN's quarantine keeps up to 1/32 of a guest's 512 MiB freed: the
# fuzzer's margin on MemAvailable is wider there.
declare -A scale=(
	[6.1]="DSM_FILL_MIB=64 DSM_MP_ITERS=3000 DSM_SB_ITERS=1000 DSM_FUZZ_SECS=15"
	[6.12]="DSM_FILL_MIB=16 DSM_MP_ITERS=1000 DSM_SB_ITERS=500 DSM_FUZZ_SECS=15"
	[debug]="DSM_FILL_MIB=4 DSM_MP_ITERS=200 DSM_SB_ITERS=100 DSM_FUZZ_MARGIN_MIB=48
		 DSM_LR_ROUNDS=12 DSM_LR_ADDS=400"
)
for k in 6.1 6.12 debug; do
	step guest-suite-$k $CLUSTER --kernel $k --nodes 1 -- run_guest.sh
	# the guests' consoles (kernel logs) are kept in $LOG/<step>.guests
	step cluster-suite-$k $CLUSTER --kernel $k --nodes 3 --timeout 1200 \
		--logs "$LOG/cluster-suite-$k.guests" -- env ${scale[$k]} run_cluster.sh
	# 4 nodes: a home of the workload's regions visits, leaves and rejoins;
	# then a partition {1,2} | {3,4}: the side with the lowest id goes on;
	# then the coordinator is killed with a change accepted, not committed
	step churn-$k $CLUSTER --kernel $k --nodes 4 --timeout 900 \
		--logs "$LOG/churn-$k.guests" -- sh -c 'dsm_coherence churn && dsm_coherence partition && coordinator_test.sh'
	# threads across nodes: dsm_sor started twice on node 1 only (dsmrun
	# hosts both runs on the others), then dsm_threads on all (node 3
	# killed at its end)
	step threads-$k $CLUSTER --kernel $k --nodes 3 --timeout 600 \
		--logs "$LOG/threads-$k.guests" -- sh -c '
		if [ $DSM_NODE_ID = 1 ]; then dsm_sor 126 10 && dsm_sor 126 5
		else dsmrun host -n 2; fi && dsm_threads'
done
step debug-detects debug_detects
step json-3-nodes json_3_nodes
# cluster.sh --shell, typed at through a pseudo-terminal
step shell python3 selftests/vm/shell_test.py $CLUSTER
step runner runner_failures

# Again at the end, where a reader of only the last lines (CI) sees them.
for name in "${failed[@]}"; do
	echo "check: failed in $name:"
	grep -E 'not ok|BUG:|WARNING:|soft lockup|hung task' "$LOG/$name.log" | head -20 | sed 's/^/    /'
done
echo "check: ${#passed[@]} passed, ${#failed[@]} failed${failed[*]:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
