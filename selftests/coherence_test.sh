#!/bin/sh
# Coherence across a cluster; runs on every node at once (cluster.sh
# --nodes 3 -- coherence_test.sh). Each phase is one dsm_coherence test;
# the counters of every node are printed at the end.
status=0
for t in regions pingpong "atomic 20000" mp-2pages mp-1page sb halves \
	 "fill ${DSM_FILL_MIB:-64}"; do
	echo "# ---- dsm_coherence $t"
	dsm_coherence $t || status=1
done
dsmctl show | sed -n '/read_faults_local/,$p' | sed "s/^/# node $DSM_NODE_ID: /"
exit $status
