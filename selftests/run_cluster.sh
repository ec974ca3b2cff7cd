#!/bin/sh
# The multi-node half of the suite, on every node of a 3-node cluster:
# node 1 attacks its own port with a rogue client while the others wait,
# then a rogue member fuzzes node 1 for DSM_FUZZ_SECS (30) while every node
# counts, then all run the coherence phases, then the membership and
# liveness phases together.
. ktap.sh
status=0
phase "dsm_rogue_test"
if [ "$DSM_NODE_ID" = 1 ]; then
	dsm_rogue_test || status=1
fi
dsm_barrier rogue-done 300 || status=1
phase "dsm_fuzz: a rogue member fuzzes node 1 while every node counts"
fuzz=
if [ "$DSM_NODE_ID" = 1 ]; then
	dsm_fuzz "${DSM_FUZZ_SECS:-30}" 0xc0de0150 &
	fuzz=$!
fi
dsm_coherence counted "${DSM_FUZZ_SECS:-30}" || status=1
if [ -n "$fuzz" ]; then
	wait $fuzz || status=1
fi
dsm_barrier fuzz-done 300 || status=1
phase "coherence_test.sh"
coherence_test.sh || status=1
dsm_barrier coherence-done 600 || status=1
phase "cluster_test.sh"
cluster_test.sh || status=1
echo "# ==== $([ $status = 0 ] && echo PASS || echo FAIL)"
exit $status
