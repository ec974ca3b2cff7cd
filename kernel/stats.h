/* SPDX-License-Identifier: GPL-2.0 */
/* dsm: the module's counters (stats.c), reported by `dsmctl show`. */
#ifndef _DSM_STATS_H
#define _DSM_STATS_H

#include <linux/atomic.h>
#include <linux/dsm.h>

struct sk_buff;

extern atomic64_t dsm_stats[__DSM_STAT_MAX];

static inline void dsm_stat_inc(enum dsm_stat stat)
{
	atomic64_inc(&dsm_stats[stat]);
}

int dsm_stats_put(struct sk_buff *skb);
void dsm_stats_reset(void);

#endif /* _DSM_STATS_H */
