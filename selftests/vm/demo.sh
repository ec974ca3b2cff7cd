#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main demo (`make demo`): boot 3 guests, form a cluster over the
# in-kernel transport, and run a parallel program across the three nodes:
# red-black SOR on a 510 x 510 grid in one dsm region (tools/sor/dsm_sor.c),
# checked against the same computation on one node. Prints the check, the
# times, and each node's dsm counters.
set -euo pipefail
cd "$(dirname "$0")/../.."

exec selftests/vm/cluster.sh --nodes 3 -- sh -c '
	set -e
	if [ "$DSM_NODE_ID" = 1 ]; then
		dsmctl show | head -3
		echo "== links to the other members"
		dsmctl peers
	fi
	dsm_barrier demo-start 120
	dsm_sor 510 ${DSM_SOR_ITERATIONS:-40}
	dsm_barrier demo-done 600
	echo "== dsm counters of node $DSM_NODE_ID"
	dsmctl stats | grep -E "faults|requests|inv_|pages_|bytes_|failures|readahead|prefetch"
'
