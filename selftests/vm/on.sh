#!/bin/sh
# on: run commands on the nodes of a test cluster by hand (cluster.sh
# --shell puts this at /bin/on in every guest).
#
#   on NODE CMD [ARGS...]   run CMD on node NODE (1-9, or "all": each node in
#                           turn, its lines prefixed), print its output, exit
#                           with its status (255: the node did not answer).
#                           Like ssh, the words are joined into one shell
#                           line there; its stdin is /dev/null, and Ctrl-C
#                           stops only the local end.
#   on serve                (every node, in the background) answer them
#   on shell                (the command of every node under --shell) node 1
#                           gives an interactive shell on /dev/hvc1, the
#                           others serve; when it exits, everyone stops
#
# A request is one TCP connection to port 7070 of 10.0.0.NODE on the test
# cluster's private bridge: the command line, then its output, a newline and
# a last line "<marker> STATUS" (the newline ends an output that did not
# end in one; the client drops it). Busybox nc runs `on serve-one` for each.
PORT=7070
MARK=":on:exit:"

run_on() {
	node=$1
	shift
	printf '%s\n' "$*" | nc -w 5 "10.0.0.$node" $PORT | {
		rc=255 held= have=0	# a line is printed once the next one came
		while IFS= read -r line; do
			case $line in
			"$MARK "*)
				rc=${line#"$MARK "}
				[ -z "$held" ] || printf '%s\n' "$held"
				have=0 ;;
			*)
				[ $have = 0 ] || printf '%s\n' "$held"
				held=$line have=1 ;;
			esac
		done
		[ $have = 0 ] || printf '%s\n' "$held"
		exit "$rc"
	}
}

case $1 in
serve)
	echo $$ > /tmp/on.pid
	exec nc -ll -p $PORT -e on serve-one ;;
serve-one)
	IFS= read -r cmd
	sh -c "$cmd" < /dev/null 2>&1
	printf '\n%s %s\n' "$MARK" $? ;;
shell)
	on serve &
	if [ "$DSM_NODE_ID" != 1 ]; then
		wait
		exit 0
	fi
	for n in $(seq 1 "$DSM_NODES"); do	# every node answers, at most 60 s
		for _ in $(seq 300); do
			run_on "$n" true 2> /dev/null && break
			sleep 0.2
		done
	done
	cat > /dev/hvc1 <<EOF
dsm test cluster: $DSM_NODES nodes, this is node 1 (10.0.0.1); dsm.ko is
loaded and every node joined. 'on NODE CMD' runs CMD on node NODE ('on all
CMD' on each); dsmctl, dsm_fill, dsm_coherence and the other test programs
are in PATH. 'exit' stops the cluster.
EOF
	PS1='node1# ' setsid -c sh -i < /dev/hvc1 > /dev/hvc1 2>&1
	for n in $(seq 2 "$DSM_NODES"); do
		run_on "$n" 'kill $(cat /tmp/on.pid)' > /dev/null
	done
	kill "$(cat /tmp/on.pid)" ;;
all)
	shift
	[ $# -gt 0 ] || { echo "on: no command for all nodes" >&2; exit 1; }
	status=0
	for n in $(seq 1 "$DSM_NODES"); do
		run_on "$n" "$@" > /tmp/on.all
		rc=$?
		sed "s/^/[node $n] /" /tmp/on.all
		[ $rc = 0 ] || { echo "[node $n] (exit status $rc)"; status=1; }
	done
	exit $status ;;
[1-9])
	[ $# -gt 1 ] || { echo "on: no command for node $1" >&2; exit 1; }
	run_on "$@" ;;
*)
	echo "usage: on NODE|all CMD [ARGS...]" >&2
	exit 1 ;;
esac
