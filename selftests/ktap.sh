#!/bin/sh
# Minimal TAP helpers for the shell selftests (POSIX sh, busybox-friendly).
# Source it, call plan N, then ok/not_ok/expect per test, finish at the end.
ktap_n=0
ktap_fail=0

# phase NAME: a section header with the guest's uptime, to see where time goes
phase() { echo "# ---- $* (uptime $(cut -d. -f1 /proc/uptime) s)"; }

plan() { ktap_plan=$1; echo "TAP version 13"; echo "1..$1"; }

ok() { ktap_n=$((ktap_n + 1)); echo "ok $ktap_n $*"; }

not_ok() {
	ktap_n=$((ktap_n + 1))
	ktap_fail=$((ktap_fail + 1))
	echo "not ok $ktap_n $*"
}

# expect NAME STATUS CMD...: run CMD, compare its exit status
expect() {
	name=$1 want=$2
	shift 2
	"$@" > /tmp/ktap.out 2>&1
	got=$?
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		sed 's/^/# /' /tmp/ktap.out
		not_ok "$name (exit $got, wanted $want)"
	fi
}

# expect_output NAME PATTERN: the last expect's output matches PATTERN
expect_output() {
	if grep -q -- "$2" /tmp/ktap.out; then
		ok "$1"
	else
		sed 's/^/# /' /tmp/ktap.out
		not_ok "$1 (no '$2' in output)"
	fi
}

# unpaired_objects: lifecycle lines in dmesg read "dsm: <kind> <id> created"
# and "... destroyed"; print each kind's count (as # comments) and every
# object created but never destroyed (as "unpaired <kind> <id>").
unpaired_objects() {
	dmesg | awk '
	/dsm: [a-z]+ [^ ]+ (created|destroyed)/ {
		for (i = 1; i <= NF; i++) if ($i == "dsm:") break
		obj = $(i + 1) " " $(i + 2)
		n[obj] += ($(i + 3) == "created") ? 1 : -1
		kinds[$(i + 1)]++
	}
	END {
		for (k in kinds) printf "# %s: %d lifecycle lines\n", k, kinds[k]
		for (o in n) if (n[o] > 0) print "unpaired", o
	}'
}

finish() {
	echo "# $((ktap_n - ktap_fail)) passed, $ktap_fail failed"
	if [ "$ktap_n" != "$ktap_plan" ]; then
		echo "# planned $ktap_plan tests, ran $ktap_n"
		return 1
	fi
	[ $ktap_fail -eq 0 ]
}
