#!/bin/sh
# dsmctl's user interface: exit codes, kernel error messages, output.
# Runs in a guest with dsm.ko loaded and the node configured.
. ktap.sh
plan 43

expect "no arguments is a usage error" 1 dsmctl
expect "unknown object is a usage error" 1 dsmctl frobnicate
expect_output "usage error says Error:" "^Error: unknown object 'frobnicate'"
expect "bad node id is caught before the kernel" 1 dsmctl node set id 0 addr 10.0.0.1
expect "missing address is a usage error" 1 dsmctl node set id 1
expect "bad address is a usage error" 1 dsmctl node set id 1 addr 10.0.0.300
expect "help exits 0" 0 dsmctl help

expect "kernel refusal exits 2" 2 dsmctl node set id 1 addr 224.0.0.1
expect_output "kernel's reason is printed" "^Error: node address must be a unicast"

expect "unprivileged node set exits 2" 2 su nobody -c \
	"dsmctl node set id 1 addr 10.0.0.1"
expect_output "unprivileged gets EPERM" "^Error: Operation not permitted"

expect "show works" 0 dsmctl show
expect_output "show names this node" "node: $DSM_NODE_ID at 10.0.0.$DSM_NODE_ID:7878"

expect "prefixes work: 'dsmctl sh'" 0 dsmctl sh
expect "json output" 0 dsmctl -j show
expect "stats reset" 0 dsmctl stats reset
expect "stats after reset" 0 dsmctl -j stats
expect_output "reset counters read zero" '"bad_netlink":0'
expect "unprivileged stats reset exits 2" 2 su nobody -c 'dsmctl stats reset'
expect "node limit needs mem MIB" 1 dsmctl node limit mem
expect "a cap past 16 TiB is caught before the kernel" 1 dsmctl node limit mem 16777217
expect "node limit mem 64" 0 dsmctl node limit mem 64
expect "show gives the cap" 0 dsmctl -j show
expect_output "in JSON" '"cluster_pages":[0-9]*,"mem_max_mib":64'
expect "unprivileged node limit exits 2" 2 su nobody -c 'dsmctl node limit mem 1'
expect "node limit mem none" 0 sh -c \
	'dsmctl node limit mem none && ! dsmctl -j show | grep -q mem_max_mib'

# regions: one with its 16 pages made here, mapped by one process (its
# mapping keeps the file it closed attached)
dsm_fill fill 0x5eed 65536 > /dev/null
dsm_fill hold 0x5eed 65536 > /tmp/hold.out &
hold=$!
i=0
while ! grep -q holding /tmp/hold.out && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect "region list" 0 dsmctl region list
expect_output "it lists the region, its pages (all here), one mapping" \
	"^0x5eed  *65536 B  *[a-z]*  *homes [^ ]*  *held 16  owned 16  homed 16  mappings 1  files 1"
expect "unprivileged region list exits 2 (keys are capabilities)" 2 su nobody -c 'dsmctl region'
expect "region show in JSON" 0 dsmctl -j region show 0x5eed
expect_output "JSON names it" \
	'"key":24301,"size":65536,"mode":"[a-z]*","homes":"[0-9a-z,]*","held":16'
expect "a region not here exits 2" 2 dsmctl region show 0x5eee
expect_output "and says so" "no region 0x5eee on this node"
expect "region show needs a key" 1 dsmctl region show
# hot: pages this node alone uses never move; bad arguments are caught
expect "hot of the region" 0 dsmctl hot 0x5eed
expect_output "it has its header" '^KEY  *PAGE  *HOME  *FAULTS  *LOST  *MOVES  *NODES$'
expect "and no page: nothing moved" 0 sh -c '[ "$(dsmctl hot 0x5eed | wc -l)" = 2 ]'
expect "hot of every region over a second, in JSON: none" 0 dsmctl -j hot -i 1 -n 0
expect_output "an empty array" '^\[\]$'
expect "hot -n needs a number" 1 dsmctl hot -n
expect "hot takes one key" 1 dsmctl hot 0x5eed 0x5eee
expect "unprivileged hot exits 2" 2 su nobody -c 'dsmctl hot'
kill $hold
wait $hold 2> /dev/null
expect "removed, it is not listed" 0 sh -c \
	'dsm_fill remove 0x5eed && ! dsmctl region list | grep -q "^0x5eed "'
finish
