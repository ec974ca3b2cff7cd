// SPDX-License-Identifier: GPL-2.0
/*
 * dsmctl: configure and inspect the dsm module.
 *
 *   dsmctl [-j | -p] OBJECT COMMAND [ARGS]
 *
 * Exit status: 0 success, 1 usage error, 2 the kernel refused the request,
 * 3 the dsm module is not loaded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/dsm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hot.h"
#include "json.h"
#include "nl.h"
#include "parse.h"
#include "save.h"

enum { EXIT_OK, EXIT_USAGE, EXIT_KERNEL, EXIT_NOMODULE };

static const char *const stat_names[DSM_STAT_MAX + 1] = {
	[DSM_STAT_FAULTS] = "faults",
	[DSM_STAT_ZERO_FILLS] = "zero_fills",
	[DSM_STAT_REGIONS_CREATED] = "regions_created",
	[DSM_STAT_REGIONS_DESTROYED] = "regions_destroyed",
	[DSM_STAT_BAD_IOCTL] = "bad_ioctl",
	[DSM_STAT_BAD_MMAP] = "bad_mmap",
	[DSM_STAT_BAD_NETLINK] = "bad_netlink",
	[DSM_STAT_CONN_ACCEPTED] = "conn_accepted",
	[DSM_STAT_CONN_REJECTED] = "conn_rejected",
	[DSM_STAT_HANDSHAKE_REFUSED] = "handshake_refused",
	[DSM_STAT_AUTH_FAILED] = "auth_failed",
	[DSM_STAT_BAD_WIRE] = "bad_wire",
	[DSM_STAT_PEER_DOWN] = "peer_down",
	[DSM_STAT_EPOCH_CHANGES] = "epoch_changes",
	[DSM_STAT_READ_FAULTS_LOCAL] = "read_faults_local",
	[DSM_STAT_READ_FAULTS_REMOTE] = "read_faults_remote",
	[DSM_STAT_WRITE_FAULTS_LOCAL] = "write_faults_local",
	[DSM_STAT_WRITE_FAULTS_REMOTE] = "write_faults_remote",
	[DSM_STAT_FAULTS_JOINED] = "faults_joined",
	[DSM_STAT_FAULT_RETRIES] = "fault_retries",
	[DSM_STAT_FAULT_FAILURES] = "fault_failures",
	[DSM_STAT_REQUESTS_SERVED] = "requests_served",
	[DSM_STAT_INV_SENT] = "inv_sent",
	[DSM_STAT_INV_RECEIVED] = "inv_received",
	[DSM_STAT_PAGES_SENT] = "pages_sent",
	[DSM_STAT_PAGES_RECEIVED] = "pages_received",
	[DSM_STAT_BYTES_SENT] = "bytes_sent",
	[DSM_STAT_BYTES_RECEIVED] = "bytes_received",
	[DSM_STAT_COH_MSGS_SENT] = "coh_msgs_sent",
	[DSM_STAT_COH_MSGS_RECEIVED] = "coh_msgs_received",
	[DSM_STAT_READAHEAD] = "readahead",
	[DSM_STAT_MSGS_RESENT] = "msgs_resent",
	[DSM_STAT_MSGS_DUPLICATE] = "msgs_duplicate",
	[DSM_STAT_NODES_LOST] = "nodes_lost",
	[DSM_STAT_TX_WINDOW_FULL] = "tx_window_full",
	[DSM_STAT_COH_MSGS_DROPPED] = "coh_msgs_dropped",
	[DSM_STAT_REQUESTS_MOVED] = "requests_moved",
	[DSM_STAT_REQUESTS_RESENT] = "requests_resent",
	[DSM_STAT_REQUESTS_DEFERRED] = "requests_deferred",
	[DSM_STAT_PREFETCH_USED] = "prefetch_used",
	[DSM_STAT_PREFETCH_WASTED] = "prefetch_wasted",
	[DSM_STAT_PREFETCH_DECLINED] = "prefetch_declined",
	[DSM_STAT_BARRIERS] = "barriers",
	[DSM_STAT_BARRIER_RETRIES] = "barrier_retries",
	[DSM_STAT_BARRIER_REFUSED] = "barrier_refused",
	[DSM_STAT_COH_MSGS_PACKED] = "coh_msgs_packed",
	[DSM_STAT_FAULTS_AROUND] = "faults_around",
	[DSM_STAT_NODES_SUSPECTED] = "nodes_suspected",
	[DSM_STAT_FENCES] = "fences",
	[DSM_STAT_FENCED_WAITS] = "fenced_waits",
	[DSM_STAT_EVICTIONS] = "evictions",
	[DSM_STAT_CENSUS_PAGES] = "census_pages",
	[DSM_STAT_CENSUS_ORPHANS] = "census_orphans",
	[DSM_STAT_FREEZES] = "freezes",
	[DSM_STAT_FREEZES_BROKEN] = "freezes_broken",
	[DSM_STAT_COMMITS] = "commits",
	[DSM_STAT_REPLICAS_SENT] = "replicas_sent",
	[DSM_STAT_REPLICAS_STORED] = "replicas_stored",
	[DSM_STAT_REPLICAS_RESTORED] = "replicas_restored",
	[DSM_STAT_CENSUS_SETTLES] = "census_settles",
	[DSM_STAT_CENSUS_REREADS] = "census_rereads",
	[DSM_STAT_REPLICAS_HANDED] = "replicas_handed",
	[DSM_STAT_SEAL_FAILED] = "seal_failed",
	[DSM_STAT_REPLICAS_REFUSED] = "replicas_refused",
	[DSM_STAT_MEM_CAP_REFUSED] = "mem_cap_refused",
	[DSM_STAT_SHADOWS_REFUSED] = "shadows_refused",
	[DSM_STAT_MEMBERSHIP_REFUSED] = "membership_refused",
};

static const char *const state_names[] = {
	[DSM_PEER_DOWN] = "down",
	[DSM_PEER_CONNECTING] = "connecting",
	[DSM_PEER_HANDSHAKE] = "handshake",
	[DSM_PEER_UP] = "up",
};

static const char *const reason_names[__DSM_REASON_MAX] = {
	[DSM_REASON_NONE] = "none",
	[DSM_REASON_VERSION] = "version mismatch",
	[DSM_REASON_CLUSTER] = "cluster id mismatch",
	[DSM_REASON_NODE] = "unexpected node id",
	[DSM_REASON_NOT_MEMBER] = "not a member",
	[DSM_REASON_TIMEOUTS] = "dead timeout mismatch",
	[DSM_REASON_KEY] = "key on one side only",
	[DSM_REASON_AUTH] = "key proof failed",
	[DSM_REASON_PROTOCOL] = "malformed message",
	[DSM_REASON_HEARTBEAT] = "heartbeat timeout",
	[DSM_REASON_CLOSED] = "connection closed",
	[DSM_REASON_CONNECT] = "connect failed",
	[DSM_REASON_TIMEOUT] = "handshake timeout",
	[DSM_REASON_BUSY] = "too many pending connections",
	[DSM_REASON_LEFT] = "left",
	[DSM_REASON_REPLACED] = "replaced",
	[DSM_REASON_SHUTDOWN] = "shutdown",
	[DSM_REASON_INCARNATION] = "restarted or forgotten",
	[DSM_REASON_ADDRESS] = "wrong address",
	[DSM_REASON_DECLARED] = "declared lost",
	[DSM_REASON_FORGED] = "forged or replayed message",
};

static const char *const event_names[] = {
	[DSM_EVENT_PEER_UP] = "peer-up",
	[DSM_EVENT_PEER_DOWN] = "peer-down",
	[DSM_EVENT_JOIN] = "join",
	[DSM_EVENT_LEAVE] = "leave",
	[DSM_EVENT_EPOCH] = "epoch",
};

#define NAME(table, i) \
	((i) < sizeof(table) / sizeof((table)[0]) && (table)[i] ? (table)[i] : "unknown")

static int usage_error(const char *fmt, const char *arg)
{
	fputs("Error: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" Try 'dsmctl help'.\n", stderr);
	return EXIT_USAGE;
}

static void print_help(FILE *f)
{
	fputs("Usage: dsmctl [-j | -p] OBJECT COMMAND [ARGS]\n"
	      "\n"
	      "  dsmctl show                          this node: identity, cluster, counters\n"
	      "  dsmctl node set id ID addr ADDR [port PORT] [cluster ID]\n"
	      "                  [dead-timeout MS] [key FILE | key none]\n"
	      "                                       set this node's id (1-64), the IPv4\n"
	      "                                       address and TCP port peers reach it at,\n"
	      "                                       its cluster, and the cluster key (64 hex\n"
	      "                                       digits read from FILE)\n"
	      "  dsmctl node limit mem MIB|none       cap the memory this node's pages of\n"
	      "                                       cluster regions take (peers' requests\n"
	      "                                       and faults for new pages fail past it)\n"
	      "  dsmctl join [ADDR[:PORT]]            join the cluster of the member at ADDR,\n"
	      "                                       or form a new cluster without ADDR\n"
	      "  dsmctl leave                         leave the cluster\n"
	      "  dsmctl peers                         the other members and their links\n"
	      "  dsmctl stats [reset]                 this node's counters; reset sets them\n"
	      "                                       to zero\n"
	      "  dsmctl region [list]                 the regions this node knows: key, size,\n"
	      "                                       mode, home set, pages held, owned and\n"
	      "                                       homed here, mappings and files\n"
	      "  dsmctl region show KEY               the same for one region\n"
	      "  dsmctl region save KEY FILE          a consistent copy of a cluster region\n"
	      "                                       (writes wait meanwhile) in FILE\n"
	      "  dsmctl region load FILE [KEY]        create the region saved in FILE (under\n"
	      "                                       KEY); it must not exist\n"
	      "  dsmctl hot [KEY] [-n N] [-i SECONDS] the pages that move most between nodes\n"
	      "                                       (faults, copies lost, changes of hands),\n"
	      "                                       of one region or all: the top N (10;\n"
	      "                                       0: all), totals or over SECONDS\n"
	      "  dsmctl monitor                       print membership and link events\n"
	      "  dsmctl help | node help\n"
	      "\n"
	      "Options: -j JSON output, -p pretty JSON, -V version, -h help.\n"
	      "Exit status: 0 ok, 1 usage error, 2 refused by the kernel,\n"
	      "3 the dsm module is not loaded.\n", f);
}

/* A key file holds 64 hex digits; the key never appears on the command line. */
static int read_key(const char *path, uint8_t *key)
{
	char buf[256];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	n = parse_hex_key(buf, key, DSM_KEY_LEN) ? (size_t)-1 : 0;
	memset(buf, 0, sizeof(buf));
	return n ? -EINVAL : 0;
}

static int family_connect(struct dsm_nl *nl)
{
	int err = dsm_nl_open(nl);

	if (err == -ENOENT) {
		fputs("Error: the dsm module is not loaded (no generic netlink family \""
		      DSM_GENL_NAME "\"); load it with 'modprobe dsm'.\n", stderr);
		return EXIT_NOMODULE;
	}
	if (err) {
		fprintf(stderr, "Error: cannot open a netlink socket: %s.\n",
			strerror(-err));
		return EXIT_KERNEL;
	}
	return EXIT_OK;
}

/* Print why the kernel refused, preferring its own words. */
static int kernel_error(struct dsm_nl *nl, int err)
{
	if (nl->errmsg[0])
		fprintf(stderr, "Error: %s.\n", nl->errmsg);
	else if (err == -EPERM)
		fputs("Error: Operation not permitted (CAP_NET_ADMIN is required).\n",
		      stderr);
	else
		fprintf(stderr, "Error: %s.\n", strerror(-err));
	return EXIT_KERNEL;
}

static int run(struct nl_msg *msg, struct dsm_nl *nl, dsm_nl_reply_fn fn,
	       void *arg)
{
	int err;

	if (!msg) {
		fputs("Error: out of memory.\n", stderr);
		return EXIT_KERNEL;
	}
	err = dsm_nl_request(nl, msg, fn, arg);
	return err ? kernel_error(nl, err) : EXIT_OK;
}

/*
 * One request (or dump, with NLM_F_DUMP) of a command whose only argument,
 * if @key is not NULL, is a region key (DSM_A_REGION_KEY).
 */
static int request_key(uint8_t cmd, int flags, const uint64_t *key,
		       dsm_nl_reply_fn fn, void *arg)
{
	struct nl_msg *msg;
	struct dsm_nl nl;
	int ret = family_connect(&nl);

	if (ret)
		return ret;
	msg = dsm_nl_msg_flags(&nl, cmd, flags);
	if (msg && key && nla_put_u64(msg, DSM_A_REGION_KEY, *key)) {
		nlmsg_free(msg);
		msg = NULL;	/* run() reports it */
	}
	ret = run(msg, &nl, fn, arg);
	dsm_nl_close(&nl);
	return ret;
}

/* One request (or dump, with NLM_F_DUMP) of a command without arguments. */
static int request(uint8_t cmd, int flags, dsm_nl_reply_fn fn, void *arg)
{
	return request_key(cmd, flags, NULL, fn, arg);
}

static int no_args(int argc, char **argv)
{
	return argc > 0 ? usage_error("unexpected argument '%s'.", argv[0]) : 0;
}

static uint64_t get_u64(struct nlattr *a)
{
	return a ? nla_get_u64(a) : 0;
}

static uint32_t get_u32(struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

static void show_stats(struct nlattr *nest)
{
	struct nlattr *st[DSM_STAT_MAX + 1];
	int i;

	if (!nest || nla_parse_nested(st, DSM_STAT_MAX, nest, NULL))
		return;
	out_open("stats", "counters:\n");
	for (i = DSM_STAT_PAD + 1; i <= DSM_STAT_MAX; i++) {
		if (!stat_names[i])
			continue;
		out_text("  %-20s", stat_names[i]);
		out_u64(stat_names[i], "%llu\n", get_u64(st[i]));
	}
	out_close();
}

static int show_reply(struct nlattr **tb, void *arg)
{
	uint32_t id = get_u32(tb[DSM_A_NODE_ID]);
	char addr[INET_ADDRSTRLEN] = "";

	(void)arg;
	out_open(NULL, NULL);
	out_str("version", "dsm %s\n",
		tb[DSM_A_VERSION] ? nla_get_string(tb[DSM_A_VERSION]) : "?");
	out_open("node", NULL);
	out_text("node: ");
	out_u64("id", id ? "%llu" : "not configured", id);
	if (id && tb[DSM_A_NODE_ADDR] && tb[DSM_A_NODE_PORT]) {
		uint32_t a = nla_get_u32(tb[DSM_A_NODE_ADDR]);

		inet_ntop(AF_INET, &a, addr, sizeof(addr));
		out_str("addr", " at %s", addr);
		out_u64("port", ":%llu", nla_get_u16(tb[DSM_A_NODE_PORT]));
	}
	out_text("\n");
	out_close();
	out_open("cluster", NULL);
	out_u64("id", "cluster: %llu", get_u64(tb[DSM_A_CLUSTER_ID]));
	out_u64("epoch", ", epoch %llu", get_u64(tb[DSM_A_EPOCH]));
	out_u64("members", ", %llu members", get_u32(tb[DSM_A_MEMBERS]));
	out_u64("coordinator", ", coordinator %llu", get_u32(tb[DSM_A_COORDINATOR]));
	if (get_u32(tb[DSM_A_FENCED_MS]))
		out_u64("fenced_ms", ", FENCED (no quorum) for %llu ms",
			get_u32(tb[DSM_A_FENCED_MS]));
	out_u64("dead_timeout_ms", ", dead timeout %llu ms", get_u32(tb[DSM_A_DEAD_TIMEOUT_MS]));
	out_str("key", ", key %s\n", tb[DSM_A_KEYED] && nla_get_u8(tb[DSM_A_KEYED]) ?
		"(hidden)" : "(none)");
	out_close();
	out_u64("regions", "regions: %llu\n", get_u32(tb[DSM_A_REGIONS]));
	out_u64("pages", "pages: %llu", get_u64(tb[DSM_A_PAGES]));
	out_u64("cluster_pages", " (%llu of cluster regions", get_u64(tb[DSM_A_CLUSTER_PAGES]));
	if (get_u32(tb[DSM_A_MEM_MAX_MIB]))
		out_u64("mem_max_mib", ", cap %llu MiB", get_u32(tb[DSM_A_MEM_MAX_MIB]));
	out_text(")\n");
	show_stats(tb[DSM_A_STATS]);
	out_end();
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	return no_args(argc, argv) ?: request(DSM_CMD_GET, 0, show_reply, NULL);
}

static int stats_reply(struct nlattr **tb, void *arg)
{
	(void)arg;
	out_open(NULL, NULL);
	show_stats(tb[DSM_A_STATS]);
	out_end();
	return 0;
}

static int cmd_stats(int argc, char **argv)
{
	static const char *const cmds[] = { "reset", NULL };

	if (argc < 1)
		return request(DSM_CMD_GET, 0, stats_reply, NULL);
	if (match_word(argv[0], cmds) != 0)
		return usage_error("unknown stats command '%s'.", argv[0]);
	return no_args(argc - 1, argv + 1) ?: request(DSM_CMD_STATS_RESET, 0, NULL, NULL);
}

static int cmd_node_set(int argc, char **argv)
{
	static const char *const keys[] = { "id", "addr", "port", "cluster",
					    "dead-timeout", "key", NULL };
	uint32_t id = 0, addr = 0, port = 0, dead = 0;
	uint64_t cluster = 0;
	uint8_t key[DSM_KEY_LEN];
	int have_addr = 0, have_port = 0, key_op = 0;	/* 1 set, 2 clear */
	struct nl_msg *msg;
	struct dsm_nl nl;
	int i, k, ret;

	for (i = 0; i < argc; i += 2) {
		k = match_word(argv[i], keys);
		if (k < 0)
			return usage_error("unknown argument '%s'.", argv[i]);
		if (i + 1 >= argc)
			return usage_error("'%s' needs a value.", argv[i]);
		if (k == 0 && parse_u32(argv[i + 1], 1, DSM_MAX_NODES, &id))
			return usage_error("bad node id '%s' (1-64).", argv[i + 1]);
		if (k == 1 && parse_ipv4(argv[i + 1], &addr))
			return usage_error("bad IPv4 address '%s'.", argv[i + 1]);
		if (k == 2 && parse_u32(argv[i + 1], 1, 65535, &port))
			return usage_error("bad port '%s' (1-65535).", argv[i + 1]);
		if (k == 3 && parse_u64(argv[i + 1], 1, &cluster))
			return usage_error("bad cluster id '%s' (a non-zero integer).", argv[i + 1]);
		if (k == 4 && parse_u32(argv[i + 1], DSM_DEAD_TIMEOUT_MIN,
					DSM_DEAD_TIMEOUT_MAX, &dead))
			return usage_error("bad dead timeout '%s' (1000-60000 ms).", argv[i + 1]);
		if (k == 5) {
			key_op = strcmp(argv[i + 1], "none") ? 1 : 2;
			if (key_op == 1 && read_key(argv[i + 1], key))
				return usage_error("cannot read a key (64 hex digits) from '%s'.",
						   argv[i + 1]);
		}
		have_addr |= k == 1;
		have_port |= k == 2;
	}
	if (!id || !have_addr)
		return usage_error("%s", "'node set' needs 'id ID addr ADDR'.");

	ret = family_connect(&nl);
	if (ret)
		return ret;
	msg = dsm_nl_msg(&nl, DSM_CMD_NODE_SET);
	if (msg && (nla_put_u32(msg, DSM_A_NODE_ID, id) ||
		    nla_put_u32(msg, DSM_A_NODE_ADDR, addr) ||
		    (have_port && nla_put_u16(msg, DSM_A_NODE_PORT, port)) ||
		    (cluster && nla_put_u64(msg, DSM_A_CLUSTER_ID, cluster)) ||
		    (dead && nla_put_u32(msg, DSM_A_DEAD_TIMEOUT_MS, dead)) ||
		    (key_op && nla_put(msg, DSM_A_CLUSTER_KEY,
				       key_op == 1 ? DSM_KEY_LEN : 0, key)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	ret = run(msg, &nl, NULL, NULL);
	dsm_nl_close(&nl);
	memset(key, 0, sizeof(key));
	return ret;
}

static int cmd_node_limit(int argc, char **argv)
{
	static const char *const keys[] = { "mem", NULL };
	uint32_t mib = 0;
	struct nl_msg *msg;
	struct dsm_nl nl;
	int ret;

	if (argc != 2 || match_word(argv[0], keys) != 0)
		return usage_error("%s", "'node limit' needs 'mem MIB' or 'mem none'.");
	if (strcmp(argv[1], "none") &&
	    (parse_u32(argv[1], 1, DSM_MEM_MAX_MIB_MAX, &mib)))
		return usage_error("bad memory cap '%s' (1-16777216 MiB, or none).", argv[1]);
	ret = family_connect(&nl);
	if (ret)
		return ret;
	msg = dsm_nl_msg(&nl, DSM_CMD_LIMIT_SET);
	if (msg && nla_put_u32(msg, DSM_A_MEM_MAX_MIB, mib)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	ret = run(msg, &nl, NULL, NULL);
	dsm_nl_close(&nl);
	return ret;
}

static int cmd_join(int argc, char **argv)
{
	uint32_t addr = 0;
	uint16_t port = DSM_DEFAULT_PORT;
	struct nl_msg *msg;
	struct dsm_nl nl;
	int ret;

	if (argc > 1)
		return usage_error("unexpected argument '%s'.", argv[1]);
	if (argc == 1 && parse_addr_port(argv[0], &addr, &port))
		return usage_error("bad contact '%s' (ADDR or ADDR:PORT).", argv[0]);
	ret = family_connect(&nl);
	if (ret)
		return ret;
	msg = dsm_nl_msg(&nl, DSM_CMD_JOIN);
	if (msg && argc == 1 && (nla_put_u32(msg, DSM_A_CONTACT_ADDR, addr) ||
				 nla_put_u16(msg, DSM_A_CONTACT_PORT, port))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	ret = run(msg, &nl, NULL, NULL);
	dsm_nl_close(&nl);
	return ret;
}

static int cmd_leave(int argc, char **argv)
{
	return no_args(argc, argv) ?: request(DSM_CMD_LEAVE, 0, NULL, NULL);
}

static void print_addr(const char *key, const char *fmt, struct nlattr *a)
{
	char buf[INET_ADDRSTRLEN] = "?";
	uint32_t v;

	if (a) {
		v = nla_get_u32(a);
		inet_ntop(AF_INET, &v, buf, sizeof(buf));
	}
	out_str(key, fmt, buf);
}

static int peer_reply(struct nlattr **tb, void *arg)
{
	struct nlattr *p[DSM_PEER_A_MAX + 1];
	uint32_t state, reason;

	(void)arg;
	if (!tb[DSM_A_PEER] || nla_parse_nested(p, DSM_PEER_A_MAX, tb[DSM_A_PEER], NULL))
		return -EPROTO;
	state = get_u32(p[DSM_PEER_A_STATE]);
	reason = get_u32(p[DSM_PEER_A_REASON]);
	out_open(NULL, NULL);
	out_u64("id", "node %-3llu ", get_u32(p[DSM_PEER_A_ID]));
	print_addr("addr", "%s", p[DSM_PEER_A_ADDR]);
	out_u64("port", ":%-6llu ", p[DSM_PEER_A_PORT] ? nla_get_u16(p[DSM_PEER_A_PORT]) : 0);
	out_str("state", "%-10s ", NAME(state_names, state));
	out_u64("since_ms", "for %llus", get_u64(p[DSM_PEER_A_SINCE_MS]) / (out_is_json() ? 1 : 1000));
	out_str("reason", reason ? " (%s)" : NULL, NAME(reason_names, reason));
	out_u64("rtt_us", "  rtt %lluus", get_u32(p[DSM_PEER_A_RTT_US]));
	out_u64("epoch", "  epoch %llu", get_u64(p[DSM_PEER_A_EPOCH]));
	out_u64("tx_msgs", "  tx %llu msgs", get_u64(p[DSM_PEER_A_TX_MSGS]));
	out_u64("tx_bytes", " %llu B", get_u64(p[DSM_PEER_A_TX_BYTES]));
	out_u64("rx_msgs", "  rx %llu msgs", get_u64(p[DSM_PEER_A_RX_MSGS]));
	out_u64("rx_bytes", " %llu B", get_u64(p[DSM_PEER_A_RX_BYTES]));
	out_u64("errors", "  errors %llu", get_u64(p[DSM_PEER_A_ERRORS]));
	out_u64("resent", "  resent %llu", get_u64(p[DSM_PEER_A_RESENT]));
	out_u64("unacked_bytes", "  unacked %llu B\n", get_u64(p[DSM_PEER_A_UNACKED]));
	out_close();
	return 0;
}

static int cmd_peers(int argc, char **argv)
{
	int ret = no_args(argc, argv);

	if (ret)
		return ret;
	out_array_open();
	ret = request(DSM_CMD_PEER_GET, NLM_F_DUMP, peer_reply, NULL);
	out_array_close();
	out_end();
	return ret;
}

/* Which regions `region` prints: all, or the one with @key. */
struct region_filter {
	int one;
	uint64_t key;
	unsigned int found;
};

/* "1,2,3" for a node set, @none for the empty set. */
static void format_nodes(uint64_t set, const char *none, char *buf, size_t len)
{
	size_t n = 0;
	int id;

	buf[0] = 0;
	for (id = 1; id <= DSM_MAX_NODES && n < len; id++)
		if (set & (1ULL << (id % 64)))
			n += snprintf(buf + n, len - n, n ? ",%d" : "%d", id);
	if (!n)
		snprintf(buf, len, "%s", none);
}

static int region_reply(struct nlattr **tb, void *arg)
{
	struct nlattr *p[DSM_REGION_A_MAX + 1];
	struct region_filter *f = arg;
	char homes[3 * DSM_MAX_NODES + 1];
	uint64_t key;

	if (!tb[DSM_A_REGION] ||
	    nla_parse_nested(p, DSM_REGION_A_MAX, tb[DSM_A_REGION], NULL))
		return -EPROTO;
	key = get_u64(p[DSM_REGION_A_KEY]);
	if (f->one && key != f->key)
		return 0;
	f->found++;
	format_nodes(get_u64(p[DSM_REGION_A_HOMES]), "local", homes, sizeof(homes));
	out_open(NULL, NULL);
	out_u64("key", "%#-18llx ", key);
	out_u64("size", " %12llu B ", get_u64(p[DSM_REGION_A_SIZE]));
	out_str("mode", " %-7s ", p[DSM_REGION_A_CLUSTER] &&
		nla_get_u8(p[DSM_REGION_A_CLUSTER]) ? "cluster" : "local");
	out_str("homes", " homes %-12s", homes);
	out_u64("held", "  held %llu", get_u64(p[DSM_REGION_A_HELD]));
	out_u64("owned", "  owned %llu", get_u64(p[DSM_REGION_A_OWNED]));
	out_u64("homed", "  homed %llu", get_u64(p[DSM_REGION_A_HOMED]));
	out_u64("mappings", "  mappings %llu", get_u32(p[DSM_REGION_A_MAPPINGS]));
	out_u64("files", "  files %llu", get_u32(p[DSM_REGION_A_FILES]));
	out_u64("copies", "  copies %llu", p[DSM_REGION_A_COPIES] ?
		nla_get_u8(p[DSM_REGION_A_COPIES]) : 0);
	out_u64("replicas", "  replicas %llu\n", get_u64(p[DSM_REGION_A_REPLICAS]));
	out_close();
	return 0;
}

/* What region save or load ended with (they said why), as an exit status. */
static int save_status(int err)
{
	if (err == -ENODEV) {
		fprintf(stderr, "dsmctl: /dev/dsm is missing: is the dsm module loaded?\n");
		return EXIT_NOMODULE;
	}
	return err ? EXIT_KERNEL : EXIT_OK;
}

/* dsmctl region [list] | region show KEY | region save | region load */
static int cmd_region(int argc, char **argv)
{
	static const char *const cmds[] = { "list", "show", "save", "load", NULL };
	struct region_filter f = {};
	uint64_t key;
	int ret;

	if (argc > 0) {
		switch (match_word(argv[0], cmds)) {
		case 0:
			ret = no_args(argc - 1, argv + 1);
			if (ret)
				return ret;
			break;
		case 1:
			if (argc != 2 || parse_u64(argv[1], 0, &f.key))
				return usage_error("%s", "'region show' needs a KEY (an integer, 0x for hex).");
			f.one = 1;
			break;
		case 2:
			if (argc != 3 || parse_u64(argv[1], 0, &key))
				return usage_error("%s", "'region save' needs a KEY and a FILE.");
			return save_status(region_save(key, argv[2]));
		case 3:
			if (argc < 2 || argc > 3 ||
			    (argc == 3 && parse_u64(argv[2], 0, &key)))
				return usage_error("%s", "'region load' needs a FILE, and a KEY if another.");
			return save_status(region_load(argv[1], argc == 3 ? &key : NULL));
		default:
			return usage_error("unknown region command '%s'.", argv[0]);
		}
	}
	out_array_open();
	ret = request(DSM_CMD_REGION_GET, NLM_F_DUMP, region_reply, &f);
	out_array_close();
	out_end();
	if (!ret && f.one && !f.found) {
		fprintf(stderr, "dsmctl: no region %#llx on this node.\n",
			(unsigned long long)f.key);
		return EXIT_KERNEL;
	}
	return ret;
}

static int hot_reply(struct nlattr **tb, void *arg)
{
	struct nlattr *p[DSM_HOT_A_MAX + 1];
	struct hot_page page;

	if (!tb[DSM_A_HOT] || nla_parse_nested(p, DSM_HOT_A_MAX, tb[DSM_A_HOT], NULL))
		return -EPROTO;
	page = (struct hot_page) {
		.key = get_u64(p[DSM_HOT_A_KEY]),
		.index = get_u64(p[DSM_HOT_A_INDEX]),
		.nodes = get_u64(p[DSM_HOT_A_NODES]),
		.home = get_u32(p[DSM_HOT_A_HOME]),
		.faults = get_u32(p[DSM_HOT_A_FAULTS]),
		.lost = get_u32(p[DSM_HOT_A_LOST]),
		.moves = get_u32(p[DSM_HOT_A_MOVES]),
	};
	return hot_add(arg, &page) ? -ENOMEM : 0;
}

/* One dump of the per-page counts: of region @key, or of all (NULL). */
static int hot_dump(const uint64_t *key, struct hot_list *l)
{
	return request_key(DSM_CMD_HOT_GET, NLM_F_DUMP, key, hot_reply, l);
}

static void hot_print(const struct hot_list *l, uint32_t top, uint32_t secs)
{
	char nodes[3 * DSM_MAX_NODES + 1];
	size_t i;

	if (secs)
		out_text("pages ranked by faults + copies lost + moves over %u s\n", secs);
	else
		out_text("pages ranked by faults + copies lost + moves (totals)\n");
	out_text("%-18s %10s %5s %8s %8s %8s  %s\n", "KEY", "PAGE", "HOME",
		 "FAULTS", "LOST", "MOVES", "NODES");
	out_array_open();
	for (i = 0; i < l->n && (!top || i < top); i++) {
		format_nodes(l->v[i].nodes, "-", nodes, sizeof(nodes));
		out_open(NULL, NULL);
		out_u64("key", "%#-18llx ", l->v[i].key);
		out_u64("page", "%10llu ", l->v[i].index);
		out_u64("home", "%5llu ", l->v[i].home);
		out_u64("faults", "%8llu ", l->v[i].faults);
		out_u64("lost", "%8llu ", l->v[i].lost);
		out_u64("moves", "%8llu  ", l->v[i].moves);
		out_str("nodes", "%s\n", nodes);
		out_close();
	}
	out_array_close();
	out_end();
}

/* dsmctl hot [KEY] [-n N] [-i SECONDS] */
static int cmd_hot(int argc, char **argv)
{
	struct hot_list before = {}, after = {};
	uint32_t top = 10, secs = 0;
	uint64_t key;
	int one = 0, i, ret;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "-i")) {
			if (i + 1 == argc ||
			    parse_u32(argv[i + 1], 0, argv[i][1] == 'n' ? UINT32_MAX : 3600,
				      argv[i][1] == 'n' ? &top : &secs))
				return usage_error("'hot %s' needs a number (-n: pages, 0 for all; -i: seconds, 0-3600).",
						   argv[i]);
			i++;
		} else if (!one && !parse_u64(argv[i], 0, &key)) {
			one = 1;
		} else {
			return usage_error("unexpected argument '%s'.", argv[i]);
		}
	}
	if (secs) {
		ret = hot_dump(one ? &key : NULL, &before);
		if (ret)
			goto out;
		sleep(secs);
	}
	ret = hot_dump(one ? &key : NULL, &after);
	if (ret)
		goto out;
	hot_rank(&after, secs ? &before : NULL);
	hot_print(&after, top, secs);
out:
	hot_free(&before);
	hot_free(&after);
	return ret;
}

static int event_reply(struct nlattr **tb, void *arg)
{
	uint32_t event = get_u32(tb[DSM_A_EVENT]), reason = get_u32(tb[DSM_A_REASON]);

	(void)arg;
	out_open(NULL, NULL);
	out_str("event", "%s", NAME(event_names, event));
	out_u64("node", " node %llu", get_u32(tb[DSM_A_PEER_ID]));
	out_u64("epoch", " epoch %llu", get_u64(tb[DSM_A_EPOCH]));
	out_str("reason", reason ? " (%s)" : NULL, NAME(reason_names, reason));
	out_text("\n");
	out_end();
	return 0;
}

static int cmd_monitor(int argc, char **argv)
{
	struct dsm_nl nl;
	int ret = no_args(argc, argv);

	if (ret)
		return ret;
	ret = family_connect(&nl);
	if (ret)
		return ret;
	ret = dsm_nl_monitor(&nl, event_reply, NULL);
	dsm_nl_close(&nl);
	return ret == -EPERM ? kernel_error(&nl, ret) : ret ? EXIT_KERNEL : EXIT_OK;
}

static int cmd_node(int argc, char **argv)
{
	static const char *const cmds[] = { "set", "help", "limit", NULL };

	if (argc < 1)
		return usage_error("%s", "'node' needs a command.");
	switch (match_word(argv[0], cmds)) {
	case 0:
		return cmd_node_set(argc - 1, argv + 1);
	case 1:
		print_help(stdout);
		return EXIT_OK;
	case 2:
		return cmd_node_limit(argc - 1, argv + 1);
	default:
		return usage_error("unknown node command '%s'.", argv[0]);
	}
}

int main(int argc, char **argv)
{
	static const char *const objects[] = { "show", "node", "join", "leave",
					       "peers", "monitor", "help", "stats",
					       "region", "hot", NULL };
	enum out_mode mode = OUT_TEXT;
	int opt;

	while ((opt = getopt(argc, argv, "+jpVh")) != -1) {
		switch (opt) {
		case 'j':
			mode = OUT_JSON;
			break;
		case 'p':
			mode = OUT_PRETTY;
			break;
		case 'V':
			printf("dsmctl %s\n", DSM_VERSION);
			return EXIT_OK;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		default:
			print_help(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	out_init(stdout, mode);

	if (argc < 1) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	switch (match_word(argv[0], objects)) {
	case 0:
		return cmd_show(argc - 1, argv + 1);
	case 1:
		return cmd_node(argc - 1, argv + 1);
	case 2:
		return cmd_join(argc - 1, argv + 1);
	case 3:
		return cmd_leave(argc - 1, argv + 1);
	case 4:
		return cmd_peers(argc - 1, argv + 1);
	case 5:
		return cmd_monitor(argc - 1, argv + 1);
	case 6:
		print_help(stdout);
		return EXIT_OK;
	case 7:
		return cmd_stats(argc - 1, argv + 1);
	case 8:
		return cmd_region(argc - 1, argv + 1);
	case 9:
		return cmd_hot(argc - 1, argv + 1);
	default:
		return usage_error(match_word(argv[0], objects) == -EINVAL ?
				   "ambiguous object '%s'." : "unknown object '%s'.", argv[0]);
	}
}
