#!/bin/sh
# Minimal TAP helpers for the shell selftests (POSIX sh, busybox-friendly).
# Source it, call plan N, then ok/not_ok/expect per test, finish at the end.
ktap_n=0
ktap_fail=0

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

finish() {
	echo "# $((ktap_n - ktap_fail)) passed, $ktap_fail failed"
	if [ "$ktap_n" != "$ktap_plan" ]; then
		echo "# planned $ktap_plan tests, ran $ktap_n"
		return 1
	fi
	[ $ktap_fail -eq 0 ]
}
