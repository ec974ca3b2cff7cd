// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: this node's identity (id and the address peers reach it at).
 */
#include <linux/mutex.h>

#include "dsm.h"

static DEFINE_MUTEX(dsm_node_lock);
static struct dsm_node_config dsm_node;

/**
 * dsm_node_get() - read this node's configuration
 * @out: filled in; @out->id is 0 while the node is not configured
 */
void dsm_node_get(struct dsm_node_config *out)
{
	mutex_lock(&dsm_node_lock);
	*out = dsm_node;
	mutex_unlock(&dsm_node_lock);
}

/**
 * dsm_node_set() - configure this node
 * @cfg: the new id, address and port, already validated
 */
void dsm_node_set(const struct dsm_node_config *cfg)
{
	mutex_lock(&dsm_node_lock);
	dsm_node = *cfg;
	mutex_unlock(&dsm_node_lock);
	pr_info("node %u at %pI4:%u\n", cfg->id, &cfg->addr, cfg->port);
}
