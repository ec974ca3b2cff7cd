// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: this node's identity (id, the address peers reach it at, the cluster
 * it belongs to and its dead timeout). Written rarely, under a mutex, and
 * read everywhere: the fields the transport needs are also readable
 * locklessly.
 */
#include <linux/mutex.h>

#include "dsm.h"

static DEFINE_MUTEX(dsm_node_lock);
static struct dsm_node_config dsm_node = {
	.port = DSM_DEFAULT_PORT,
	.cluster_id = 1,
	.dead_timeout_ms = DSM_DEAD_TIMEOUT_DEFAULT,
};

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
 * @cfg: the new configuration, already validated
 */
void dsm_node_set(const struct dsm_node_config *cfg)
{
	mutex_lock(&dsm_node_lock);
	WRITE_ONCE(dsm_node.id, cfg->id);
	dsm_node.addr = cfg->addr;
	dsm_node.port = cfg->port;
	WRITE_ONCE(dsm_node.cluster_id, cfg->cluster_id);
	WRITE_ONCE(dsm_node.dead_timeout_ms, cfg->dead_timeout_ms);
	mutex_unlock(&dsm_node_lock);
	pr_info("node %u at %pI4:%u, cluster %llu\n", cfg->id, &cfg->addr,
		cfg->port, cfg->cluster_id);
}

/**
 * dsm_self_id() - this node's id, 0 while not configured (lockless)
 *
 * Return: the id.
 */
u32 dsm_self_id(void)
{
	return READ_ONCE(dsm_node.id);
}

/**
 * dsm_cluster_id() - the configured cluster id (lockless)
 *
 * Return: the id.
 */
u64 dsm_cluster_id(void)
{
	return READ_ONCE(dsm_node.cluster_id);
}

/**
 * dsm_dead_timeout_ms() - the configured dead timeout (lockless)
 *
 * Return: milliseconds.
 */
u32 dsm_dead_timeout_ms(void)
{
	return READ_ONCE(dsm_node.dead_timeout_ms);
}
