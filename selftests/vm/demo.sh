#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main demo (`make demo`): boot 3 guests, form a cluster over the
# in-kernel transport, show its membership and links, and show regions at
# work on each node. Today a region is shared by the processes of one node;
# sharing across nodes arrives with the coherence protocol.
set -euo pipefail
cd "$(dirname "$0")/../.."

exec selftests/vm/cluster.sh --nodes 3 -- sh -c '
	set -e
	dsmctl show
	echo "== links to the other members"
	dsmctl peers
	key=0xd5d0
	echo "== one process fills 16 MiB of region $key with node $DSM_NODE_ID pattern"
	dsm_fill fill $key $((16 << 20)) $DSM_NODE_ID
	echo "== another process attaches the region and verifies every byte"
	dsm_fill verify $key $DSM_NODE_ID
	echo "== verified"
	dsmctl -p show
'
