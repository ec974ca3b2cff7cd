#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main demo (`make demo`): boot 3 guests, form a cluster over the
# in-kernel transport, and run a parallel program across the three nodes:
# red-black SOR on a 510 x 510 grid in one dsm region (tools/sor/dsm_sor.c),
# checked against the same computation on one node. The program is started
# once, on node 1; it runs a thread on each node (libdsm's threads across
# nodes), which `dsmrun host` on nodes 2 and 3 serves. Prints the check,
# the times, and each node's dsm counters.
set -euo pipefail
cd "$(dirname "$0")/../.."

exec selftests/vm/cluster.sh --nodes 3 -- sh -c '
	set -e
	if [ "$DSM_NODE_ID" = 1 ]; then
		dsmctl show | head -3
		echo "== links to the other members"
		dsmctl peers
		echo "== dsm_sor, started here only: a thread on each node"
		dsm_sor 510 ${DSM_SOR_ITERATIONS:-40}
	else
		dsmrun host -n 1	# runs dsm_sor here for node 1
	fi
	dsm_barrier demo-done 600
	echo "== dsm counters of node $DSM_NODE_ID"
	dsmctl stats | grep -E "faults|requests|inv_|pages_|bytes_|failures|readahead|prefetch"
'
