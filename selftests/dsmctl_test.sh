#!/bin/sh
# dsmctl's user interface: exit codes, kernel error messages, output.
# Runs in a guest with dsm.ko loaded and the node configured.
. ktap.sh
plan 19

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
finish
