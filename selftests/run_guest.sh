#!/bin/sh
# The guest half of the suite: every selftest, in order, on every node.
# module_test.sh unloads dsm.ko, so it runs last.
status=0
for t in dsm_dev_test dsm_netlink_test dsmctl_test.sh module_test.sh; do
	echo "# ==== $t"
	if "$t"; then
		echo "# ==== $t: PASS"
	else
		echo "# ==== $t: FAIL"
		status=1
	fi
done
exit $status
