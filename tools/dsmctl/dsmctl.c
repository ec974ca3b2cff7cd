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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "nl.h"
#include "parse.h"

enum { EXIT_OK, EXIT_USAGE, EXIT_KERNEL, EXIT_NOMODULE };

static const char *const stat_names[DSM_STAT_MAX + 1] = {
	[DSM_STAT_FAULTS] = "faults",
	[DSM_STAT_ZERO_FILLS] = "zero_fills",
	[DSM_STAT_REGIONS_CREATED] = "regions_created",
	[DSM_STAT_REGIONS_DESTROYED] = "regions_destroyed",
	[DSM_STAT_BAD_IOCTL] = "bad_ioctl",
	[DSM_STAT_BAD_MMAP] = "bad_mmap",
	[DSM_STAT_BAD_NETLINK] = "bad_netlink",
};

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
	      "  dsmctl show                          this node: identity, regions, counters\n"
	      "  dsmctl node set id ID addr ADDR [port PORT]\n"
	      "                                       set this node's id (1-64) and the IPv4\n"
	      "                                       address and TCP port peers reach it at\n"
	      "  dsmctl help | node help\n"
	      "\n"
	      "Options: -j JSON output, -p pretty JSON, -V version, -h help.\n"
	      "Exit status: 0 ok, 1 usage error, 2 refused by the kernel,\n"
	      "3 the dsm module is not loaded.\n", f);
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
	out_u64("regions", "regions: %llu\n", get_u32(tb[DSM_A_REGIONS]));
	out_u64("pages", "pages: %llu\n", get_u64(tb[DSM_A_PAGES]));
	show_stats(tb[DSM_A_STATS]);
	out_end();
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	struct dsm_nl nl;
	int ret;

	if (argc > 0)
		return usage_error("unexpected argument '%s'.", argv[0]);
	ret = family_connect(&nl);
	if (ret)
		return ret;
	ret = run(dsm_nl_msg(&nl, DSM_CMD_GET), &nl, show_reply, NULL);
	dsm_nl_close(&nl);
	return ret;
}

static int cmd_node_set(int argc, char **argv)
{
	static const char *const keys[] = { "id", "addr", "port", NULL };
	uint32_t id = 0, addr = 0, port = 0;
	int have_addr = 0, have_port = 0;
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
		    (have_port && nla_put_u16(msg, DSM_A_NODE_PORT, port)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	ret = run(msg, &nl, NULL, NULL);
	dsm_nl_close(&nl);
	return ret;
}

static int cmd_node(int argc, char **argv)
{
	static const char *const cmds[] = { "set", "help", NULL };

	if (argc < 1)
		return usage_error("%s", "'node' needs a command.");
	switch (match_word(argv[0], cmds)) {
	case 0:
		return cmd_node_set(argc - 1, argv + 1);
	case 1:
		print_help(stdout);
		return EXIT_OK;
	default:
		return usage_error("unknown node command '%s'.", argv[0]);
	}
}

int main(int argc, char **argv)
{
	static const char *const objects[] = { "show", "node", "help", NULL };
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
		print_help(stdout);
		return EXIT_OK;
	default:
		return usage_error("unknown object '%s'.", argv[0]);
	}
}
