/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: this node's identity (node.c), and the node-set convention. The
 * lowest layer: every other file may include it.
 */
#ifndef _DSM_NODE_H
#define _DSM_NODE_H

#include <linux/types.h>

/**
 * struct dsm_node_config - this node's identity in the cluster
 * @id:              node id, 1..DSM_MAX_NODES; 0 while not configured
 * @addr:            IPv4 address peers reach this node at
 * @port:            TCP port peers reach this node at
 * @cluster_id:      the cluster this node belongs to
 * @dead_timeout_ms: a member silent this long is lost
 */
struct dsm_node_config {
	u32 id;
	__be32 addr;
	u16 port;
	u64 cluster_id;
	u32 dead_timeout_ms;
};

void dsm_node_get(struct dsm_node_config *out);
void dsm_node_set(const struct dsm_node_config *cfg);
u32 dsm_self_id(void);
u64 dsm_cluster_id(void);
u32 dsm_dead_timeout_ms(void);

/*
 * Node sets of the coherence layer are u64 masks, bit (id % 64) per node id
 * (ids are 1..64, so node 64 is bit 0), the convention of kernel/coherence.
 */
static inline u64 dsm_node_bit(u32 id)
{
	return 1ULL << (id % 64);
}

#endif /* _DSM_NODE_H */
