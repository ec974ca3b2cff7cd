#!/bin/sh
# The coordinator dies in the middle of a change (4 nodes, every node at
# once; cluster.sh --nodes 4 -- coordinator_test.sh, after the churn).
#
# Node 1, which runs the barriers, leaves: node 2 coordinates {2,3,4}. Node
# 2 drops the acceptances of its own proposals (inject_log_hold), and node
# 1 asks it to join: nodes 2, 3 and 4 accept the join, a quorum, and
# nothing commits. Node 2 is killed (SIGKILL to its guest). Node 1's join
# fails. Once nodes 3 and 4 see node 2 down, node 3 coordinates, and node
# 1's next join through it commits the change the quorum had accepted
# (node 3 says in its log that it proposes node 2's change again, as the
# log's rule has it); nodes 1, 3 and 4 end with one list of four members,
# node 2 among them, down.
. ktap.sh
. cluster_lib.sh
me=$DSM_NODE_ID
plan 6
HOLD=/sys/module/dsm/parameters/inject_log_hold

# up_agree N: N peers up, each at this node's epoch
up_agree() {
	e=$(show_field epoch)
	[ "$e" -gt 0 ] && peers_up "$1" &&
		[ "$(dsmctl -j peers | grep -o '"state":"up"[^}]*"epoch":[0-9]*' |
		     grep -vc "\"epoch\":$e\$")" = 0 ]
}

phase coordinator crash
dsm_barrier cc-start 120
if [ $me = 1 ]; then
	expect "node 1 leaves: node 2 coordinates" 0 dsmctl leave
else
	wait_until "node 1 left: three members" 30 members_are 3
fi
dsm_barrier cc-left
[ $me = 2 ] && echo 1 > $HOLD
e=$(show_field epoch)	# (node 1's join is proposed for epoch e + 1)
dsm_barrier cc-armed
case $me in
1)
	if dsmctl join 10.0.0.2 > /tmp/cc-join.out 2>&1; then
		not_ok "the join through node 2, which dies before it commits, fails"
	else
		ok "the join through node 2, which dies before it commits, fails"
	fi
	sed 's/^/# /' /tmp/cc-join.out
	ok "(nodes 3 and 4 see node 2 down)"
	n=0
	until [ "$(show_field epoch)" -gt 0 ] || dsmctl join 10.0.0.3 > /tmp/cc-join.out 2>&1 ||
	      [ $n -ge 60 ]; do
		sleep 1
		n=$((n + 1))
	done
	sed 's/^/# /' /tmp/cc-join.out
	desc="node 1 joins through node 3 (after $n failed attempts)"; check [ "$(show_field epoch)" -gt 0 ]
	ok "(node 3 proposes node 2's change again)"
	;;
2)
	wait_until "a quorum accepted the join, which node 2 does not commit" 30 \
		grep -q 2 $HOLD && echo "$DSM_TOKEN KILL" && sleep 600
	finish		# (the hold was never reached: the others fail too)
	exit 1
	;;
*)
	ok "(node 1's join through node 2 fails)"
	wait_until "node 2 is down here" 30 peer_state_is 2 down
	wait_until "node 1 joined: four members" 90 members_are 4
	if [ $me = 3 ]; then
		desc="node 3 proposed node 2's accepted join of node 1 again"
		check sh -c "dmesg | grep -q 'epoch $((e + 1)): proposing again the change a quorum may have accepted from node 2 (join of node 1)'"
		dmesg | grep 'proposing again' | sed 's/^/# /'
	else
		ok "(node 3 proposes node 2's change again)"
	fi
	;;
esac
wait_until "nodes 1, 3 and 4 at one epoch, node 2 down" 60 up_agree 2
DSM_NODES=3 dsm_barrier cc-done 120	# node 2 is gone
finish
