#!/bin/sh
# Helpers of the shell selftests that look at the cluster through dsmctl;
# source ktap.sh first.

# show_field KEY: a number from `dsmctl -j show` (epoch, members, ...)
show_field() { dsmctl -j show | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
stat_of() { show_field "$1"; }
members_are() { [ "$(show_field members)" = "$1" ]; }
peers_up() { [ "$(dsmctl -j peers | grep -o '"state":"up"' | wc -l)" -eq "$1" ]; }
peer_json() { dsmctl -j peers | grep -o "{\"id\":$1,[^}]*}"; }
peer_state_is() { peer_json "$1" | grep -q "\"state\":\"$2\""; }
# same_epoch: every peer (down ones too) last announced this node's epoch
same_epoch() {
	e=$(show_field epoch)
	[ "$e" -gt 0 ] && [ -z "$(dsmctl -j peers | grep -o '"epoch":[0-9]*' | grep -v "\"epoch\":$e\$")" ]
}

# wait_until DESC SECONDS CMD...: poll CMD until it succeeds
wait_until() {
	desc=$1 n=$(($2 * 5))
	shift 2
	while [ $n -gt 0 ]; do
		if "$@" > /dev/null 2>&1; then
			ok "$desc"
			return 0
		fi
		sleep 0.2
		n=$((n - 1))
	done
	not_ok "$desc (waited)"
	dsmctl show | sed 's/^/# /'
	dsmctl peers | sed 's/^/# /'
	return 1
}

check() { if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }
