// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the "dsm" generic netlink family (configuration, membership, status,
 * events).
 *
 * The family parses its own attributes (resv_start_op past the last command
 * keeps the genetlink core from doing it) so that every rejected request can
 * be counted in DSM_STAT_BAD_NETLINK; the parse is still strict, with the
 * policy below, and every rejection carries an extended-ack message.
 * Operations run in parallel (join and leave wait on the network); the
 * membership code serialises what must be.
 */
#include <linux/in.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "dsm.h"

/* not const: 6.1's policy points at it without const */
static struct netlink_range_validation dsm_dead_timeout_range = {
	.min = DSM_DEAD_TIMEOUT_MIN,
	.max = DSM_DEAD_TIMEOUT_MAX,
};

static struct netlink_range_validation dsm_mem_max_range = {
	.max = DSM_MEM_MAX_MIB_MAX,
};

static const struct nla_policy dsm_nl_policy[DSM_A_MAX + 1] = {
	[DSM_A_NODE_ID] = NLA_POLICY_RANGE(NLA_U32, 1, DSM_MAX_NODES),
	[DSM_A_NODE_ADDR] = { .type = NLA_BE32 },
	[DSM_A_NODE_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[DSM_A_CLUSTER_ID] = NLA_POLICY_MIN(NLA_U64, 1),
	[DSM_A_DEAD_TIMEOUT_MS] = NLA_POLICY_FULL_RANGE(NLA_U32,
							&dsm_dead_timeout_range),
	[DSM_A_CLUSTER_KEY] = { .type = NLA_BINARY, .len = DSM_KEY_LEN },
	[DSM_A_CONTACT_ADDR] = { .type = NLA_BE32 },
	[DSM_A_CONTACT_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[DSM_A_REGION_KEY] = { .type = NLA_U64 },
	[DSM_A_MEM_MAX_MIB] = NLA_POLICY_FULL_RANGE(NLA_U32, &dsm_mem_max_range),
};

static struct genl_family dsm_genl_family;
static bool dsm_nl_events_on;

static int dsm_nl_reject(struct genl_info *info, int err)
{
	dsm_stat_inc(DSM_STAT_BAD_NETLINK);
	return err;
}

static int dsm_nl_parse(struct genl_info *info, struct nlattr **tb)
{
	if (info->genlhdr->reserved) {
		GENL_SET_ERR_MSG(info, "reserved header field must be zero");
		return -EINVAL;
	}
	return nlmsg_parse(info->nlhdr, GENL_HDRLEN, tb, DSM_A_MAX,
			   dsm_nl_policy, info->extack);
}

/*
 * A dump parses its request in its first call, where the extended ack
 * exists on every kernel (6.1 gives a dump's start callback none): an error
 * ends the dump, and NLMSG_DONE carries the errno and the message. A
 * region key in the request makes cb->args[2] 1 and cb->args[3] the key;
 * cb->args[5] notes that the request was parsed.
 */
static int dsm_nl_dump_begin(struct netlink_callback *cb)
{
	const struct genlmsghdr *hdr = nlmsg_data(cb->nlh);
	struct nlattr *tb[DSM_A_MAX + 1];
	int err;

	if (cb->args[5])
		return 0;
	cb->args[5] = 1;
	if (hdr->reserved) {
		NL_SET_ERR_MSG(cb->extack, "reserved header field must be zero");
		err = -EINVAL;
	} else {
		err = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, DSM_A_MAX,
				  dsm_nl_policy, cb->extack);
	}
	if (err) {
		dsm_stat_inc(DSM_STAT_BAD_NETLINK);
		return err;
	}
	if (tb[DSM_A_REGION_KEY]) {
		cb->args[2] = 1;
		cb->args[3] = nla_get_u64(tb[DSM_A_REGION_KEY]);
	}
	return 0;
}

/* Does the dump show the region with @key? (all, or the one asked for) */
static bool dsm_nl_dump_wants(struct netlink_callback *cb, u64 key)
{
	return !cb->args[2] || key == (u64)cb->args[3];
}

/* A missing attribute: name it in the ack (type) and in words (msg). */
#define DSM_NL_REQUIRE(info, tb, attr, msg) ({				\
	struct genl_info *__info = (info);				\
	int __attr = (attr);						\
	bool __present = (tb)[__attr];					\
									\
	if (!__present) {						\
		NL_SET_ERR_ATTR_MISS(__info->extack, NULL, __attr);	\
		GENL_SET_ERR_MSG(__info, msg);				\
	}								\
	__present;							\
})

static bool dsm_addr_is_unicast(__be32 addr)
{
	return !ipv4_is_zeronet(addr) && !ipv4_is_multicast(addr) &&
	       !ipv4_is_lbcast(addr) && !ipv4_is_loopback(addr);
}

static int dsm_nl_node_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[DSM_A_MAX + 1], *key;
	struct dsm_node_config cfg;
	int err;

	err = dsm_nl_parse(info, tb);
	if (err)
		return dsm_nl_reject(info, err);
	if (!DSM_NL_REQUIRE(info, tb, DSM_A_NODE_ID, "node id is required") ||
	    !DSM_NL_REQUIRE(info, tb, DSM_A_NODE_ADDR,
			    "node address is required"))
		return dsm_nl_reject(info, -EINVAL);

	dsm_node_get(&cfg);	/* optional attributes keep their values */
	cfg.id = nla_get_u32(tb[DSM_A_NODE_ID]);
	cfg.addr = nla_get_be32(tb[DSM_A_NODE_ADDR]);
	if (tb[DSM_A_NODE_PORT])
		cfg.port = nla_get_u16(tb[DSM_A_NODE_PORT]);
	if (tb[DSM_A_CLUSTER_ID])
		cfg.cluster_id = nla_get_u64(tb[DSM_A_CLUSTER_ID]);
	if (tb[DSM_A_DEAD_TIMEOUT_MS])
		cfg.dead_timeout_ms = nla_get_u32(tb[DSM_A_DEAD_TIMEOUT_MS]);
	if (!dsm_addr_is_unicast(cfg.addr)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[DSM_A_NODE_ADDR],
				    "node address must be a unicast, non-loopback IPv4 address");
		return dsm_nl_reject(info, -EINVAL);
	}
	key = tb[DSM_A_CLUSTER_KEY];
	if (key && nla_len(key) && nla_len(key) != DSM_KEY_LEN) {
		NL_SET_ERR_MSG_ATTR(info->extack, key,
				    "cluster key must be 32 bytes (or empty to clear it)");
		return dsm_nl_reject(info, -EINVAL);
	}
	return dsm_cluster_configure(&cfg, key && nla_len(key) ? nla_data(key) : NULL,
				     key && !nla_len(key), info->extack);
}

static int dsm_nl_join(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[DSM_A_MAX + 1];
	u16 port = DSM_DEFAULT_PORT;
	__be32 addr;
	int err;

	err = dsm_nl_parse(info, tb);
	if (err)
		return dsm_nl_reject(info, err);
	if (!tb[DSM_A_CONTACT_ADDR])
		return dsm_cluster_form(info->extack);
	addr = nla_get_be32(tb[DSM_A_CONTACT_ADDR]);
	if (!dsm_addr_is_unicast(addr)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[DSM_A_CONTACT_ADDR],
				    "contact address must be a unicast, non-loopback IPv4 address");
		return dsm_nl_reject(info, -EINVAL);
	}
	if (tb[DSM_A_CONTACT_PORT])
		port = nla_get_u16(tb[DSM_A_CONTACT_PORT]);
	return dsm_cluster_join(addr, port, info->extack);
}

static int dsm_nl_leave(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[DSM_A_MAX + 1];
	int err;

	err = dsm_nl_parse(info, tb);
	if (err)
		return dsm_nl_reject(info, err);
	return dsm_cluster_leave(false, info->extack);
}

static int dsm_nl_stats_reset(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[DSM_A_MAX + 1];
	int err;

	err = dsm_nl_parse(info, tb);
	if (err)
		return dsm_nl_reject(info, err);
	dsm_stats_reset();
	return 0;
}

static int dsm_nl_limit_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[DSM_A_MAX + 1];
	int err;

	err = dsm_nl_parse(info, tb);
	if (err)
		return dsm_nl_reject(info, err);
	if (!DSM_NL_REQUIRE(info, tb, DSM_A_MEM_MAX_MIB,
			    "the memory cap (MiB, 0 for none) is required"))
		return dsm_nl_reject(info, -EINVAL);
	dsm_pages_set_mem_max(nla_get_u32(tb[DSM_A_MEM_MAX_MIB]));
	return 0;
}

static int dsm_nl_fill_status(struct sk_buff *msg)
{
	struct dsm_node_config cfg;

	dsm_node_get(&cfg);
	if (nla_put_string(msg, DSM_A_VERSION, THIS_MODULE->version) ||
	    nla_put_u32(msg, DSM_A_NODE_ID, cfg.id) ||
	    nla_put_u64_64bit(msg, DSM_A_CLUSTER_ID, cfg.cluster_id, DSM_A_PAD) ||
	    nla_put_u32(msg, DSM_A_DEAD_TIMEOUT_MS, cfg.dead_timeout_ms) ||
	    nla_put_u8(msg, DSM_A_KEYED, dsm_hs_keyed()) ||
	    nla_put_u64_64bit(msg, DSM_A_EPOCH, dsm_members_epoch(), DSM_A_PAD) ||
	    nla_put_u32(msg, DSM_A_MEMBERS, dsm_members_count()) ||
	    nla_put_u32(msg, DSM_A_COORDINATOR, dsm_members_coordinator()) ||
	    nla_put_u32(msg, DSM_A_FENCED_MS, dsm_net_fenced_ms()) ||
	    nla_put_u32(msg, DSM_A_REGIONS, dsm_regions_count()) ||
	    nla_put_u64_64bit(msg, DSM_A_PAGES, dsm_pages_count(), DSM_A_PAD) ||
	    nla_put_u64_64bit(msg, DSM_A_CLUSTER_PAGES, dsm_pages_cluster_count(),
			      DSM_A_PAD) ||
	    nla_put_u32(msg, DSM_A_MEM_MAX_MIB, dsm_pages_mem_max()))
		return -EMSGSIZE;
	if (cfg.id && (nla_put_be32(msg, DSM_A_NODE_ADDR, cfg.addr) ||
		       nla_put_u16(msg, DSM_A_NODE_PORT, cfg.port)))
		return -EMSGSIZE;
	return dsm_stats_put(msg);
}

static int dsm_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[DSM_A_MAX + 1];
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = dsm_nl_parse(info, tb);
	if (err)
		return dsm_nl_reject(info, err);

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &dsm_genl_family, 0, DSM_CMD_GET);
	if (!hdr) {
		err = -EMSGSIZE;
		goto free_msg;
	}
	err = dsm_nl_fill_status(msg);
	if (err)
		goto free_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

free_msg:
	nlmsg_free(msg);
	return err;
}

/* One message per member peer; cb->args[0] is the next node id to show. */
static int dsm_nl_peer_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	u32 id, self = dsm_self_id();
	void *hdr;

	cb->seq = dsm_members_epoch();	/* a change marks the dump interrupted */
	for (id = max_t(u32, cb->args[0], 1); id <= DSM_MAX_NODES; id++) {
		if (id == self || !dsm_members_has(id))
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &dsm_genl_family,
				  NLM_F_MULTI, DSM_CMD_PEER_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (dsm_peer_fill(skb, id)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	cb->args[0] = id;
	return skb->len;
}

static int dsm_nl_fill_region(struct sk_buff *msg, const struct dsm_region_info *ri)
{
	struct nlattr *nest = nla_nest_start(msg, DSM_A_REGION);

	if (!nest ||
	    nla_put_u64_64bit(msg, DSM_REGION_A_KEY, ri->key, DSM_REGION_A_PAD) ||
	    nla_put_u64_64bit(msg, DSM_REGION_A_SIZE, ri->size, DSM_REGION_A_PAD) ||
	    nla_put_u8(msg, DSM_REGION_A_CLUSTER, ri->cluster) ||
	    nla_put_u64_64bit(msg, DSM_REGION_A_HOMES, ri->homes, DSM_REGION_A_PAD) ||
	    nla_put_u32(msg, DSM_REGION_A_MAPPINGS, ri->mappings) ||
	    nla_put_u32(msg, DSM_REGION_A_FILES, ri->files) ||
	    nla_put_u64_64bit(msg, DSM_REGION_A_HELD, ri->held, DSM_REGION_A_PAD) ||
	    nla_put_u64_64bit(msg, DSM_REGION_A_OWNED, ri->owned, DSM_REGION_A_PAD) ||
	    nla_put_u64_64bit(msg, DSM_REGION_A_HOMED, ri->homed, DSM_REGION_A_PAD) ||
	    nla_put_u8(msg, DSM_REGION_A_COPIES, ri->copies) ||
	    nla_put_u64_64bit(msg, DSM_REGION_A_REPLICAS, ri->replicas, DSM_REGION_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* One message per region; cb->args[0]: the next region's place in the table. */
static int dsm_nl_region_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct dsm_region_info ri;
	int err = dsm_nl_dump_begin(cb);
	struct dsm_region *r;
	void *hdr;

	if (err)
		return err;
	for (; (r = dsm_region_get_nth(cb->args[0])); cb->args[0]++) {
		if (!dsm_nl_dump_wants(cb, r->key)) {	/* no walk of its pages */
			dsm_region_put(r);
			continue;
		}
		dsm_region_info(r, &ri);
		dsm_region_put(r);
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &dsm_genl_family, NLM_F_MULTI, DSM_CMD_REGION_GET);
		if (!hdr)
			break;
		if (dsm_nl_fill_region(skb, &ri)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	return skb->len;
}

static int dsm_nl_fill_hot(struct sk_buff *msg, u64 key, unsigned long index,
			   const struct dsm_page_hot *hot)
{
	struct nlattr *nest = nla_nest_start(msg, DSM_A_HOT);

	if (!nest ||
	    nla_put_u64_64bit(msg, DSM_HOT_A_KEY, key, DSM_HOT_A_PAD) ||
	    nla_put_u64_64bit(msg, DSM_HOT_A_INDEX, index, DSM_HOT_A_PAD) ||
	    nla_put_u32(msg, DSM_HOT_A_HOME, hot->home) ||
	    nla_put_u32(msg, DSM_HOT_A_FAULTS, hot->faults) ||
	    nla_put_u32(msg, DSM_HOT_A_LOST, hot->lost) ||
	    nla_put_u32(msg, DSM_HOT_A_MOVES, hot->moves) ||
	    nla_put_u64_64bit(msg, DSM_HOT_A_NODES, hot->nodes, DSM_HOT_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* The pages of one region from cb->args[1] on; false once the skb is full. */
static bool dsm_nl_hot_region(struct sk_buff *skb, struct netlink_callback *cb,
			      struct dsm_region *r)
{
	unsigned long index = cb->args[1];
	struct dsm_page_hot hot;
	void *hdr;

	while (dsm_pages_hot_next(r, &index, &hot)) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &dsm_genl_family, NLM_F_MULTI, DSM_CMD_HOT_GET);
		if (!hdr)
			return false;
		if (dsm_nl_fill_hot(skb, r->key, index, &hot)) {
			genlmsg_cancel(skb, hdr);
			return false;
		}
		genlmsg_end(skb, hdr);
		cb->args[1] = ++index;
		if (!index)	/* the last index there is */
			break;
	}
	return true;
}

/*
 * One message per page with a count, region by region: cb->args[0] is the
 * region's place in the table, cb->args[1] the next page of the region
 * whose key is cb->args[4] (a region that took that place meanwhile starts
 * at page 0).
 */
static int dsm_nl_hot_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	int err = dsm_nl_dump_begin(cb);
	struct dsm_region *r;
	bool more = true;

	if (err)
		return err;
	while (more && (r = dsm_region_get_nth(cb->args[0]))) {
		if (r->key != (u64)cb->args[4]) {
			cb->args[4] = r->key;
			cb->args[1] = 0;
		}
		if (dsm_nl_dump_wants(cb, r->key))
			more = dsm_nl_hot_region(skb, cb, r);
		dsm_region_put(r);
		if (more) {
			cb->args[0]++;
			cb->args[1] = 0;
		}
	}
	return skb->len;
}

static const struct genl_small_ops dsm_genl_ops[] = {
	{
		.cmd = DSM_CMD_GET,
		.doit = dsm_nl_get,
	},
	{
		.cmd = DSM_CMD_NODE_SET,
		.flags = GENL_ADMIN_PERM,
		.doit = dsm_nl_node_set,
	},
	{
		.cmd = DSM_CMD_JOIN,
		.flags = GENL_ADMIN_PERM,
		.doit = dsm_nl_join,
	},
	{
		.cmd = DSM_CMD_LEAVE,
		.flags = GENL_ADMIN_PERM,
		.doit = dsm_nl_leave,
	},
	{
		.cmd = DSM_CMD_PEER_GET,
		.dumpit = dsm_nl_peer_dump,
	},
	{
		.cmd = DSM_CMD_REGION_GET,
		.flags = GENL_ADMIN_PERM,	/* a key is all it takes to attach */
		.dumpit = dsm_nl_region_dump,
	},
	{
		.cmd = DSM_CMD_HOT_GET,
		.flags = GENL_ADMIN_PERM,	/* it names region keys */
		.dumpit = dsm_nl_hot_dump,
	},
	{
		.cmd = DSM_CMD_STATS_RESET,
		.flags = GENL_ADMIN_PERM,
		.doit = dsm_nl_stats_reset,
	},
	{
		.cmd = DSM_CMD_LIMIT_SET,
		.flags = GENL_ADMIN_PERM,
		.doit = dsm_nl_limit_set,
	},
};

static const struct genl_multicast_group dsm_genl_mcgrps[] = {
	{ .name = DSM_GENL_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static struct genl_family dsm_genl_family __ro_after_init = {
	.name = DSM_GENL_NAME,
	.version = DSM_GENL_VERSION,
	.module = THIS_MODULE,
	.parallel_ops = true,
	.small_ops = dsm_genl_ops,
	.n_small_ops = ARRAY_SIZE(dsm_genl_ops),
	.mcgrps = dsm_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(dsm_genl_mcgrps),
	.resv_start_op = __DSM_CMD_MAX,
};

/**
 * dsm_nl_event() - tell the events group what happened
 * @event:  DSM_EVENT_*
 * @node:   the node concerned
 * @reason: DSM_REASON_* (PEER_DOWN), else 0
 */
void dsm_nl_event(u32 event, u32 node, u32 reason)
{
	struct sk_buff *msg;
	void *hdr;

	if (!READ_ONCE(dsm_nl_events_on))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &dsm_genl_family, 0, DSM_CMD_EVENT);
	if (!hdr || nla_put_u32(msg, DSM_A_EVENT, event) ||
	    nla_put_u32(msg, DSM_A_PEER_ID, node) ||
	    nla_put_u64_64bit(msg, DSM_A_EPOCH, dsm_members_epoch(), DSM_A_PAD) ||
	    nla_put_u32(msg, DSM_A_REASON, reason)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&dsm_genl_family, msg, 0, 0, GFP_KERNEL);
}

/**
 * dsm_netlink_init() - register the generic netlink family
 *
 * Return: 0 or a negative errno.
 */
int __init dsm_netlink_init(void)
{
	int err = genl_register_family(&dsm_genl_family);

	if (!err)
		WRITE_ONCE(dsm_nl_events_on, true);
	return err;
}

/**
 * dsm_netlink_exit() - unregister the family (waits for running operations)
 */
void dsm_netlink_exit(void)
{
	WRITE_ONCE(dsm_nl_events_on, false);
	genl_unregister_family(&dsm_genl_family);
}
