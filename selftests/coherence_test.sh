#!/bin/sh
# Coherence across a cluster; runs on every node at once (cluster.sh
# --nodes 3 -- coherence_test.sh). Each phase is one dsm_coherence test;
# the counters of every node are printed at the end.
status=0
# DSM_FILL_MIB, DSM_MP_ITERS and DSM_SB_ITERS scale the longest phases down
# for slower kernels (selftests/check.sh).
mp=${DSM_MP_ITERS:-3000}
for t in regions pingpong "atomic 20000" "mp-2pages $mp" "mp-1page $mp" \
	 "sb ${DSM_SB_ITERS:-1000}" halves "fill ${DSM_FILL_MIB:-64}" leave; do
	echo "# ---- dsm_coherence $t"
	dsm_coherence $t || status=1
done
dsmctl show | sed -n '/read_faults_local/,$p' | sed "s/^/# node $DSM_NODE_ID: /"
exit $status
