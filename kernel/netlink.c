// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the "dsm" generic netlink family (configuration and status).
 *
 * The family parses its own attributes (resv_start_op past the last command
 * keeps the genetlink core from doing it) so that every rejected request can
 * be counted in DSM_STAT_BAD_NETLINK; the parse is still strict, with the
 * policy below, and every rejection carries an extended-ack message.
 */
#include <linux/in.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "dsm.h"

static const struct nla_policy dsm_nl_policy[DSM_A_MAX + 1] = {
	[DSM_A_NODE_ID] = NLA_POLICY_RANGE(NLA_U32, 1, DSM_MAX_NODES),
	[DSM_A_NODE_ADDR] = { .type = NLA_BE32 },
	[DSM_A_NODE_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
};

static struct genl_family dsm_genl_family;

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
	struct nlattr *tb[DSM_A_MAX + 1];
	struct dsm_node_config cfg = { .port = DSM_DEFAULT_PORT };
	int err;

	err = dsm_nl_parse(info, tb);
	if (err)
		return dsm_nl_reject(info, err);
	if (!DSM_NL_REQUIRE(info, tb, DSM_A_NODE_ID, "node id is required") ||
	    !DSM_NL_REQUIRE(info, tb, DSM_A_NODE_ADDR,
			    "node address is required"))
		return dsm_nl_reject(info, -EINVAL);

	cfg.id = nla_get_u32(tb[DSM_A_NODE_ID]);
	cfg.addr = nla_get_be32(tb[DSM_A_NODE_ADDR]);
	if (tb[DSM_A_NODE_PORT])
		cfg.port = nla_get_u16(tb[DSM_A_NODE_PORT]);
	if (!dsm_addr_is_unicast(cfg.addr)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[DSM_A_NODE_ADDR],
				    "node address must be a unicast, non-loopback IPv4 address");
		return dsm_nl_reject(info, -EINVAL);
	}

	dsm_node_set(&cfg);
	return 0;
}

static int dsm_nl_fill_status(struct sk_buff *msg)
{
	struct dsm_node_config cfg;

	dsm_node_get(&cfg);
	if (nla_put_string(msg, DSM_A_VERSION, THIS_MODULE->version) ||
	    nla_put_u32(msg, DSM_A_NODE_ID, cfg.id) ||
	    nla_put_u32(msg, DSM_A_REGIONS, dsm_regions_count()) ||
	    nla_put_u64_64bit(msg, DSM_A_PAGES, dsm_pages_count(), DSM_A_PAD))
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
};

static struct genl_family dsm_genl_family __ro_after_init = {
	.name = DSM_GENL_NAME,
	.version = DSM_GENL_VERSION,
	.module = THIS_MODULE,
	.small_ops = dsm_genl_ops,
	.n_small_ops = ARRAY_SIZE(dsm_genl_ops),
	.resv_start_op = __DSM_CMD_MAX,
};

/**
 * dsm_netlink_init() - register the generic netlink family
 *
 * Return: 0 or a negative errno.
 */
int __init dsm_netlink_init(void)
{
	return genl_register_family(&dsm_genl_family);
}

/**
 * dsm_netlink_exit() - unregister the generic netlink family
 */
void dsm_netlink_exit(void)
{
	genl_unregister_family(&dsm_genl_family);
}
