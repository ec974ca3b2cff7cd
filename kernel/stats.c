// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: per-node event counters, reported over netlink.
 */
#include <net/netlink.h>

#include "dsm.h"

atomic64_t dsm_stats[__DSM_STAT_MAX];

/**
 * dsm_stats_reset() - set every counter to zero (DSM_CMD_STATS_RESET)
 */
void dsm_stats_reset(void)
{
	int stat;

	for (stat = 0; stat < __DSM_STAT_MAX; stat++)
		atomic64_set(&dsm_stats[stat], 0);
}

/**
 * dsm_stats_put() - add the DSM_A_STATS nest to a message
 * @skb: the message
 *
 * Return: 0 or -EMSGSIZE.
 */
int dsm_stats_put(struct sk_buff *skb)
{
	struct nlattr *nest;
	int stat;

	nest = nla_nest_start(skb, DSM_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (stat = DSM_STAT_PAD + 1; stat <= DSM_STAT_MAX; stat++)
		if (nla_put_u64_64bit(skb, stat, atomic64_read(&dsm_stats[stat]),
				      DSM_STAT_PAD))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}
